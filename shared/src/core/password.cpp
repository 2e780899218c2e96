#include "clickrace/core/password.hpp"

#include <sodium.h>

#include <mutex>
#include <stdexcept>

namespace clickrace::core {

void init_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialized");
  });
}

PasswordLimits PasswordLimits::interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

PasswordLimits PasswordLimits::minimal() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

Result<std::string> hash_password(std::string_view password, PasswordLimits limits) {
  init_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), limits.ops, limits.mem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return make_error("could not hash password");
  }
  return std::string(out);
}

bool verify_password(std::string_view stored, std::string_view password) {
  init_sodium();
  // libsodium wants a NUL-terminated hash that fits its buffer.
  if (stored.empty() || stored.size() >= crypto_pwhash_STRBYTES) return false;
  std::string hash(stored);
  if (hash.find('\0') != std::string::npos) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace clickrace::core
