// Scenario c: RoundEnded fan-out latency, from the round deadline (endedAt) to each client.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "records.hpp"
#include "runner.hpp"
#include "scenarios.hpp"
#include "server_stats.hpp"

namespace clickrace::bench {
namespace {

class FanoutBehavior : public Behavior {
 public:
  void on_invocation(HubConn& c, std::string_view target, std::string_view record) override {
    if (target != "RoundEnded") return;
    const std::int64_t now_us = wall_us();  // same machine: same clock as the scheduler's
    Worker& w = c.worker();
    auto ended = find_int(record, "endedAt");
    auto round = find_int(record, "round");
    if (!ended || !round) {
      ++w.errors["RoundEnded without endedAt/round"];
      return;
    }
    // Only rounds whose deadline falls after every client connected are measured.
    if (*ended * 1000 < w.shared.measure_from_us.load(std::memory_order_relaxed)) return;
    w.round_samples.emplace_back(*round, now_us - *ended * 1000);
    w.counters.round_ended.fetch_add(1, std::memory_order_relaxed);
  }
};

double quantile_sorted(const std::vector<std::int64_t>& v, double q) {
  if (v.empty()) return 0;
  std::size_t i = static_cast<std::size_t>(q * (v.size() - 1) + 0.5);
  return static_cast<double>(v[std::min(i, v.size() - 1)]);
}

}  // namespace

int run_fanout(const Options& opt, nlohmann::json& out) {
  FanoutBehavior behavior;
  Runner runner(opt, behavior);
  std::string error;
  int accounts = opt.accounts > 0 ? opt.accounts : std::min(opt.connections, 300);
  if (!runner.prepare(accounts, error)) {
    progress("cannot log in: " + error);
    return 2;
  }
  runner.create_connections();
  const double ramp_s = runner.connect_all();
  Totals t = runner.totals();
  progress(std::to_string(t.opened) + " open in " + std::to_string(ramp_s) + " s; waiting for " +
           std::to_string(opt.rounds) + " RoundEnded");
  if (t.opened == 0) return 3;
  std::vector<std::int64_t> cpu0;
  for (pid_t p : opt.gateway_pids) cpu0.push_back(process_cpu_us(p));
  const std::int64_t self0 = process_cpu_us(::getpid());
  runner.shared.measure_from_us = wall_us();
  const std::uint64_t want = static_cast<std::uint64_t>(opt.rounds) * t.opened;
  runner.wait_until([&] { return runner.totals().round_ended >= want; }, opt.timeout_s);
  sleep_seconds(0.5);  // stragglers of the last round
  Totals end = runner.totals();
  double gateway_cpu_us = 0;
  for (std::size_t i = 0; i < opt.gateway_pids.size(); ++i) {
    gateway_cpu_us += static_cast<double>(process_cpu_us(opt.gateway_pids[i]) - cpu0[i]);
  }
  const double self_cpu_us = static_cast<double>(process_cpu_us(::getpid()) - self0);
  runner.stop();

  std::vector<std::int64_t> all;
  std::map<std::int64_t, std::vector<std::int64_t>> by_round;
  for (auto& w : runner.workers) {
    for (auto& [round, late] : w->round_samples) {
      all.push_back(late);
      by_round[round].push_back(late);
    }
  }
  std::sort(all.begin(), all.end());
  nlohmann::json rounds = nlohmann::json::array();
  for (auto& [round, v] : by_round) {
    std::sort(v.begin(), v.end());
    rounds.push_back({{"round", round},
                      {"clients", v.size()},
                      {"first_ms", v.front() / 1e3},
                      {"p50_ms", quantile_sorted(v, 0.5) / 1e3},
                      {"p99_ms", quantile_sorted(v, 0.99) / 1e3},
                      {"last_ms", v.back() / 1e3}});
  }
  nlohmann::json r;
  r["opened"] = t.opened;
  r["failed"] = t.failed;
  r["dropped"] = end.dropped;
  r["gateways"] = opt.gateways.size();
  r["rounds_measured"] = by_round.size();
  r["deliveries"] = all.size();
  r["missing_deliveries"] =
      static_cast<std::int64_t>(by_round.size() * t.opened) - static_cast<std::int64_t>(all.size());
  r["latency_ms"] = {{"p50", quantile_sorted(all, 0.5) / 1e3},
                     {"p99", quantile_sorted(all, 0.99) / 1e3},
                     {"max", all.empty() ? 0.0 : all.back() / 1e3}};
  r["per_round"] = rounds;
  // CPU over the whole wait (idle keep-alive included), per delivered RoundEnded.
  if (!all.empty()) {
    if (!opt.gateway_pids.empty()) r["gateway_cpu_us_per_delivery"] = gateway_cpu_us / all.size();
    r["loadgen_cpu_us_per_delivery"] = self_cpu_us / all.size();
  }
  nlohmann::json errors = nlohmann::json::object();
  for (auto& [k, v] : merged_errors(runner)) errors[k] = v;
  r["errors"] = errors;
  out["results"] = r;
  std::printf(
      "RESULT %s opened=%llu rounds=%zu deliveries=%zu p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
      opt.label.c_str(), static_cast<unsigned long long>(t.opened), by_round.size(), all.size(),
      quantile_sorted(all, 0.5) / 1e3, quantile_sorted(all, 0.99) / 1e3,
      all.empty() ? 0.0 : all.back() / 1e3);
  return 0;
}

}  // namespace clickrace::bench
