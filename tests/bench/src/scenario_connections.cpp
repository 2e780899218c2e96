// Scenario b: ramp to N idle authenticated connections on one gateway.
#include <cstdio>

#include "runner.hpp"
#include "scenarios.hpp"
#include "server_stats.hpp"

namespace clickrace::bench {

int run_connections(const Options& opt, nlohmann::json& out) {
  Behavior idle;  // keep-alive only
  Runner runner(opt, idle);
  std::string error;
  int accounts = opt.accounts > 0 ? opt.accounts : std::min(opt.connections, 300);
  if (!runner.prepare(accounts, error)) {
    progress("cannot log in: " + error);
    return 2;
  }
  const pid_t gw = opt.gateway_pids.empty() ? 0 : opt.gateway_pids.front();
  const std::int64_t rss_before = gw ? process_rss_kb(gw) : -1;
  const std::int64_t cpu_before = gw ? process_cpu_us(gw) : -1;
  runner.create_connections();
  const double ramp_s = runner.connect_all();
  const std::int64_t cpu_after = gw ? process_cpu_us(gw) : -1;
  Totals t = runner.totals();
  progress(std::to_string(t.opened) + " open, " + std::to_string(t.failed) + " failed in " +
           std::to_string(ramp_s) + " s; holding " + std::to_string(opt.hold_s) + " s");
  sleep_seconds(1);  // let the allocator and kernel settle before reading RSS
  const std::int64_t rss_after = gw ? process_rss_kb(gw) : -1;
  sleep_seconds(opt.hold_s);
  Totals held = runner.totals();
  runner.stop();

  Histogram connect;
  for (auto& w : runner.workers) connect.merge(w->connect_ns);
  nlohmann::json r;
  r["opened"] = t.opened;
  r["failed"] = t.failed;
  r["dropped_while_idle"] = held.dropped;
  r["ramp_s"] = ramp_s;
  r["connects_per_s"] = ramp_s > 0 ? t.opened / ramp_s : 0;
  r["negotiate"] = opt.negotiate;
  r["connect_latency_ms"] = {{"p50", connect.quantile(0.5) / 1e6},
                             {"p99", connect.quantile(0.99) / 1e6},
                             {"max", connect.max() / 1e6}};
  if (gw && rss_before > 0 && rss_after > 0 && t.opened) {
    r["gateway_rss_before_kb"] = rss_before;
    r["gateway_rss_after_kb"] = rss_after;
    r["rss_per_connection_kb"] = static_cast<double>(rss_after - rss_before) / t.opened;
    r["gateway_cpu_us_per_connect"] = static_cast<double>(cpu_after - cpu_before) / t.opened;
  }
  nlohmann::json errors = nlohmann::json::object();
  for (auto& [k, v] : merged_errors(runner)) errors[k] = v;
  r["errors"] = errors;
  out["results"] = r;
  std::printf("RESULT %s opened=%llu failed=%llu connects_per_s=%.0f rss_per_conn_kb=%.2f\n",
              opt.label.c_str(), static_cast<unsigned long long>(t.opened),
              static_cast<unsigned long long>(t.failed), ramp_s > 0 ? t.opened / ramp_s : 0.0,
              r.value("rss_per_connection_kb", -1.0));
  return 0;
}

}  // namespace clickrace::bench
