#include "clickrace/redis/script.hpp"

#include <openssl/sha.h>

namespace clickrace::redis {

std::string sha1_hex(const std::string& data) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA_DIGEST_LENGTH);
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

Script::Script(std::string source)
    : source_(std::make_shared<const std::string>(std::move(source))), sha1_(sha1_hex(*source_)) {}

void Script::call(Client& client, std::vector<std::string> keys, std::vector<std::string> args,
                  Client::Callback cb, std::chrono::milliseconds timeout, bool asking) const {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.emplace_back("EVALSHA");
  argv.push_back(sha1_);
  argv.push_back(std::to_string(keys.size()));
  for (auto& k : keys) argv.push_back(std::move(k));
  for (auto& a : args) argv.push_back(std::move(a));
  // The arguments are kept for the (rare) retry; the client is alive whenever a reply arrives
  // (a destroyed Client drops its callbacks).
  auto retry_argv = argv;
  if (asking)
    client.command(
        {"ASKING"}, [](Result<Reply>) {}, timeout);
  client.command(
      std::move(argv),
      [&client, source = source_, retry_argv = std::move(retry_argv), cb = std::move(cb), timeout,
       asking](Result<Reply> r) mutable {
        if (!r.ok() || !r->is_error_code("NOSCRIPT")) return cb(std::move(r));
        // The server lost its script cache: EVAL runs the script and caches it again.
        retry_argv[0] = "EVAL";
        retry_argv[1] = *source;
        if (asking)
          client.command(
              {"ASKING"}, [](Result<Reply>) {}, timeout);
        client.command(std::move(retry_argv), std::move(cb), timeout);
      },
      timeout);
}

}  // namespace clickrace::redis
