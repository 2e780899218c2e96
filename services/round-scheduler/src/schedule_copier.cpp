#include "schedule_copier.hpp"

#include "clickrace/bus/lua_scripts.hpp"
#include "clickrace/core/log.hpp"
#include "replies.hpp"

namespace clickrace::scheduler {

ScheduleCopier::ScheduleCopier(Context& ctx) : ctx_(ctx), script_(bus::lua::schedule_copy) {}

void ScheduleCopier::stop() {
  ++gen_;
  busy_ = false;
  queued_.reset();
}

void ScheduleCopier::write(const core::Schedule& schedule, int partitions, Callback done) {
  if (partitions <= 1) {
    if (done) done(Outcome{});
    return;
  }
  if (busy_) {
    // The newest schedule replaces a queued older one; every caller hears of the write.
    if (!queued_) queued_ = Job{};
    queued_->schedule = schedule;
    queued_->partitions = partitions;
    if (done) queued_->done.push_back(std::move(done));
    return;
  }
  Job job{schedule, partitions, {}};
  if (done) job.done.push_back(std::move(done));
  send(std::move(job));
}

void ScheduleCopier::send(Job job) {
  busy_ = true;
  struct State {
    int waiting = 0;
    Outcome out;
    std::vector<Callback> done;
  };
  auto st = std::make_shared<State>();
  st->waiting = job.partitions;
  st->done = std::move(job.done);
  std::vector<std::string> args{std::to_string(ctx_.term)};
  for (auto& f : schedule_fields(job.schedule, job.partitions)) args.push_back(std::move(f));
  auto timeout = std::chrono::milliseconds(std::max<int64_t>(200, ctx_.opts.lease_ms / 3));
  uint64_t gen = gen_;
  for (int k = 0; k < job.partitions; ++k) {
    bus::PartitionKeys p = ctx_.keys.partition(k, job.partitions);
    ctx_.metrics.schedule_copies.fetch_add(1);
    script_.call(
        ctx_.redis, {p.schedule(), p.term()}, args,
        [this, st, gen, k](Result<redis::Reply> r) {
          if (gen != gen_) return;
          if (!r || r->is_error()) {
            st->out.ok = false;
            if (r) {
              if (auto t = not_leader_term(*r)) {
                st->out.newer_term = std::max(st->out.newer_term.value_or(0), *t);
              } else {
                CR_LOG(warn) << "writing the schedule copy of partition " << k
                             << " failed: " << r->str();
              }
            } else {
              CR_LOG(debug) << "writing the schedule copy of partition " << k
                            << " failed: " << r.error().message;
            }
            ctx_.metrics.redis_errors.fetch_add(1);
          }
          if (--st->waiting > 0) return;
          busy_ = false;
          for (auto& cb : st->done) cb(st->out);
          if (gen == gen_ && !busy_ && queued_) {
            Job next = std::move(*queued_);
            queued_.reset();
            send(std::move(next));
          }
        },
        timeout);
  }
}

}  // namespace clickrace::scheduler
