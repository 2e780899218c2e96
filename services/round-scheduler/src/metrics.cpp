#include "metrics.hpp"

namespace clickrace::scheduler {

void Histogram::observe(int64_t value) {
  std::size_t i = 0;
  while (i < kBounds.size() && value > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

void Histogram::render(std::string& out, const std::string& name) const {
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    std::string le = i < kBounds.size() ? std::to_string(kBounds[i]) : "+Inf";
    out += name + "_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_sum " + std::to_string(sum_.load(std::memory_order_relaxed)) + "\n";
  out += name + "_count " + std::to_string(count_.load(std::memory_order_relaxed)) + "\n";
}

namespace {

void metric(std::string& out, const char* name, const char* type, const char* help,
            uint64_t value) {
  out += std::string("# HELP ") + name + " " + help + "\n";
  out += std::string("# TYPE ") + name + " " + type + "\n";
  out += std::string(name) + " " + std::to_string(value) + "\n";
}

}  // namespace

void Metrics::set_redis_text(std::string text) {
  std::lock_guard<std::mutex> lock(redis_mu_);
  redis_text_ = std::move(text);
}

std::string Metrics::render() const {
  std::string out;
  metric(out, "clickrace_scheduler_rounds_closed_total", "counter",
         "Rounds this process closed and announced.", rounds_closed.load());
  metric(out, "clickrace_scheduler_rounds_already_closed_total", "counter",
         "Close attempts that found the round already closed (nothing announced).",
         rounds_already_closed.load());
  metric(out, "clickrace_scheduler_lease_changes_total", "counter",
         "Leadership changes of this process (gained or lost).", lease_changes.load());
  metric(out, "clickrace_scheduler_is_leader", "gauge", "1 while this process leads.",
         is_leader.load() ? 1 : 0);
  metric(out, "clickrace_scheduler_redis_errors_total", "counter",
         "Redis commands that failed (transport errors and error replies).", redis_errors.load());
  metric(out, "clickrace_scheduler_leaderboards_published_total", "counter",
         "Leaderboard events published.", leaderboards.load());
  metric(out, "clickrace_scheduler_seal_calls_total", "counter",
         "seal.lua calls (one per partition and attempt).", seal_calls.load());
  metric(out, "clickrace_scheduler_partitions_sealed_total", "counter",
         "Partition rounds this process sealed (SEALED answers).", partitions_sealed.load());
  metric(out, "clickrace_scheduler_seal_early_total", "counter",
         "seal.lua EARLY answers: a partition's round had not ended yet; the close waited and "
         "retried.",
         seal_early.load());
  metric(out, "clickrace_scheduler_schedule_copies_total", "counter",
         "schedule_copy.lua calls (partitions' copies of the schedule written).",
         schedule_copies.load());
  metric(out, "clickrace_scheduler_results_not_replicated_total", "counter",
         "Round results a WAIT did not confirm on the replicas in time (not announced yet, "
         "written again).",
         results_not_replicated.load());
  out +=
      "# HELP clickrace_scheduler_close_lag_ms How long after its end (Redis time) a round was "
      "closed.\n# TYPE clickrace_scheduler_close_lag_ms histogram\n";
  close_lag_ms.render(out, "clickrace_scheduler_close_lag_ms");
  std::lock_guard<std::mutex> lock(redis_mu_);
  out += redis_text_;
  return out;
}

}  // namespace clickrace::scheduler
