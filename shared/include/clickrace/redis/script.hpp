#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "clickrace/redis/client.hpp"

namespace clickrace::redis {

// A Lua script called by EVALSHA. The SHA1 is computed locally (libcrypto) at construction.
// When Redis answers NOSCRIPT (restart without persistence of the script cache, SCRIPT FLUSH,
// failover), call() transparently retries once with EVAL, which also loads the script.
// Script is a cheap, copyable value; it need not outlive the calls it started.
class Script {
 public:
  explicit Script(std::string source);

  const std::string& sha1() const { return sha1_; }  // 40 lowercase hex digits
  const std::string& source() const { return *source_; }

  // EVALSHA sha1 numkeys keys... args...; the callback semantics are Client::command()'s, and a
  // Lua error is an error Reply. The timeout applies to each attempt (so at most twice it overall).
  void call(Client& client, std::vector<std::string> keys, std::vector<std::string> args,
            Client::Callback cb, std::chrono::milliseconds timeout) const;
  void call(Client& client, std::vector<std::string> keys, std::vector<std::string> args,
            Client::Callback cb) const {
    call(client, std::move(keys), std::move(args), std::move(cb), client.options().command_timeout);
  }

 private:
  std::shared_ptr<const std::string> source_;
  std::string sha1_;
};

// SHA1 of `data` as 40 lowercase hex digits (what Redis uses to name scripts).
std::string sha1_hex(const std::string& data);

}  // namespace clickrace::redis
