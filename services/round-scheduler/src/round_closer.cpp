#include "round_closer.hpp"

#include <random>

#include "clickrace/bus/lua_scripts.hpp"
#include "clickrace/core/log.hpp"
#include "leader_work.hpp"
#include "replies.hpp"

namespace clickrace::scheduler {
namespace {

double unit_random() {
  static thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// Retries stay well inside a round, so a Redis that comes back is used within the round.
std::chrono::milliseconds backoff_max(int64_t round_ms) {
  return std::chrono::milliseconds(std::clamp<int64_t>(round_ms / 4, 50, 1000));
}

}  // namespace

RoundCloser::RoundCloser(Context& ctx, Hooks hooks)
    : ctx_(ctx),
      hooks_(std::move(hooks)),
      script_(bus::lua::close_round),
      timer_(ctx.io),
      backoff_(std::chrono::milliseconds(50), backoff_max(ctx.opts.round_ms), 0.2) {}

void RoundCloser::start() {
  stop();
  running_ = true;
  backoff_.reset();
  read_closed(gen_);
}

void RoundCloser::stop() {
  ++gen_;
  running_ = false;
  plan_.reset();
  timer_.cancel();
}

void RoundCloser::on_snapshot(const core::Schedule& schedule, std::optional<int64_t> closed) {
  if (!running_ || !plan_.stale(schedule, closed)) return;
  CR_LOG(warn) << "the schedule or the closed mark changed under the plan (next round "
               << plan_.next() << ", closed mark "
               << (closed ? std::to_string(*closed) : std::string("missing"))
               << "): planning again";
  start();
}

void RoundCloser::wait_then(uint64_t gen, int64_t ms, void (RoundCloser::*step)(uint64_t)) {
  timer_.expires_after(std::chrono::milliseconds(ms));
  timer_.async_wait([this, gen, step](const asio::error_code& ec) {
    if (ec || gen != gen_) return;
    (this->*step)(gen);
  });
}

void RoundCloser::retry(uint64_t gen, void (RoundCloser::*step)(uint64_t)) {
  ctx_.metrics.redis_errors.fetch_add(1);
  wait_then(gen, backoff_.next(unit_random()).count(), step);
}

// The closed pointer is re-read at every term and whenever the plan went stale: another leader
// may have closed rounds meanwhile, or Redis lost them.
void RoundCloser::read_closed(uint64_t gen) {
  ctx_.redis.command({"GET", ctx_.keys.closed()}, [this, gen](Result<redis::Reply> r) {
    if (gen != gen_) return;
    if (!r) {
      CR_LOG(warn) << "reading the closed round failed: " << r.error().message;
      return retry(gen, &RoundCloser::read_closed);
    }
    auto closed = parse_optional_int(*r);
    if (!closed || !ctx_.schedule) {
      CR_LOG(error) << "cannot plan closes: "
                    << (closed ? std::string("no schedule") : closed.error().message);
      return retry(gen, &RoundCloser::read_closed);
    }
    backoff_.reset();
    plan_.position(*ctx_.schedule, *closed);
    hooks_.closed(closed->value_or(0));
    auto behind = due_rounds(*ctx_.schedule, plan_.next(), ctx_.redis_now(), 1000).size();
    CR_LOG(info) << "leading: next round to close is " << plan_.next()
                 << (behind > 0 ? ", catching up " + std::to_string(behind) +
                                      (behind == 1000 ? "+" : "") + " ended rounds"
                                : std::string());
    arm(gen);
  });
}

void RoundCloser::arm(uint64_t gen) {
  wait_then(gen, plan_.delay(ctx_.redis_now()), &RoundCloser::close);
}

void RoundCloser::close(uint64_t gen) {
  // Our belief in the lease has lapsed: a demotion stops us, but a late renewal may end the lapse
  // without one, so look again rather than stop closing for good (leader_work.hpp).
  if (auto wait = close_wait(hooks_.leading(), ctx_.opts.lease_ms)) {
    return wait_then(gen, *wait, &RoundCloser::close);
  }
  // Sent even when a capped wait (ClosePlanner::delay) ends before the plan's deadline: Redis's
  // clock decides, and an EARLY answer costs one script call per round.
  int64_t round = plan_.next();
  const auto& o = ctx_.opts;
  auto timeout = std::chrono::milliseconds(std::max<int64_t>(200, o.lease_ms / 3));
  script_.call(
      ctx_.redis, {ctx_.keys.leader(), ctx_.keys.schedule()},
      {ctx_.keys.prefix(), o.scheduler_id, std::to_string(round), std::to_string(o.round_ttl_s),
       std::to_string(o.stream_maxlen)},
      [this, gen, round](Result<redis::Reply> r) {
        if (gen != gen_) return;
        if (!r) {
          // The script may or may not have run: closing again is harmless (DONE).
          CR_LOG(warn) << "closing round " << round << " failed: " << r.error().message;
          return retry(gen, &RoundCloser::close);
        }
        auto out = parse_close_reply(*r);
        if (!out) {
          CR_LOG(error) << "closing round " << round << ": " << out.error().message;
          return retry(gen, &RoundCloser::close);
        }
        backoff_.reset();
        switch (out->kind) {
          case CloseOutcome::Kind::not_leader:
            CR_LOG(warn) << "close_round: not the leader any more";
            hooks_.not_leader();
            return;
          case CloseOutcome::Kind::no_schedule:
            // Redis lost the schedule: have it re-created (and the plan re-checked against it).
            CR_LOG(warn) << "closing round " << round << ": the schedule is gone";
            hooks_.reread();
            return retry(gen, &RoundCloser::close);
          case CloseOutcome::Kind::early: {
            // Usually our clock estimate ran a little ahead of Redis. Far more than that: Redis
            // holds another schedule than ours (re-created) — read it, and never sleep past
            // one round meanwhile.
            auto wait = plan_.on_early(out->ms_left, ctx_.redis_now());
            if (wait.reread) {
              CR_LOG(warn) << "closing round " << round << ": Redis says it ends in "
                           << out->ms_left << " ms; reading the schedule again";
              hooks_.reread();
            }
            return wait_then(gen, wait.wait_ms, &RoundCloser::close);
          }
          case CloseOutcome::Kind::closed: {
            ctx_.metrics.rounds_closed.fetch_add(1);
            auto result = bus::parse_round_result(out->result_json);
            if (result) ctx_.metrics.close_lag_ms.observe(ctx_.redis_now() - result->ended_at);
            CR_LOG(info) << "closed round " << round;
            break;
          }
          case CloseOutcome::Kind::already_closed:
            ctx_.metrics.rounds_already_closed.fetch_add(1);
            CR_LOG(debug) << "round " << round << " was already closed";
            break;
        }
        plan_.on_closed(round);
        hooks_.closed(round);
        arm(gen);
      },
      timeout);
}

}  // namespace clickrace::scheduler
