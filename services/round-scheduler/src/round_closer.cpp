#include "round_closer.hpp"

#include <random>

#include "clickrace/bus/lua_scripts.hpp"
#include "clickrace/core/log.hpp"
#include "clickrace/redis/errors.hpp"
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
      sealer_(ctx),
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
  merged_.reset();
  sealer_.forget();
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
  // Sealed and merged already (a write or announce is being retried): go on from there.
  if (merged_) return write(gen);
  // Sent even when a capped wait (ClosePlanner::delay) ends before the plan's deadline: Redis's
  // clock decides, and an EARLY answer costs one script call per partition.
  int64_t round = plan_.next();
  sealer_.seal(round, ctx_.partitions, [this, gen, round](SealOutcome out) {
    if (gen != gen_) return;
    on_sealed(gen, round, std::move(out));
  });
}

void RoundCloser::on_sealed(uint64_t gen, int64_t round, SealOutcome out) {
  switch (out.kind) {
    case SealOutcome::Kind::failed:
      CR_LOG(warn) << "sealing round " << round << " failed: " << out.error;
      return retry(gen, &RoundCloser::close);
    case SealOutcome::Kind::not_leader:
      // A partition saw a newer term: another leader took over (the lease renewal with this
      // floor answers 0 and we step down), or our term key was lost (the renewal raises it).
      CR_LOG(warn) << "sealing round " << round << ": a partition saw the newer term " << out.term
                   << " (ours " << ctx_.term << ")";
      hooks_.raise_term(out.term);
      return retry(gen, &RoundCloser::close);
    case SealOutcome::Kind::no_copy:
      // One partition: its copy IS the schedule, which is gone (data loss) — have it re-created.
      // Several: a partition lost its copy (a failover to an empty replica) — write them again.
      CR_LOG(warn) << "sealing round " << round << ": "
                   << (ctx_.partitions == 1 ? "the schedule is gone"
                                            : "a partition has no copy of the schedule");
      if (ctx_.partitions == 1) {
        hooks_.reread();
      } else {
        hooks_.write_copies();
      }
      return retry(gen, &RoundCloser::close);
    case SealOutcome::Kind::early: {
      backoff_.reset();
      // Usually our clock estimate ran a little ahead of Redis. Far more than that: Redis
      // holds another schedule than ours (re-created) — read it, and never sleep past one
      // round meanwhile.
      auto wait = plan_.on_early(out.ms_left, ctx_.redis_now());
      if (wait.reread) {
        CR_LOG(warn) << "closing round " << round << ": Redis says it ends in " << out.ms_left
                     << " ms; reading the schedule again";
        hooks_.reread();
      }
      return wait_then(gen, wait.wait_ms, &RoundCloser::close);
    }
    case SealOutcome::Kind::sealed:
      break;
  }
  backoff_.reset();
  merged_ = core::merge_summaries(out.summaries);
  write(gen);
}

// With no replica to wait for, one close_round.lua run writes and announces.
void RoundCloser::write(uint64_t gen) {
  send_close_round(gen, ctx_.opts.result_wait_replicas > 0 ? "write" : "close");
}

void RoundCloser::announce(uint64_t gen) { send_close_round(gen, "announce"); }

void RoundCloser::send_close_round(uint64_t gen, const std::string& op) {
  if (auto wait = close_wait(hooks_.leading(), ctx_.opts.lease_ms)) {
    return wait_then(gen, *wait, op == "announce" ? &RoundCloser::announce : &RoundCloser::close);
  }
  int64_t round = plan_.next();
  const auto& o = ctx_.opts;
  const bus::Keys& k = ctx_.keys;
  std::vector<std::string> args{k.prefix(),
                                o.scheduler_id,
                                std::to_string(round),
                                std::to_string(o.round_ttl_s),
                                std::to_string(o.stream_maxlen),
                                op};
  if (op != "announce") {
    const core::RoundOutcome& m = *merged_;
    args.push_back(std::to_string(m.winner_count));
    args.push_back(std::to_string(m.winning_clicks));
    args.push_back(std::to_string(m.total_clicks));
    args.push_back(std::to_string(m.players));
    args.insert(args.end(), m.winners.begin(), m.winners.end());
  }
  redis::CallOptions call;
  call.timeout = std::chrono::milliseconds(std::max<int64_t>(200, o.lease_ms / 3));
  if (op == "write") {
    // The answer is held until a WAIT on the same connection confirms the replicas have it.
    call.wait_replicas = o.result_wait_replicas;
    call.wait_timeout = std::chrono::milliseconds(std::clamp<int64_t>(o.lease_ms / 3, 100, 2000));
  }
  script_.call(
      ctx_.redis,
      {k.leader(), k.schedule(), k.result(round), k.announced(round), k.closed(), k.rounds()},
      std::move(args),
      [this, gen, round, op](Result<redis::Reply> r) {
        if (gen != gen_) return;
        on_close_round(gen, round, op, std::move(r));
      },
      call);
}

void RoundCloser::on_close_round(uint64_t gen, int64_t round, const std::string& op,
                                 Result<redis::Reply> r) {
  auto again = op == "announce" ? &RoundCloser::announce : &RoundCloser::close;
  if (!r) {
    const std::string& m = r.error().message;
    if (m == redis::kErrNotReplicated || m == redis::kErrTooFewReplicas) {
      // Written on the primary alone (or not sent: too few replicas in the map): not announced.
      // Writing again keeps the stored result and its WAIT covers it.
      ctx_.metrics.results_not_replicated.fetch_add(1);
      // Logged once per round: until a replica is back this repeats every backoff step.
      if (round != unreplicated_round_) {
        unreplicated_round_ = round;
        CR_LOG(warn) << "round " << round << ": the result is not on "
                     << ctx_.opts.result_wait_replicas << " replica(s) yet (" << m
                     << "); not announced, trying again until it is";
      }
      return retry(gen, &RoundCloser::close);
    }
    // The script may or may not have run: running it again is harmless (WRITTEN/DONE).
    CR_LOG(warn) << "closing round " << round << " (" << op << ") failed: " << m;
    return retry(gen, again);
  }
  auto out = parse_close_reply(*r);
  if (!out) {
    CR_LOG(error) << "closing round " << round << ": " << out.error().message;
    return retry(gen, again);
  }
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
    case CloseOutcome::Kind::no_result:
      // The written result vanished before its announcement (data loss): write it again.
      CR_LOG(warn) << "announcing round " << round << ": its result is gone; writing it again";
      return retry(gen, &RoundCloser::close);
    case CloseOutcome::Kind::early: {
      // The partitions have ended the round but the global node's clock has not: wait for it.
      backoff_.reset();
      auto wait = plan_.on_early(out->ms_left, ctx_.redis_now());
      if (wait.reread) hooks_.reread();
      return wait_then(gen, wait.wait_ms, &RoundCloser::close);
    }
    case CloseOutcome::Kind::written:
      backoff_.reset();
      return announce(gen);
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
  done(gen, round);
}

void RoundCloser::done(uint64_t gen, int64_t round) {
  backoff_.reset();
  merged_.reset();
  plan_.on_closed(round);
  hooks_.closed(round);
  arm(gen);
}

}  // namespace clickrace::scheduler
