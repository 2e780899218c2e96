// The Redis Cluster table (issue 10, "Capacity on paper"): the real-client click load on one Redis
// and on a 3-primary cluster side by side. What matters for capacity is the busiest primary: it
// is the first Redis core to run out, so clicks/s per primary core = its headroom / its CPU per
// click.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "report.hpp"

namespace clickrace::bench {
namespace {

constexpr double kHeadroom = 0.7;  // plan a Redis core to 70 % busy (docs/performance.md)

std::string kind_of(const nlohmann::json& j) {
  const auto& k = at(j, {"results", "server_kind"});
  return k.is_string() ? k.get<std::string>() : "?";
}

// Each primary's CPU per acked click (its CPU in the window / every acked click), largest first.
std::vector<double> per_primary_us(const nlohmann::json& j) {
  std::vector<double> out;
  const auto& nodes = at(j, {"results", "redis_nodes"});
  if (!nodes.is_array()) return out;
  for (const auto& n : nodes) {
    if (n.value("role", "") == "primary") out.push_back(dbl(at(n, {"us_per_click"}), 0));
  }
  std::sort(out.rbegin(), out.rend());
  return out;
}

void line(const std::vector<std::string>& cells) {
  static const int widths[] = {38, 11, 13, 11, 5, 6, 18, 5, 8, 7, 7, 8, 7};
  std::string out = "|";
  for (std::size_t i = 0; i < cells.size(); ++i) {
    char buf[128];
    std::snprintf(buf, sizeof buf, " %-*s |", widths[i], cells[i].c_str());
    out += buf;
  }
  std::printf("%s\n", out.c_str());
}

}  // namespace

void print_cluster_table(const std::vector<nlohmann::json>& results, const std::string& machine,
                         bool quick) {
  std::vector<const nlohmann::json*> runs;
  for (const auto& j : results) {
    if (j.value("scenario", "") == "openloop" && is_cluster_run(j)) runs.push_back(&j);
  }
  if (runs.empty()) return;
  // Side by side per offered rate: one Redis, then the cluster, then the cluster without WAIT.
  auto order = [](const nlohmann::json* j) {
    const double primaries = dbl(at(*j, {"results", "redis_primaries"}), 0);
    const bool wait0 = kind_of(*j).find("WAIT 0") != std::string::npos;
    return primaries + (wait0 ? 0.5 : 0.0);
  };
  std::stable_sort(runs.begin(), runs.end(), [&](const nlohmann::json* a, const nlohmann::json* b) {
    const double ra = dbl(at(*a, {"params", "click_rate"}), 0);
    const double rb = dbl(at(*b, {"params", "click_rate"}), 0);
    return ra != rb ? ra < rb : order(a) < order(b);
  });
  std::printf("\nclickrace benchmark, ONE REDIS vs A REDIS CLUSTER — %s%s\n", machine.c_str(),
              quick ? " (quick sizes: indicative only)" : "");
  std::printf(
      "The real-client open loop (ONE Click per frame, tick bursts) through one scheduler + one "
      "gateway. Redis us/clk = CPU of the Redis\nprocesses that run the commands (one Redis, or "
      "every primary) per acked click; per primary = each primary's CPU / all acked clicks,\n"
      "largest first; busiest %% = the busiest primary's share of one core; replicas = the "
      "replicas' CPU per click (not in the Redis column).\ncap @70%% = clicks/s the busiest "
      "primary takes at 70 %% of one core at this mix (0.7e6 / its us per click). cmd/clk = Redis "
      "commands per\nclick summed over the primaries (incl. inside scripts); clk/bat = clicks per "
      "click.lua call (the gateway's batches).\n\n");
  line({"setup", "conns x /s", "sent/acked /s", "ack p50/p99", "gw us", "Redis", "per primary us",
        "busy%", "replicas", "cmd/clk", "clk/bat", "cap @70%", "kept up"});
  line({std::string(38, '-'), std::string(11, '-'), std::string(13, '-'), std::string(11, '-'),
        std::string(5, '-'), std::string(6, '-'), std::string(18, '-'), std::string(5, '-'),
        std::string(8, '-'), std::string(7, '-'), std::string(7, '-'), std::string(8, '-'),
        std::string(7, '-')});
  for (const auto* jp : runs) {
    const auto& j = *jp;
    const auto& r = at(j, {"results"});
    const auto& cpu = at(r, {"server_cpu"});
    double gw = -1;
    if (cpu.is_object()) {
      for (auto it = cpu.begin(); it != cpu.end(); ++it) {
        if (it.key() != "redis") gw = std::max(gw, 0.0) + dbl(at(*it, {"us_per_click"}), 0);
      }
    }
    const std::vector<double> prim = per_primary_us(j);
    std::string spread;
    for (double v : prim) spread += (spread.empty() ? "" : " / ") + fmt(v, "%.1f");
    const double busiest_us = prim.empty() ? -1 : prim.front();
    char what[64];
    std::snprintf(what, sizeof what, "%d x %.0f",
                  static_cast<int>(dbl(at(j, {"params", "connections"}), 0)),
                  dbl(at(j, {"params", "click_rate"}), 0));
    const bool kept = r.is_object() && r.value("generator_kept_up", false);
    line(
        {kind_of(j), what,
         fmt(dbl(at(r, {"sent_per_s"})), "%.0f") + " / " + fmt(dbl(at(r, {"acked_per_s"})), "%.0f"),
         fmt(dbl(at(r, {"latency_us", "p50"})) / 1e3, "%.1f") + " / " +
             fmt(dbl(at(r, {"latency_us", "p99"})) / 1e3, "%.1f"),
         fmt(gw, "%.1f"), fmt(dbl(at(r, {"server_cpu", "redis", "us_per_click"})), "%.1f"),
         spread.empty() ? "n/a" : spread, fmt(dbl(at(r, {"redis_busiest_primary_pct"})), "%.0f"),
         fmt(dbl(at(r, {"redis_replicas", "us_per_click"})), "%.1f"),
         fmt(dbl(at(r, {"redis_calls_per_click"})), "%.2f"),
         fmt(dbl(at(r, {"clicks_per_batch"})), "%.1f"),
         busiest_us > 0 ? fmt(kHeadroom * 1e6 / busiest_us, "%.0f") : "n/a",
         r.contains("generator_kept_up") ? (kept ? "yes" : "NO") : "n/a"});
  }
  std::printf(
      "(one run each, on a machine shared with the load generator and other work: indicative; "
      "ack latency from the frame's write)\n");
}

}  // namespace clickrace::bench
