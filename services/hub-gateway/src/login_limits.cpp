#include "login_limits.hpp"

#include "clickrace/core/validation.hpp"

namespace clickrace::gateway {
namespace {

// "alice@203.0.113.5": at most 24 + 1 + ~45 bytes ('@' is in neither a name nor an address).
std::string failure_key(std::string_view client, std::string_view name) {
  std::string key = core::name_key(name);
  key += '@';
  key.append(client.data(), client.size());
  return key;
}

}  // namespace

LoginLimiter::LoginLimiter(const LoginLimits& limits)
    : clients_(limits.attempts_per_min / 60.0, limits.attempts_per_min, limits.max_keys),
      failures_(limits.failures_per_min / 60.0, limits.failures_per_min, limits.max_keys) {}

bool LoginLimiter::admit(std::string_view client, std::string_view name, std::int64_t now_ms) {
  if (!clients_.try_take(client, now_ms)) return false;
  if (name.empty() || core::validate_name(name)) return true;
  // Taken now and given back unless the login fails: concurrent attempts cannot all pass.
  return failures_.try_take(failure_key(client, name), now_ms);
}

void LoginLimiter::not_failed(std::string_view client, std::string_view name, std::int64_t now_ms) {
  if (name.empty() || core::validate_name(name)) return;
  failures_.give_back(failure_key(client, name), now_ms);
}

}  // namespace clickrace::gateway
