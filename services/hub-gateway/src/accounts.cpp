#include "accounts.hpp"

#include <asio/post.hpp>
#include <nlohmann/json.hpp>

#include "clickrace/core/clock.hpp"
#include "clickrace/core/log.hpp"
#include "clickrace/core/validation.hpp"

namespace clickrace::gateway {
namespace {

// Creates the account only if no account has this lowercased key (atomic in Redis).
constexpr const char* kCreateScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[1], 'hash', ARGV[2], 'created', ARGV[3])
return 1
)lua";

HttpResponse unavailable() { return HttpResponse::error(503, "service unavailable"); }

// Limits run on the monotonic clock: a wall clock stepped back would lock players out for the
// size of the step, one stepped forward would hand out fresh attempts.
std::int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Accounts::Accounts(asio::io_context& io, redis::ClusterClient& redis, const bus::Keys& keys,
                   WorkerPool& pool, core::PasswordLimits limits, const LoginLimits& login_limits,
                   Metrics& metrics)
    : io_(io),
      redis_(redis),
      keys_(keys),
      pool_(pool),
      limits_(limits),
      metrics_(metrics),
      limiter_(login_limits),
      create_script_(kCreateScript) {
  create_script_.preload(redis_);  // loaded on every Redis connect: no NOSCRIPT round trip
  auto dummy = core::hash_password("not a real password, only for timing", limits_);
  if (dummy) dummy_hash_ = *dummy;
}

Accounts::~Accounts() = default;

bool Accounts::admit(const std::string& client, const std::string& name) {
  bool ok = limiter_.admit(client, name, steady_ms());
  metrics_.login_limiter_keys = static_cast<std::int64_t>(limiter_.keys());
  if (!ok) ++metrics_.rate_limited_logins;
  return ok;
}

void Accounts::create(Credentials creds, const std::string& client, Respond respond) {
  if (!admit(client, "")) {
    return respond(HttpResponse::error(429, "too many attempts, try again later"));
  }
  if (auto err = core::validate_name(creds.name)) {
    return respond(HttpResponse::error(400, *err));
  }
  if (auto err = core::validate_password(creds.password)) {
    return respond(HttpResponse::error(400, *err));
  }
  // A cheap existence check first, so taken names cost no hashing.
  std::string key = keys_.user(core::name_key(creds.name));
  redis_.command(
      {"EXISTS", key}, [this, creds = std::move(creds), respond = std::move(respond),
                        alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> r) mutable {
        if (alive.expired()) return;
        if (!r || !r->is_integer()) return respond(unavailable());
        if (r->integer() == 1) return respond(HttpResponse::error(409, "name is already taken"));
        auto shared =
            std::make_shared<std::pair<Credentials, Respond>>(std::move(creds), std::move(respond));
        bool queued = pool_.try_submit([this, shared, alive] {
          auto hash = core::hash_password(shared->first.password, limits_);
          asio::post(io_, [this, shared, alive, hash = std::move(hash)]() mutable {
            if (alive.expired()) return;
            if (!hash) return shared->second(unavailable());
            store(shared->first, std::move(*hash), std::move(shared->second));
          });
        });
        if (!queued) shared->second(HttpResponse::error(503, "server busy, try again"));
      });
}

void Accounts::store(const Credentials& creds, std::string hash, Respond respond) {
  std::string created = std::to_string(core::SystemClock::instance().now_ms());
  create_script_.call(redis_, {keys_.user(core::name_key(creds.name))},
                      {creds.name, std::move(hash), created},
                      [this, name = creds.name, respond = std::move(respond),
                       alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> r) {
                        if (alive.expired()) return;
                        if (!r || !r->is_integer()) return respond(unavailable());
                        if (r->integer() == 0)
                          return respond(HttpResponse::error(409, "name is already taken"));
                        ++metrics_.registrations;
                        respond(HttpResponse::json(201, nlohmann::json{{"name", name}}.dump()));
                      });
}

void Accounts::login(Credentials creds, const std::string& client, const core::TokenSigner& signer,
                     std::int64_t ttl_ms, Respond respond) {
  // The name is checked by the limiter before it becomes part of a key.
  if (!admit(client, creds.name)) {
    return respond(HttpResponse::error(429, "too many attempts, try again later"));
  }
  // Only a wrong name or password is a failure of (name, client); a 503 is not the player's.
  std::string name = creds.name;
  verify_login(std::move(creds), signer, ttl_ms,
               [this, client, name, respond = std::move(respond),
                alive = std::weak_ptr<char>(alive_)](HttpResponse r) {
                 if (r.status != 401 && !alive.expired()) {
                   limiter_.not_failed(client, name, steady_ms());
                 }
                 respond(std::move(r));
               });
}

void Accounts::verify_login(Credentials creds, const core::TokenSigner& signer, std::int64_t ttl_ms,
                            Respond respond) {
  // Malformed names cannot exist: answer like a wrong password (no hint either way).
  if (core::validate_name(creds.name) || core::validate_password(creds.password)) {
    ++metrics_.logins_failed;
    return respond(HttpResponse::error(401, kBadLogin));
  }
  redis_.command(
      {"HMGET", keys_.user(core::name_key(creds.name)), "name", "hash"},
      [this, signer, ttl_ms, password = std::move(creds.password), respond = std::move(respond),
       alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> r) mutable {
        if (alive.expired()) return;
        if (!r || !r->is_array() || r->size() != 2) return respond(unavailable());
        bool exists = (*r)[0].is_string() && (*r)[1].is_string();
        auto job = std::make_shared<std::tuple<std::string, std::string, std::string, Respond>>(
            exists ? (*r)[0].str() : std::string(), exists ? (*r)[1].str() : dummy_hash_,
            std::move(password), std::move(respond));
        bool queued = pool_.try_submit([this, job, exists, signer, ttl_ms, alive] {
          bool ok = core::verify_password(std::get<1>(*job), std::get<2>(*job)) && exists;
          asio::post(io_, [this, job, ok, signer, ttl_ms, alive] {
            if (alive.expired()) return;
            auto& respond = std::get<3>(*job);
            if (!ok) {
              ++metrics_.logins_failed;
              return respond(HttpResponse::error(401, kBadLogin));
            }
            core::Claims claims;
            claims.kind = core::TokenKind::login;
            claims.name = std::get<0>(*job);
            claims.expires_at = core::SystemClock::instance().now_ms() + ttl_ms;
            ++metrics_.logins_ok;
            respond(HttpResponse::json(200, nlohmann::json{{"token", signer.sign(claims)},
                                                           {"name", claims.name},
                                                           {"expiresAt", claims.expires_at}}
                                                .dump()));
          });
        });
        if (!queued) std::get<3> (*job)(HttpResponse::error(503, "server busy, try again"));
      });
}

}  // namespace clickrace::gateway
