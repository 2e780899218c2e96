#include "scheduler.hpp"

#include "clickrace/bus/events.hpp"
#include "clickrace/bus/lua_scripts.hpp"
#include "clickrace/core/log.hpp"
#include "clickrace/redis/cluster_config.hpp"
#include "replies.hpp"

namespace clickrace::scheduler {

Scheduler::Scheduler(Context& ctx)
    : ctx_(ctx),
      lease_(ctx.opts.lease_ms),
      lease_script_(bus::lua::lease),
      schedule_script_(bus::lua::schedule),
      closer_(ctx, RoundCloser::Hooks{[this] { return leading(); }, [this] { on_not_leader(); },
                                      [this](int64_t round) {
                                        last_closed_ = round;
                                        publish_status();
                                      },
                                      [this] { reread_schedule(); }, [this] { write_copies(); },
                                      [this](int64_t seen) { raise_term(seen); }}),
      copier_(ctx),
      leaderboard_(ctx, [this] { return leading(); }),
      lease_timer_(ctx.io),
      expiry_timer_(ctx.io),
      metrics_timer_(ctx.io) {
  ctx_.status.update([&](StatusSnapshot& s) {
    s.id = ctx_.opts.scheduler_id;
    s.round_ms = ctx_.opts.round_ms;
  });
}

void Scheduler::start() {
  // A fresh connection is the moment to try at once, rather than at the next poll — for a
  // leader too: Redis may have come back without its data, and the renewal that re-acquires the
  // lease also re-reads (and re-creates) the schedule.
  ctx_.redis.on_state([this](bool connected) {
    if (connected && !stopping_) lease_now();
  });
  CR_LOG(info) << "scheduler " << ctx_.opts.scheduler_id << " starting (lease "
               << ctx_.opts.lease_ms << " ms, rounds " << ctx_.opts.round_ms << " ms, "
               << ctx_.opts.score_partitions << " score partition(s) for a new schedule)";
  lease_tick();
  render_redis_metrics();
}

// The Redis client's counters live on the loop; /metrics is served by the admin thread, which
// reads this text (at most a second old).
void Scheduler::render_redis_metrics() {
  ctx_.metrics.set_redis_text(redis::render_cluster_metrics(ctx_.redis, "clickrace_scheduler"));
  metrics_timer_.expires_after(std::chrono::seconds(1));
  metrics_timer_.async_wait([this](const asio::error_code& ec) {
    if (!ec && !stopping_) render_redis_metrics();
  });
}

// A partition answered NOTLEADER with a term above ours: renew now with that floor. If another
// scheduler holds the lease the answer is 0 and we step down; if we still hold it (our term key
// was lost with its node), our term goes above every partition's.
void Scheduler::raise_term(int64_t seen) {
  if (seen <= term_floor_) return lease_now();
  term_floor_ = seen;
  lease_now();
}

void Scheduler::lease_now() {
  if (stopping_ || lease_in_flight_) return;  // the answer in flight re-arms the timer
  lease_timer_.cancel();
  lease_tick();
}

// close_round.lua says the lease is not ours. Usually another scheduler holds it; but after a
// data loss nobody does, and waiting for the next poll would leave rounds unclosed for up to a
// lease: try to acquire at once (a lease held by another simply answers 0).
void Scheduler::on_not_leader() {
  apply(lease_.on_not_leader(mono_now_ms()));
  lease_now();
}

void Scheduler::lease_tick() {
  if (stopping_ || lease_in_flight_) return;
  lease_in_flight_ = true;
  int64_t sent = mono_now_ms();
  // An answer later than the renew interval is useless: the next attempt is already due.
  auto timeout = std::chrono::milliseconds(std::max<int64_t>(100, lease_.renew_interval()));
  std::vector<std::string> args{"acquire", ctx_.opts.scheduler_id,
                                std::to_string(ctx_.opts.lease_ms)};
  if (term_floor_ > 0) args.push_back(std::to_string(term_floor_));
  lease_script_.call(
      ctx_.redis, {ctx_.keys.leader(), ctx_.keys.term()}, std::move(args),
      [this, sent](Result<redis::Reply> r) { on_lease_answer(std::move(r), sent); }, timeout);
}

void Scheduler::on_lease_answer(Result<redis::Reply> r, int64_t sent) {
  lease_in_flight_ = false;
  if (stopping_) return;
  int64_t now = mono_now_ms();
  Result<int64_t> term = r ? parse_lease_reply(*r) : Result<int64_t>(r.error());
  Result<bool> held = term ? Result<bool>(*term > 0) : Result<bool>(term.error());
  if (!held) {
    ctx_.metrics.redis_errors.fetch_add(1);
    // Logged once per outage, not at every poll.
    if (!lease_failing_) {
      CR_LOG(warn) << "lease attempt failed: " << held.error().message;
    }
    lease_failing_ = true;
    apply(lease_.on_error(now));
  } else {
    if (lease_failing_) {
      CR_LOG(info) << "lease attempts answered again";
    }
    lease_failing_ = false;
    redis_ok();
    if (*held && *term != ctx_.term) {
      if (ctx_.term != 0) {
        CR_LOG(info) << "leader term " << ctx_.term << " -> " << *term;
      }
      ctx_.term = *term;
    }
    apply(lease_.on_acquire(*held, sent, now));
  }
  int64_t next = lease_.role() == Role::leader ? lease_.renew_interval() : lease_.poll_interval();
  // Whatever happens next, keep trying (the Redis client reconnects with its own backoff).
  lease_timer_.expires_at(std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(std::max<int64_t>(0, next - (now - sent))));
  lease_timer_.async_wait([this](const asio::error_code& ec) {
    if (!ec) lease_tick();
  });
  if (!held) return;
  if (lease_.role() == Role::leader) {
    arm_expiry();
    // Also restarts a start that failed, or was dropped while our belief had lapsed
    // (leader_work.hpp).
    switch (work_.on_confirmed(lease_.term(), closer_.running())) {
      case LeaderWork::Action::start:
        refresh_schedule(true);
        break;
      case LeaderWork::Action::refresh:
        refresh_schedule(false);
        break;
      case LeaderWork::Action::none:
        break;
    }
  } else {
    observe();
  }
}

void Scheduler::apply(Transition t) {
  if (t == Transition::none) return;
  ctx_.metrics.lease_changes.fetch_add(1);
  if (t == Transition::became_leader) {
    CR_LOG(info) << "became the leader (term " << ctx_.term << ")";
    ctx_.metrics.is_leader.store(true);
    lease_holder_ = ctx_.opts.scheduler_id;
    if (work_.on_became_leader(lease_.term()) == LeaderWork::Action::start) refresh_schedule(true);
  } else {
    CR_LOG(warn) << "stopped leading";
    ctx_.metrics.is_leader.store(false);
    expiry_timer_.cancel();
    closer_.stop();
    copier_.stop();
    leaderboard_.stop();
    work_.on_lost_leadership();
    lease_holder_.clear();
    ctx_.term = 0;
  }
  publish_status();
}

void Scheduler::arm_expiry() {
  auto until =
      std::chrono::steady_clock::time_point(std::chrono::milliseconds(lease_.valid_until()));
  expiry_timer_.expires_at(until);
  expiry_timer_.async_wait([this](const asio::error_code& ec) {
    if (!ec) apply(lease_.tick(mono_now_ms()));
  });
}

// schedule.lua creates the schedule when it is missing (first start, or lost with Redis's data)
// and promotes a reached length change; its reply is a snapshot of the schedule, the closed mark
// and Redis TIME (for the clock offset), read at once. `start` begins closing rounds once the
// schedule is known; otherwise the running closer checks its plan against the snapshot.
void Scheduler::refresh_schedule(bool start) {
  uint64_t term = lease_.term();
  int64_t sent = mono_now_ms();
  schedule_script_.call(
      ctx_.redis, {ctx_.keys.schedule(), ctx_.keys.closed()},
      {std::to_string(ctx_.opts.round_ms), std::to_string(ctx_.opts.score_partitions)},
      [this, term, sent, start](Result<redis::Reply> r) {
        on_schedule_answer(std::move(r), term, sent, start);
      });
}

void Scheduler::on_schedule_answer(Result<redis::Reply> r, uint64_t term, int64_t sent,
                                   bool start) {
  if (!start) reread_in_flight_ = false;
  if (!still_current(term, start)) return;
  if (!r) return schedule_failed(term, start, r.error().message);
  auto s = parse_schedule_reply(*r);
  if (!s) return schedule_failed(term, start, s.error().message);
  redis_ok();
  ctx_.offset.add_sample(sent, mono_now_ms(), s->now);
  // S is the schedule's: a different setting applies to the next schedule created (after a data
  // loss), never to a running one (its rounds' scores are already split S ways).
  if (s->partitions != ctx_.opts.score_partitions && !partitions_warned_) {
    partitions_warned_ = true;
    CR_LOG(warn) << "the schedule has " << s->partitions
                 << " score partition(s); CLICKRACE_SCORE_PARTITIONS=" << ctx_.opts.score_partitions
                 << " is ignored while it lasts";
  }
  ctx_.partitions = s->partitions;
  // A pending change may have appeared or gone (schedule.lua cancels one whose length was
  // abandoned): the closer plans from this copy.
  ctx_.schedule = s->schedule;
  // The partitions' copies follow every answer (creation, a change, a promotion, and at every
  // renewal, which heals a partition that lost its copy); a new schedule is announced once its
  // copies are written, so clicks find it in every partition.
  if (s->created) {
    on_schedule_created(*s);
  } else {
    write_copies();
  }
  publish_status();
  if (!start) return closer_.on_snapshot(s->schedule, s->closed);
  if (work_.on_start_answer(term, true)) {
    closer_.start();
    leaderboard_.start();
  }
}

// The closer suspects Redis's schedule changed (NOROUND, or an EARLY far beyond its plan): read
// it now rather than at the next renewal, which may be rounds away with a long lease.
void Scheduler::reread_schedule() {
  if (stopping_ || reread_in_flight_ || !leading() || !closer_.running()) return;
  reread_in_flight_ = true;
  refresh_schedule(false);
}

// Whether an answer for `term` may still be acted on. One that may not is dropped, and so is
// the start it belonged to: the next lease confirmation starts again (or a demotion ends it).
bool Scheduler::still_current(uint64_t term, bool start) {
  if (stopping_) return false;
  if (term == lease_.term() && leading()) return true;
  if (start) work_.on_start_answer(term, false);
  return false;
}

void Scheduler::schedule_failed(uint64_t term, bool start, const std::string& what) {
  ctx_.metrics.redis_errors.fetch_add(1);
  CR_LOG(warn) << "schedule refresh failed: " << what;
  // Closing cannot start without a schedule: the next lease renewal tries again.
  if (start) work_.on_start_answer(term, false);
}

// The leader that creates a schedule publishes RoundStarted for its first round (later ones
// come from close_round.lua). Created under a running game, Redis lost its data.
void Scheduler::on_schedule_created(const ScheduleSnapshot& s) {
  const core::Schedule& sc = s.schedule;
  if (closer_.running()) {
    CR_LOG(warn) << "the schedule was missing (Redis lost its data?): created it again, rounds "
                 << "from " << sc.base;
  } else {
    CR_LOG(info) << "created the schedule (" << s.partitions << " score partition(s)): round "
                 << sc.base << " starts now";
  }
  bus::RoundStarted started{sc.base, sc.epoch, sc.epoch + sc.len, s.now};
  write_copies([this, started](ScheduleCopier::Outcome) {
    ctx_.redis.command({"PUBLISH", ctx_.keys.events(),
                        bus::build_envelope(bus::kRoundStarted, started.round, started)},
                       [this](Result<redis::Reply> r) {
                         if (!r || r->is_error()) ctx_.metrics.redis_errors.fetch_add(1);
                       });
  });
}

void Scheduler::write_copies(ScheduleCopier::Callback done) {
  if (!ctx_.schedule || !leading()) {
    if (done) done(ScheduleCopier::Outcome{false, std::nullopt});
    return;
  }
  copier_.write(*ctx_.schedule, ctx_.partitions,
                [this, done = std::move(done)](ScheduleCopier::Outcome out) {
                  if (out.newer_term) raise_term(*out.newer_term);
                  if (done) done(out);
                });
}

// A standby reads what /status shows: the holder, the schedule and the closed pointer, and
// samples Redis's clock (the current round is Redis's, never this host's wall clock).
void Scheduler::observe() {
  int64_t sent = mono_now_ms();
  ctx_.redis.command({"TIME"}, [this, sent](Result<redis::Reply> r) {
    if (stopping_ || !r) return;
    if (auto t = parse_time_reply(*r)) ctx_.offset.add_sample(sent, mono_now_ms(), *t);
  });
  ctx_.redis.command({"GET", ctx_.keys.leader()}, [this](Result<redis::Reply> r) {
    if (stopping_ || !r) return;
    lease_holder_ = r->is_string() ? r->str() : std::string();
  });
  ctx_.redis.command({"GET", ctx_.keys.closed()}, [this](Result<redis::Reply> r) {
    if (stopping_ || !r) return;
    if (auto c = parse_optional_int(*r)) last_closed_ = c->value_or(0);  // 0: gone (data loss)
  });
  ctx_.redis.command({"HGETALL", ctx_.keys.schedule()}, [this](Result<redis::Reply> r) {
    if (stopping_ || !r || leading()) return;
    if (auto s = parse_schedule_hash(*r); s && *s) ctx_.schedule = **s;
    publish_status();
  });
}

void Scheduler::redis_ok() { redis_ok_at_ = mono_now_ms(); }

void Scheduler::publish_status() {
  StatusSnapshot snap;
  snap.role = lease_.role();
  snap.id = ctx_.opts.scheduler_id;
  snap.lease_holder = lease_holder_;
  snap.last_closed_round = last_closed_;
  snap.redis_ok_at = redis_ok_at_;
  snap.round_ms = ctx_.opts.round_ms;
  snap.term = lease_.role() == Role::leader ? lease_.term() : 0;
  snap.partitions = ctx_.partitions;
  if (ctx_.schedule && ctx_.offset.known()) {
    int64_t now = ctx_.redis_now();
    core::RoundWindow w = core::round_at(*ctx_.schedule, now);
    snap.current_round = now >= w.starts_at ? w.id : 0;
    snap.round_ms = w.ends_at - w.starts_at;
  }
  ctx_.status.update([&](StatusSnapshot& s) { s = snap; });
}

void Scheduler::stop(std::function<void()> done) {
  if (stopping_) return;
  apply(lease_.on_released(mono_now_ms()));
  stopping_ = true;
  lease_timer_.cancel();
  expiry_timer_.cancel();
  metrics_timer_.cancel();
  closer_.stop();
  copier_.stop();
  leaderboard_.stop();
  // Release (a no-op unless we hold it) so a standby takes over at once instead of after the
  // lease runs out.
  lease_script_.call(
      ctx_.redis, {ctx_.keys.leader()}, {"release", ctx_.opts.scheduler_id, "0"},
      [done = std::move(done)](Result<redis::Reply> r) {
        if (!r)
          CR_LOG(warn) << "lease release failed: " << r.error().message;
        else
          CR_LOG(info) << "lease released";
        done();
      },
      std::chrono::milliseconds(500));
}

}  // namespace clickrace::scheduler
