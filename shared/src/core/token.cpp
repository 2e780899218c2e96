#include "clickrace/core/token.hpp"

#include <sodium.h>

#include <stdexcept>

#include "clickrace/core/password.hpp"

namespace clickrace::core {
namespace {

constexpr unsigned char kVersion = 1;
constexpr int kB64 = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
constexpr std::size_t kMacBytes = crypto_auth_hmacsha512256_BYTES;
// version, kind, expires_at, name_len, conn_len
constexpr std::size_t kFixedBytes = 1 + 1 + 8 + 1 + 1;

Error invalid() { return make_error("invalid token"); }

std::string to_base64(const std::string& bin) {
  std::string out(sodium_base64_encoded_len(bin.size(), kB64), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bin.data()),
                    bin.size(), kB64);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

}  // namespace

std::string generate_secret_hex() {
  init_sodium();
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char hex[sizeof bytes * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return std::string(hex);
}

Result<TokenSigner> TokenSigner::from_secret(std::string_view secret) {
  init_sodium();
  if (secret.size() < kMinSecretBytes) {
    return make_error("token secret must be at least 32 bytes");
  }
  // Hashing gives a fixed-size key from any configured text (hex or not).
  std::array<unsigned char, 32> key{};
  static const unsigned char kContext[] = "clickrace token key v1";
  crypto_generichash(key.data(), key.size(), reinterpret_cast<const unsigned char*>(secret.data()),
                     secret.size(), kContext, sizeof kContext - 1);
  return TokenSigner(key);
}

std::string TokenSigner::sign(const Claims& claims) const {
  if (claims.name.size() > 255 || claims.connection_id.size() > 255) {
    throw std::invalid_argument("token claim too long");
  }
  std::string bin;
  bin.reserve(kFixedBytes + claims.name.size() + claims.connection_id.size() + kMacBytes);
  bin.push_back(static_cast<char>(kVersion));
  bin.push_back(static_cast<char>(claims.kind));
  auto exp = static_cast<uint64_t>(claims.expires_at);
  for (int shift = 56; shift >= 0; shift -= 8) bin.push_back(static_cast<char>(exp >> shift));
  bin.push_back(static_cast<char>(claims.name.size()));
  bin += claims.name;
  bin.push_back(static_cast<char>(claims.connection_id.size()));
  bin += claims.connection_id;
  unsigned char mac[kMacBytes];
  crypto_auth_hmacsha512256(mac, reinterpret_cast<const unsigned char*>(bin.data()), bin.size(),
                            key_.data());
  bin.append(reinterpret_cast<const char*>(mac), kMacBytes);
  return to_base64(bin);
}

Result<Claims> TokenSigner::verify(std::string_view token, TokenKind expected,
                                   int64_t now_ms) const {
  if (token.empty() || token.size() > kMaxTokenChars) return invalid();
  std::string bin(token.size(), '\0');
  size_t bin_len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), token.data(),
                        token.size(), nullptr, &bin_len, &end, kB64) != 0 ||
      end != token.data() + token.size()) {
    return invalid();
  }
  bin.resize(bin_len);
  // Only the canonical encoding is accepted, so one token has exactly one spelling.
  if (to_base64(bin) != token) return invalid();
  if (bin.size() < kFixedBytes + kMacBytes) return invalid();

  const std::size_t body = bin.size() - kMacBytes;
  const auto* p = reinterpret_cast<const unsigned char*>(bin.data());
  if (crypto_auth_hmacsha512256_verify(p + body, p, body, key_.data()) != 0) return invalid();

  // Authentic from here on, but still parsed defensively.
  if (p[0] != kVersion) return invalid();
  Claims claims;
  if (p[1] != static_cast<unsigned char>(TokenKind::login) &&
      p[1] != static_cast<unsigned char>(TokenKind::connection)) {
    return invalid();
  }
  claims.kind = static_cast<TokenKind>(p[1]);
  uint64_t exp = 0;
  for (int i = 0; i < 8; ++i) exp = (exp << 8) | p[2 + i];
  claims.expires_at = static_cast<int64_t>(exp);
  std::size_t pos = 10;
  std::size_t name_len = p[pos++];
  if (pos + name_len + 1 > body) return invalid();
  claims.name.assign(bin, pos, name_len);
  pos += name_len;
  std::size_t conn_len = p[pos++];
  if (pos + conn_len != body) return invalid();
  claims.connection_id.assign(bin, pos, conn_len);

  if (claims.kind != expected) return invalid();
  if (now_ms >= claims.expires_at) return make_error("token expired");
  return claims;
}

}  // namespace clickrace::core
