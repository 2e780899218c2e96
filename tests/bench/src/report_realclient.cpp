// The real-client table (issue 13): open-loop runs of clickrace, the I/O floor and the ASP.NET
// Core SignalR peer at the same offered rates, side by side, then the targets at 10,000 clicks/s.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>

#include "report.hpp"

namespace clickrace::bench {
namespace {

std::string kind_of(const nlohmann::json& j) {
  std::string k = at(j, {"results", "server_kind"}).is_string()
                      ? at(j, {"results", "server_kind"}).get<std::string>()
                      : "clickrace";
  const std::string label = j.value("label", "");
  if (label.find("aof-always") != std::string::npos) k += " (AOF always)";
  if (label.find("aof-everysec") != std::string::npos) k += " (AOF everysec)";
  if (at(j, {"params", "arrivals"}) == "official-js") k += " (official JS client)";
  if (at(j, {"params", "protocol"}) == "messagepack") k += " (MessagePack)";
  return k;
}

// Gateway (or server process) CPU per click, without Redis.
double gateway_us(const nlohmann::json& j) {
  const auto& cpu = at(j, {"results", "server_cpu"});
  if (!cpu.is_object()) return -1;
  double sum = 0;
  bool any = false;
  for (auto it = cpu.begin(); it != cpu.end(); ++it) {
    if (it.key() == "redis") continue;
    sum += dbl(at(*it, {"us_per_click"}), 0);
    any = true;
  }
  return any ? sum : -1;
}

double redis_us(const nlohmann::json& j) {
  return dbl(at(j, {"results", "server_cpu", "redis", "us_per_click"}));
}

using Key = std::tuple<std::string, int, double>;  // arrivals, connections, offered rate

Key key_of(const nlohmann::json& j) {
  return {at(j, {"params", "arrivals"}).is_string()
              ? at(j, {"params", "arrivals"}).get<std::string>()
              : "?",
          static_cast<int>(dbl(at(j, {"params", "connections"}), 0)),
          dbl(at(j, {"params", "click_rate"}), 0)};
}

void line(const std::string& a, const std::string& b, const std::string& c, const std::string& d,
          const std::string& e, const std::string& f, const std::string& g, const std::string& h,
          const std::string& i) {
  std::printf("| %-40s | %-13s | %-12s | %-11s | %-7s | %-19s | %-7s | %-7s | %-16s |\n", a.c_str(),
              b.c_str(), c.c_str(), d.c_str(), e.c_str(), f.c_str(), g.c_str(), h.c_str(),
              i.c_str());
}

}  // namespace

void print_realclient_tables(const std::vector<nlohmann::json>& results, const std::string& machine,
                             bool quick) {
  std::vector<const nlohmann::json*> runs;
  std::map<Key, const nlohmann::json*> floor;
  for (const auto& j : results) {
    if (j.value("scenario", "") != "openloop" || is_cluster_run(j)) continue;
    runs.push_back(&j);
    if (kind_of(j) == "floor") floor[key_of(j)] = &j;
  }
  if (runs.empty()) return;
  auto order = [](const nlohmann::json* j) {
    const std::string k = kind_of(*j);
    return k == "clickrace" ? 0 : k == "aspnet" ? 1 : k == "floor" ? 2 : 3;
  };
  std::stable_sort(runs.begin(), runs.end(), [&](const nlohmann::json* a, const nlohmann::json* b) {
    auto ka = key_of(*a), kb = key_of(*b);
    if (std::get<0>(ka) != std::get<0>(kb)) return std::get<0>(ka) < std::get<0>(kb);
    if (std::get<1>(ka) != std::get<1>(kb)) return std::get<1>(ka) < std::get<1>(kb);
    if (std::get<2>(ka) != std::get<2>(kb)) return std::get<2>(ka) < std::get<2>(kb);
    return order(a) < order(b);
  });
  std::printf("\nclickrace benchmark, REAL CLIENTS — %s\n", machine.c_str());
  std::printf(
      "Open loop: a fixed offered rate, ONE Click record per WebSocket frame, sent on schedule "
      "whether or not answers came back;\nack latency from the frame's write to its answer (from "
      "the schedule, incl. the generator's own lag: in the JSON). burst = every connection's due\n"
      "clicks leave together on 20 ms ticks; spread = one evenly spaced stream. 1-bat %% = batches "
      "of one click (one Redis script call per click).\n"
      "us/clk (marg) = server CPU (gateway + Redis) per acked click (marginal: less the same "
      "processes' idle CPU with every\n"
      "connection open). 'x floor' = the server process's CPU per click / the I/O floor's (a bare "
      "raw-Asio WebSocket "
      "endpoint answering each frame\nwith a fixed reply) at the same load. 'kept up' = the "
      "generator sent >= 99 %% of the offered clicks, 99 %% of them within 20 ms of schedule.\n\n");
  line("server, arrivals, conns x offered/s", "sent/acked /s", "us/clk (marg)", "srv + Redis",
       "x floor", "ack p50/p99/p99.9 ms", "clk/bat", "1-bat %", "kept up (lag p99)");
  line("----------------------------------------", "-------------", "------------", "-----------",
       "-------", "-------------------", "-------", "-------", "----------------");
  for (const auto* jp : runs) {
    const auto& j = *jp;
    const auto& r = at(j, {"results"});
    auto [arr, conns, rate] = key_of(j);
    const double gw = gateway_us(j);
    std::string ratio = "";
    auto f = floor.find(key_of(j));
    if (kind_of(j) != "floor" && f != floor.end() && gateway_us(*f->second) > 0 && gw > 0) {
      ratio = fmt(gw / gateway_us(*f->second), "%.1f");
    }
    char what[80];
    std::snprintf(what, sizeof what, "%s, %s, %d x %.0f", kind_of(j).c_str(), arr.c_str(), conns,
                  rate);
    const bool kept = r.is_object() && r.value("generator_kept_up", false);
    line(what,
         fmt(dbl(at(r, {"sent_per_s"})), "%.0f") + " / " + fmt(dbl(at(r, {"acked_per_s"})), "%.0f"),
         fmt(dbl(at(r, {"server_cpu_us_per_click"})), "%.1f") + " (" +
             fmt(dbl(at(r, {"server_cpu_marginal_us_per_click"})), "%.1f") + ")",
         fmt(gw, "%.1f") + " + " + fmt(redis_us(j), "%.1f"), ratio,
         fmt(dbl(at(r, {"latency_us", "p50"})) / 1e3, "%.1f") + " / " +
             fmt(dbl(at(r, {"latency_us", "p99"})) / 1e3, "%.1f") + " / " +
             fmt(dbl(at(r, {"latency_us", "p999"})) / 1e3, "%.1f"),
         fmt(dbl(at(r, {"clicks_per_batch"})), "%.1f"),
         fmt(dbl(at(r, {"batches_of_1_pct"})), "%.0f"),
         (r.contains("generator_kept_up") ? (kept ? "yes" : "NO") : "n/a") + std::string(" (") +
             fmt(dbl(at(r, {"send_lag_us", "p99"})) / 1e3, "%.1f") + " ms)");
  }

  // The targets: 10,000 clicks/s offered, 200 connections, burst arrivals, AOF as configured.
  const nlohmann::json* target_run = nullptr;
  const nlohmann::json* target_floor = nullptr;
  for (const auto* jp : runs) {
    if (key_of(*jp) != Key{"burst", 200, 10000}) continue;
    if (kind_of(*jp) == "clickrace" && !target_run) target_run = jp;
    if (kind_of(*jp) == "floor" && !target_floor) target_floor = jp;
  }
  std::printf("\nreal-client targets (10,000 clicks/s offered, 200 connections, burst):\n");
  auto verdict = [quick](double v, double target) {
    if (quick) return std::string("quick");
    if (v < 0) return std::string("n/a");
    return std::string(v <= target ? "met" : "MISSED");
  };
  auto trow = [](const std::string& a, const std::string& b, const std::string& c,
                 const std::string& d) {
    std::printf("| %-50s | %-8s | %-12s | %-6s |\n", a.c_str(), b.c_str(), c.c_str(), d.c_str());
  };
  trow("measure", "target", "measured", "");
  trow("--------------------------------------------------", "--------", "------------", "------");
  const nlohmann::json empty = nlohmann::json::object();
  const auto& t = target_run ? *target_run : empty;
  const double cpu = dbl(at(t, {"results", "server_cpu_us_per_click"}));
  trow("server CPU (gateway + Redis) per click, us", "<= 12", fmt(cpu, "%.1f"), verdict(cpu, 12));
  const double p50 = dbl(at(t, {"results", "latency_us", "p50"})) / 1e3;
  trow("ack latency p50, ms", "<= 3", fmt(p50, "%.2f"), verdict(p50, 3));
  const double p99 = dbl(at(t, {"results", "latency_us", "p99"})) / 1e3;
  trow("ack latency p99, ms", "<= 15", fmt(p99, "%.2f"), verdict(p99, 15));
  const double ratio = target_floor && gateway_us(*target_floor) > 0 && gateway_us(t) > 0
                           ? gateway_us(t) / gateway_us(*target_floor)
                           : -1;
  trow("gateway CPU per click / the I/O floor's", "<= 1.5", fmt(ratio, "%.2f"),
       verdict(ratio, 1.5));
  trow("  the floor itself, us per click", "",
       fmt(target_floor ? gateway_us(*target_floor) : -1, "%.2f"), "");

  // Memory per idle connection, clickrace against the peer (scenario "connections").
  for (const auto& j : results) {
    if (j.value("scenario", "") != "connections") continue;
    std::printf("idle connections, %-30s %s open, %s KB resident per connection\n",
                (j.value("label", "?") + ":").c_str(),
                fmt(dbl(at(j, {"results", "opened"})), "%.0f").c_str(),
                fmt(dbl(at(j, {"results", "rss_per_connection_kb"})), "%.2f").c_str());
  }
}

}  // namespace clickrace::bench
