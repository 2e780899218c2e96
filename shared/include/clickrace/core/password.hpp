#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "clickrace/core/result.hpp"

// argon2id password hashes (libsodium crypto_pwhash_str). CPU- and memory-heavy by design: call
// from a worker thread, never from the event loop. Never log a password or a hash.
namespace clickrace::core {

// Initializes libsodium once (thread-safe, idempotent). Throws std::runtime_error on failure.
void init_sodium();

struct PasswordLimits {
  unsigned long long ops;
  std::size_t mem;
  static PasswordLimits interactive();  // libsodium's INTERACTIVE limits: the default
  static PasswordLimits minimal();      // the library minimum: for tests only
};

// The encoded hash string ("$argon2id$..."), which includes salt and limits.
// Error: "could not hash password" (out of memory).
Result<std::string> hash_password(std::string_view password,
                                  PasswordLimits limits = PasswordLimits::interactive());

// True when `password` matches `stored` (as produced by hash_password). False on any mismatch or
// malformed hash.
bool verify_password(std::string_view stored, std::string_view password);

}  // namespace clickrace::core
