#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "clickrace/core/result.hpp"
#include "clickrace/core/token.hpp"
#include "clickrace/redis/cluster_client.hpp"

// The key that signs and checks this gateway's tokens.
//
// Configured (CLICKRACE_TOKEN_SECRET): fixed for the life of the process.
//
// Shared (local play, CLICKRACE_TOKEN_SECRET unset): the first gateway stores a random secret
// with SET NX under `P token_secret` and every gateway uses what is stored, so a token from one
// gateway works on all. Redis is the reference, and it can lose the key (FLUSHALL, a restart
// without persistence, a replacement instance):
// - A gateway re-asserts its secret every few seconds, and at most once a second when a token
//   fails to verify: SET NX <the secret it holds>, then GET. The first to notice a missing key
//   thus puts back the secret every running gateway still holds: tokens keep working, and a
//   gateway started afterwards reads that same secret instead of inventing another.
// - If the GET answers another secret (a gateway started after the loss won the SET NX before
//   anyone put the old one back, or an operator rotated it), that one is adopted: tokens signed
//   with it verify here too, and new ones are signed with it; tokens of the old secret are
//   refused from then on (they belong to accounts the data loss took anyway). All gateways
//   converge on the stored secret within a re-check period.
// - negotiate waits for the re-check before it answers 401 (verify()), so a player whose token
//   comes from the new secret is served on the first try; the upgrade cannot wait (it answers
//   at once) and only triggers the re-check.
// Never logs a secret.
namespace clickrace::gateway {

class TokenSecret {
 public:
  // How often a shared secret is re-asserted without any failure, and the least time between
  // two re-checks caused by failures (monotonic clock).
  static constexpr std::chrono::milliseconds kReassertEvery{5000};
  static constexpr std::chrono::milliseconds kRecheckGap{1000};
  static constexpr std::size_t kMaxWaiters = 1024;

  TokenSecret(asio::io_context& io, redis::ClusterClient& redis, std::string redis_key);
  ~TokenSecret();

  // CLICKRACE_TOKEN_SECRET: never read from or written to Redis.
  void use_configured(const core::TokenSigner& signer);
  // Obtains the shared secret (waiting for Redis as long as it takes), logs a warning that the
  // secret lives in Redis, then calls `ready` with 0 — or with an Error when the stored secret is
  // unusable. From then on it is re-asserted as described above.
  void obtain_shared(std::function<void(Result<int>)> ready);

  // Empty until a secret is known.
  const std::optional<core::TokenSigner>& signer() const { return signer_; }

  // Verifies `token`; when a shared secret might have changed (the MAC does not match), re-reads
  // Redis (rate-limited) and verifies once more before answering. `done` runs on the loop.
  void verify(std::string token, core::TokenKind kind,
              std::function<void(Result<core::Claims>)> done);
  // A token failed to verify elsewhere (the upgrade): re-read a shared secret soon, rate-limited.
  void recheck();

 private:
  using Clock = std::chrono::steady_clock;
  void read_initial(std::function<void(Result<int>)> ready);
  void adopt(const std::string& secret);
  void schedule(Clock::time_point at);
  void reassert();

  asio::io_context& io_;
  redis::ClusterClient& redis_;
  std::string key_;
  bool shared_ = false;
  std::optional<core::TokenSigner> signer_;
  std::string secret_;  // the shared secret's text, to put it back with SET NX
  asio::steady_timer timer_;
  std::optional<Clock::time_point> timer_at_;
  std::uint64_t timer_generation_ = 0;
  bool in_flight_ = false;
  bool recheck_wanted_ = false;  // a failure asked for a re-read not yet started
  Clock::time_point last_reassert_{};
  // Verifications waiting for a re-read that starts after they failed (one already in flight
  // may have read Redis before the secret their token was signed with was stored).
  std::vector<std::function<void()>> waiters_;
  std::string rejected_;  // the last unusable stored secret, logged once
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace clickrace::gateway
