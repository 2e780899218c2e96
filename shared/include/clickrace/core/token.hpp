#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "clickrace/core/result.hpp"

// Signed, expiring tokens any gateway can check without Redis (HMAC-SHA-512/256 via libsodium).
// A token is base64url without padding (URL-safe, so it goes unencoded in `?id=` and
// `access_token=`) of: version(1) kind(1) expires_at(8, big-endian) name_len(1) name
// conn_len(1) connection_id, followed by the 32-byte MAC of all of that.
// Never log a token.
namespace clickrace::core {

enum class TokenKind : uint8_t { login = 1, connection = 2 };

struct Claims {
  TokenKind kind = TokenKind::login;
  std::string name;           // display name, at most 255 bytes
  int64_t expires_at = 0;     // Unix ms; the token is valid while now < expires_at
  std::string connection_id;  // connection tokens only; at most 255 bytes
};

inline constexpr std::size_t kMinSecretBytes = 32;
inline constexpr std::size_t kMaxTokenChars = 1024;  // longer input is rejected unread

// 32 random bytes as 64 lowercase hex characters (for CLICKRACE_TOKEN_SECRET / P token_secret).
std::string generate_secret_hex();

class TokenSigner {
 public:
  // Derives the MAC key from a configured secret string (at least kMinSecretBytes bytes).
  // Error: "token secret must be at least 32 bytes".
  static Result<TokenSigner> from_secret(std::string_view secret);

  // Throws std::invalid_argument when name or connection_id exceed 255 bytes (a caller bug).
  std::string sign(const Claims& claims) const;

  // Errors: "invalid token" (malformed, tampered, wrong key, wrong kind) or "token expired".
  Result<Claims> verify(std::string_view token, TokenKind expected, int64_t now_ms) const;

 private:
  explicit TokenSigner(const std::array<unsigned char, 32>& key) : key_(key) {}
  std::array<unsigned char, 32> key_;
};

}  // namespace clickrace::core
