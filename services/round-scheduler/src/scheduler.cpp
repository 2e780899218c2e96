#include "scheduler.hpp"

#include "clickrace/bus/events.hpp"
#include "clickrace/bus/lua_scripts.hpp"
#include "clickrace/core/clock.hpp"
#include "clickrace/core/log.hpp"
#include "replies.hpp"

namespace clickrace::scheduler {

Scheduler::Scheduler(Context& ctx)
    : ctx_(ctx),
      lease_(ctx.opts.lease_ms),
      lease_script_(bus::lua::lease),
      schedule_script_(bus::lua::schedule),
      closer_(
          ctx, [this] { return leading(); }, [this] { apply(lease_.on_not_leader(mono_now_ms())); },
          [this](int64_t round) {
            if (round > last_closed_) last_closed_ = round;
            publish_status();
          }),
      leaderboard_(ctx, [this] { return leading(); }),
      lease_timer_(ctx.io),
      expiry_timer_(ctx.io) {
  ctx_.status.update([&](StatusSnapshot& s) {
    s.id = ctx_.opts.scheduler_id;
    s.round_ms = ctx_.opts.round_ms;
  });
}

void Scheduler::start() {
  // A fresh connection is the moment to try at once, rather than at the next poll.
  ctx_.redis.on_state([this](bool connected) {
    if (connected && !stopping_ && !lease_in_flight_ && lease_.role() == Role::follower) {
      lease_timer_.cancel();
      lease_tick();
    }
  });
  CR_LOG(info) << "scheduler " << ctx_.opts.scheduler_id << " starting (lease "
               << ctx_.opts.lease_ms << " ms, rounds " << ctx_.opts.round_ms << " ms)";
  lease_tick();
}

void Scheduler::lease_tick() {
  if (stopping_ || lease_in_flight_) return;
  lease_in_flight_ = true;
  int64_t sent = mono_now_ms();
  // An answer later than the renew interval is useless: the next attempt is already due.
  auto timeout = std::chrono::milliseconds(std::max<int64_t>(100, lease_.renew_interval()));
  lease_script_.call(
      ctx_.redis, {ctx_.keys.leader()},
      {"acquire", ctx_.opts.scheduler_id, std::to_string(ctx_.opts.lease_ms)},
      [this, sent](Result<redis::Reply> r) { on_lease_answer(std::move(r), sent); }, timeout);
}

void Scheduler::on_lease_answer(Result<redis::Reply> r, int64_t sent) {
  lease_in_flight_ = false;
  if (stopping_) return;
  int64_t now = mono_now_ms();
  Result<bool> held = r ? parse_lease_reply(*r) : Result<bool>(r.error());
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
    CR_LOG(info) << "became the leader (term " << lease_.term() << ")";
    ctx_.metrics.is_leader.store(true);
    lease_holder_ = ctx_.opts.scheduler_id;
    if (work_.on_became_leader(lease_.term()) == LeaderWork::Action::start) refresh_schedule(true);
  } else {
    CR_LOG(warn) << "stopped leading";
    ctx_.metrics.is_leader.store(false);
    expiry_timer_.cancel();
    closer_.stop();
    leaderboard_.stop();
    work_.on_lost_leadership();
    lease_holder_.clear();
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

// schedule.lua creates the schedule once and promotes a reached length change; it also gives
// Redis TIME for the clock offset. HGETALL follows for the prev_* segment the reply lacks.
// `start` also begins closing rounds once the schedule is known.
void Scheduler::refresh_schedule(bool start) {
  uint64_t term = lease_.term();
  int64_t sent = mono_now_ms();
  schedule_script_.call(ctx_.redis, {ctx_.keys.schedule()}, {std::to_string(ctx_.opts.round_ms)},
                        [this, term, sent, start](Result<redis::Reply> r) {
                          if (!still_current(term, start)) return;
                          if (!r) return schedule_failed(term, start, r.error().message);
                          auto s = parse_schedule_reply(*r);
                          if (!s) return schedule_failed(term, start, s.error().message);
                          redis_ok();
                          ctx_.offset.add_sample(sent, mono_now_ms(), s->now);
                          maybe_announce_first_round(*s);
                          load_schedule(term, start);
                        });
}

void Scheduler::load_schedule(uint64_t term, bool start) {
  ctx_.redis.command({"HGETALL", ctx_.keys.schedule()},
                     [this, term, start](Result<redis::Reply> r) {
                       if (!still_current(term, start)) return;
                       if (!r) return schedule_failed(term, start, r.error().message);
                       auto full = parse_schedule_hash(*r);
                       if (!full) return schedule_failed(term, start, full.error().message);
                       if (!*full) return schedule_failed(term, start, "schedule missing");
                       // A pending change may have appeared or gone (schedule.lua cancels one
                       // whose length was abandoned): the closer's next deadline uses this copy.
                       ctx_.schedule = **full;
                       publish_status();
                       if (start && work_.on_start_answer(term, true)) {
                         closer_.start();
                         leaderboard_.start();
                       }
                     });
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

// The first leader publishes RoundStarted for round 1 (later ones come from close_round.lua).
// The schedule was created by this very call when its epoch is the script's own TIME.
void Scheduler::maybe_announce_first_round(const bus::ScheduleReply& s) {
  const core::Schedule& sc = s.schedule;
  if (sc.epoch != s.now || sc.base != 1 || sc.pending) return;
  bus::RoundStarted started{sc.base, sc.epoch, sc.epoch + sc.len, s.now};
  ctx_.redis.command(
      {"PUBLISH", ctx_.keys.events(), bus::build_envelope(bus::kRoundStarted, sc.base, started)},
      [this](Result<redis::Reply> r) {
        if (!r || r->is_error()) ctx_.metrics.redis_errors.fetch_add(1);
      });
}

// A standby reads what /status shows: the holder, the schedule and the closed pointer.
void Scheduler::observe() {
  ctx_.redis.command({"GET", ctx_.keys.leader()}, [this](Result<redis::Reply> r) {
    if (stopping_ || !r) return;
    lease_holder_ = r->is_string() ? r->str() : std::string();
  });
  ctx_.redis.command({"GET", ctx_.keys.closed()}, [this](Result<redis::Reply> r) {
    if (stopping_ || !r) return;
    if (auto c = parse_optional_int(*r); c && *c) last_closed_ = **c;
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
  if (ctx_.schedule) {
    // The standby has no Redis clock sample of its own; local time is close enough for display.
    int64_t now = ctx_.offset.known() ? ctx_.redis_now() : core::SystemClock::instance().now_ms();
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
  closer_.stop();
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
