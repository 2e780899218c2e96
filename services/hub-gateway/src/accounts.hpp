#pragma once
#include <functional>
#include <memory>
#include <string>

#include <asio/io_context.hpp>

#include "clickrace/bus/keys.hpp"
#include "clickrace/core/password.hpp"
#include "clickrace/core/token.hpp"
#include "clickrace/redis/cluster_client.hpp"
#include "clickrace/redis/script.hpp"
#include "http_types.hpp"
#include "login_limits.hpp"
#include "metrics.hpp"
#include "routes.hpp"
#include "worker_pool.hpp"

// Registration and login (DESIGN.md §1.2), behind the login limits (login_limits.hpp; 429 when
// refused). Hashing and verification run on the worker pool; Redis calls and the replies happen
// on the event loop. `client` is the caller's client_limit_key().
namespace clickrace::gateway {

inline constexpr const char* kBadLogin = "invalid name or password";

class Accounts {
 public:
  using Respond = std::function<void(HttpResponse)>;

  Accounts(asio::io_context& io, redis::ClusterClient& redis, const bus::Keys& keys,
           WorkerPool& pool, core::PasswordLimits limits, const LoginLimits& login_limits,
           Metrics& metrics);
  ~Accounts();

  // 201 {"name"} | 400 bad name/password | 409 name taken (regardless of case) | 429 | 503.
  void create(Credentials creds, const std::string& client, Respond respond);
  // 200 {"token","name","expiresAt"} | 401 {"error":"invalid name or password"} | 429 | 503.
  void login(Credentials creds, const std::string& client, const core::TokenSigner& signer,
             std::int64_t ttl_ms, Respond respond);

 private:
  bool admit(const std::string& client, const std::string& name);
  void verify_login(Credentials creds, const core::TokenSigner& signer, std::int64_t ttl_ms,
                    Respond respond);
  void store(const Credentials& creds, std::string hash, Respond respond);

  asio::io_context& io_;
  redis::ClusterClient& redis_;
  bus::Keys keys_;
  WorkerPool& pool_;
  core::PasswordLimits limits_;
  Metrics& metrics_;
  LoginLimiter limiter_;  // on the monotonic clock
  redis::Script create_script_;
  std::string dummy_hash_;  // verified against for unknown names, so timing does not tell
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace clickrace::gateway
