#include "token_secret.hpp"

#include <algorithm>

#include "clickrace/core/clock.hpp"
#include "clickrace/core/log.hpp"

namespace clickrace::gateway {
namespace {

std::int64_t wall_ms() { return core::SystemClock::instance().now_ms(); }

}  // namespace

TokenSecret::TokenSecret(asio::io_context& io, redis::ClusterClient& redis, std::string redis_key)
    : io_(io), redis_(redis), key_(std::move(redis_key)), timer_(io) {}

TokenSecret::~TokenSecret() = default;

void TokenSecret::use_configured(const core::TokenSigner& signer) {
  shared_ = false;
  signer_ = signer;
}

void TokenSecret::obtain_shared(std::function<void(Result<int>)> ready) {
  shared_ = true;
  read_initial(std::move(ready));
}

void TokenSecret::read_initial(std::function<void(Result<int>)> ready) {
  auto alive = std::weak_ptr<char>(alive_);
  auto retry = [this, ready, alive](const char* why) {
    CR_LOG(info) << "waiting for redis to read the token secret (" << why << ")";
    timer_.expires_after(std::chrono::milliseconds(250));
    timer_.async_wait([this, ready, alive](const asio::error_code& ec) {
      if (ec || alive.expired()) return;
      read_initial(ready);
    });
  };
  if (!redis_.connected()) return retry("not connected");
  redis_.command({"SET", key_, core::generate_secret_hex(), "NX"}, [](Result<redis::Reply>) {});
  redis_.command({"GET", key_}, [this, ready, retry, alive](Result<redis::Reply> r) {
    if (alive.expired()) return;
    if (!r || !r->is_string()) return retry("no answer");
    auto signer = core::TokenSigner::from_secret(r->str());
    if (!signer) {
      return ready(make_error("the token secret stored in Redis (" + key_ +
                              ") is unusable: " + signer.error().message));
    }
    signer_ = *signer;
    secret_ = r->str();
    CR_LOG(warn) << "CLICKRACE_TOKEN_SECRET is not set: tokens are signed with a secret shared "
                    "through Redis ("
                 << key_
                 << "), so anyone who can read that Redis can forge logins; set "
                    "CLICKRACE_TOKEN_SECRET (32+ random bytes) in production";
    last_reassert_ = Clock::now();
    schedule(last_reassert_ + kReassertEvery);
    ready(0);
  });
}

void TokenSecret::verify(std::string token, core::TokenKind kind,
                         std::function<void(Result<core::Claims>)> done) {
  if (!signer_) return done(make_error("invalid token"));
  auto claims = signer_->verify(token, kind, wall_ms());
  // Only a MAC that does not match can mean a changed secret; an expired or empty token cannot.
  bool maybe_new_secret = !claims && shared_ && !token.empty() &&
                          token.size() <= core::kMaxTokenChars &&
                          claims.error().message == "invalid token";
  if (!maybe_new_secret || waiters_.size() >= kMaxWaiters) return done(std::move(claims));
  waiters_.push_back([this, token = std::move(token), kind, done = std::move(done)] {
    done(signer_->verify(token, kind, wall_ms()));
  });
  recheck();
}

void TokenSecret::recheck() {
  if (!shared_ || !signer_) return;
  recheck_wanted_ = true;
  if (!in_flight_) schedule(std::max(Clock::now(), last_reassert_ + kRecheckGap));
}

// The timer is armed for the earliest re-read anyone asked for; a stale wake-up (one whose
// wait could not be cancelled any more) is recognised by its generation and ignored.
void TokenSecret::schedule(Clock::time_point at) {
  if (timer_at_ && *timer_at_ <= at) return;
  timer_at_ = at;
  std::uint64_t generation = ++timer_generation_;
  timer_.expires_at(at);
  timer_.async_wait(
      [this, generation, alive = std::weak_ptr<char>(alive_)](const asio::error_code& ec) {
        if (ec || alive.expired() || generation != timer_generation_) return;
        timer_at_.reset();
        reassert();
      });
}

// SET NX the secret we hold (puts it back if Redis lost it), then GET what Redis holds now.
void TokenSecret::reassert() {
  if (in_flight_) return;  // its completion schedules the next one
  in_flight_ = true;
  recheck_wanted_ = false;
  last_reassert_ = Clock::now();
  auto served = std::move(waiters_);
  waiters_.clear();
  redis_.command({"SET", key_, secret_, "NX"}, [](Result<redis::Reply>) {});
  redis_.command({"GET", key_}, [this, served = std::move(served),
                                 alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> r) {
    if (alive.expired()) return;
    in_flight_ = false;
    if (r && r->is_string() && r->str() != secret_) adopt(r->str());
    for (const auto& waiter : served) waiter();
    if (recheck_wanted_ || !waiters_.empty()) {
      schedule(std::max(Clock::now(), last_reassert_ + kRecheckGap));
    } else {
      schedule(Clock::now() + kReassertEvery);
    }
  });
}

void TokenSecret::adopt(const std::string& secret) {
  auto signer = core::TokenSigner::from_secret(secret);
  if (!signer) {
    if (rejected_ != secret) {
      rejected_ = secret;
      CR_LOG(error) << "the token secret stored in Redis (" << key_ << ") is unusable ("
                    << signer.error().message << "); keeping the one in use";
    }
    return;
  }
  signer_ = *signer;
  secret_ = secret;
  CR_LOG(warn) << "the token secret shared through Redis (" << key_
               << ") changed (Redis lost its data and another gateway re-created it, or it was "
                  "rotated): using the stored one; tokens signed with the previous one are no "
                  "longer accepted";
}

}  // namespace clickrace::gateway
