// Scenario a (and d, run once per gateway count by scripts/bench): click throughput.
#include <unistd.h>

#include <cstdio>
#include <string>

#include "records.hpp"
#include "runner.hpp"
#include "scenarios.hpp"
#include "server_stats.hpp"

namespace clickrace::bench {
namespace {

// Keeps opt.inflight Click invocations in flight per connection. An error answer (rate limit,
// no round yet, overload) frees its slot but the slot is refilled only on the next sweep tick,
// so errors back off instead of spinning.
class ClickBehavior : public Behavior {
 public:
  explicit ClickBehavior(int inflight) : inflight_(inflight) {
    std::size_t ring = 16;
    while (ring < static_cast<std::size_t>(inflight) * 4) ring <<= 1;
    ring_ = ring;
  }

  void on_open(HubConn& c) override {
    c.sent_ns.assign(ring_, 0);
    top_up(c);
  }

  void on_completion(HubConn& c, std::uint64_t id, bool error, std::string_view record) override {
    if (c.inflight > 0) --c.inflight;
    Worker& w = c.worker();
    if (error) {
      w.counters.click_errors.fetch_add(1, std::memory_order_relaxed);
      auto text = find_string(record, "error");
      ++w.errors["Click error: " + std::string(text ? *text : "?")];
      return;
    }
    w.counters.acked.fetch_add(1, std::memory_order_relaxed);
    if (w.shared.measuring.load(std::memory_order_relaxed)) {
      const std::int64_t sent = c.sent_ns[id & (ring_ - 1)];
      if (sent > 0) w.latency_ns.record(static_cast<std::uint64_t>(mono_ns() - sent));
    }
    top_up(c);
  }

  void on_tick(HubConn& c, std::int64_t) override { top_up(c); }

 private:
  void top_up(HubConn& c) {
    if (c.inflight >= inflight_) return;
    const std::int64_t now = mono_ns();
    while (c.inflight < inflight_) {
      const std::uint64_t id = c.next_id++;
      c.send_click(id);
      c.sent_ns[id & (ring_ - 1)] = now;
      ++c.inflight;
    }
  }

  int inflight_;
  std::size_t ring_;
};

std::vector<pid_t> server_pids(const Options& opt) {
  std::vector<pid_t> pids = opt.gateway_pids;
  pids.insert(pids.end(), opt.redis_pids.begin(), opt.redis_pids.end());
  return pids;
}

}  // namespace

int run_clicks(const Options& opt, nlohmann::json& out) {
  ClickBehavior behavior(opt.inflight);
  Runner runner(opt, behavior);
  std::string error;
  int accounts = opt.accounts > 0 ? opt.accounts : std::min(opt.connections, 64);
  if (!runner.prepare(accounts, error)) {
    progress("cannot log in: " + error);
    return 2;
  }
  runner.create_connections();
  double connect_s = runner.connect_all();
  Totals t = runner.totals();
  progress(std::to_string(t.opened) + "/" + std::to_string(opt.connections) + " open in " +
           std::to_string(connect_s) + " s; warming up");
  if (t.opened == 0) {
    runner.stop();
    for (auto& [k, v] : merged_errors(runner)) progress("  " + k + ": " + std::to_string(v));
    return 3;
  }
  sleep_seconds(opt.warmup_s);

  const std::vector<pid_t> pids = server_pids(opt);
  ServerSnapshot s0 = take_snapshot(pids, opt.redis, opt.gateways);
  const std::int64_t self0 = process_cpu_us(::getpid());
  Totals t0 = runner.totals();
  const std::int64_t w0 = mono_ns();
  runner.shared.measuring = true;
  // The window, with one progress line a second (bounded by the duration).
  for (int s = 0; s < static_cast<int>(opt.duration_s); ++s) {
    sleep_seconds(1);
    Totals now = runner.totals();
    progress("t=" + std::to_string(s + 1) + "s acked " + std::to_string(now.acked - t0.acked) +
             ", errors " + std::to_string(now.click_errors - t0.click_errors));
  }
  sleep_seconds(opt.duration_s - static_cast<int>(opt.duration_s));
  runner.shared.measuring = false;
  const std::int64_t w1 = mono_ns();
  Totals t1 = runner.totals();
  ServerSnapshot s1 = take_snapshot(pids, opt.redis, opt.gateways);
  const std::int64_t self1 = process_cpu_us(::getpid());
  runner.stop();

  Histogram lat;
  for (auto& w : runner.workers) lat.merge(w->latency_ns);
  const double window_s = (w1 - w0) / 1e9;
  const std::uint64_t acked = t1.acked - t0.acked;
  const double per_click = acked ? 1.0 / static_cast<double>(acked) : 0.0;

  nlohmann::json r;
  r["window_s"] = window_s;
  r["connections_open"] = t.opened;
  r["connections_failed"] = t.failed;
  r["connections_dropped"] = t1.dropped;
  r["acked"] = acked;
  r["acked_per_s"] = acked / window_s;
  r["click_errors"] = t1.click_errors - t0.click_errors;
  r["latency_us"] = {{"p50", lat.quantile(0.5) / 1e3},
                     {"p99", lat.quantile(0.99) / 1e3},
                     {"p999", lat.quantile(0.999) / 1e3},
                     {"max", lat.max() / 1e3},
                     {"mean", lat.mean() / 1e3}};
  if (!pids.empty() && acked) {
    double server_us = 0, redis_us = 0;
    nlohmann::json parts = nlohmann::json::object();
    for (std::size_t i = 0; i < pids.size(); ++i) {
      double d = static_cast<double>(s1.cpu_us[i] - s0.cpu_us[i]);
      server_us += d;
      if (i >= opt.gateway_pids.size()) {  // every Redis process (a cluster's primaries) as one
        redis_us += d;
        continue;
      }
      parts["gateway" + std::to_string(i + 1)] = {{"cpu_s", d / 1e6},
                                                  {"us_per_click", d * per_click}};
    }
    if (!opt.redis_pids.empty()) {
      parts["redis"] = {{"cpu_s", redis_us / 1e6}, {"us_per_click", redis_us * per_click}};
    }
    r["server_cpu_us_per_click"] = server_us * per_click;
    r["server_cpu"] = parts;
  }
  r["loadgen_cpu_us_per_click"] = (self1 - self0) * per_click;
  if (s1.redis.ok && acked) {
    r["redis_calls_per_click"] = (s1.redis.calls_total - s0.redis.calls_total) * per_click;
    r["redis_script_calls_per_click"] =
        (s1.redis.calls_scripts - s0.redis.calls_scripts) * per_click;
    r["redis_command_usec_per_click"] = (s1.redis.usec_total - s0.redis.usec_total) * per_click;
  }
  const double batches = s1.click_batches - s0.click_batches;
  if (batches > 0) r["clicks_per_batch"] = (s1.clicks_accepted - s0.clicks_accepted) / batches;
  // Cross-check: what the gateways say they stored in the same window (snapshots are taken a few
  // ms apart from the loadgen's counters, so expect agreement within a fraction of a percent).
  r["gateway_clicks_accepted"] = s1.clicks_accepted - s0.clicks_accepted;
  nlohmann::json errors = nlohmann::json::object();
  for (auto& [k, v] : merged_errors(runner)) errors[k] = v;
  r["errors"] = errors;

  out["results"] = r;
  std::printf(
      "RESULT %s acked=%llu acked_per_s=%.0f p50_us=%.0f p99_us=%.0f p999_us=%.0f "
      "errors=%llu\n",
      opt.label.c_str(), static_cast<unsigned long long>(acked), acked / window_s,
      lat.quantile(0.5) / 1e3, lat.quantile(0.99) / 1e3, lat.quantile(0.999) / 1e3,
      static_cast<unsigned long long>(t1.click_errors - t0.click_errors));
  return 0;
}

}  // namespace clickrace::bench
