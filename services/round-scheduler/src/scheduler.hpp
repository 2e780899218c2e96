#pragma once
#include <asio/steady_timer.hpp>
#include <functional>
#include <string>

#include "clickrace/bus/events.hpp"
#include "clickrace/redis/script.hpp"
#include "context.hpp"
#include "leader_work.hpp"
#include "leaderboard_publisher.hpp"
#include "lease_state.hpp"
#include "replies.hpp"
#include "round_closer.hpp"
#include "schedule_copier.hpp"

namespace clickrace::scheduler {

// The scheduler's event-loop side: keeps (or polls for) the lease, keeps the schedule fresh, and
// while leading runs the RoundCloser and the LeaderboardPublisher. Single-threaded: construct,
// start and stop on the io_context thread (or before it runs).
class Scheduler {
 public:
  explicit Scheduler(Context& ctx);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void start();
  // Stops acting, releases the lease if held (bounded wait), then calls `done`.
  void stop(std::function<void()> done);

 private:
  bool leading() const { return lease_.leading(mono_now_ms()); }
  void lease_tick();
  void on_lease_answer(Result<redis::Reply> r, int64_t sent);
  void lease_now();
  void on_not_leader();
  void apply(Transition t);
  void arm_expiry();
  void refresh_schedule(bool start);
  void on_schedule_answer(Result<redis::Reply> r, uint64_t term, int64_t sent, bool start);
  void reread_schedule();
  bool still_current(uint64_t term, bool start);
  void schedule_failed(uint64_t term, bool start, const std::string& what);
  void observe();
  void publish_status();
  void redis_ok();
  void on_schedule_created(const ScheduleSnapshot& s);
  void write_copies(ScheduleCopier::Callback done = nullptr);
  void raise_term(int64_t seen);
  void render_redis_metrics();

  Context& ctx_;
  LeaseState lease_;
  LeaderWork work_;  // when to (re)start the closer
  redis::Script lease_script_;
  redis::Script schedule_script_;
  RoundCloser closer_;
  ScheduleCopier copier_;
  LeaderboardPublisher leaderboard_;
  asio::steady_timer lease_timer_;
  asio::steady_timer expiry_timer_;   // steps down exactly when an unrenewed lease runs out
  asio::steady_timer metrics_timer_;  // renders the Redis client's counters for /metrics
  bool stopping_ = false;
  bool lease_failing_ = false;
  bool lease_in_flight_ = false;   // one lease attempt at a time
  bool reread_in_flight_ = false;  // one schedule re-read asked by the closer at a time
  std::string lease_holder_;
  int64_t last_closed_ = 0;
  int64_t redis_ok_at_ = 0;
  int64_t term_floor_ = 0;  // a newer term a partition answered: the next acquire goes above it
  bool partitions_warned_ = false;
};

}  // namespace clickrace::scheduler
