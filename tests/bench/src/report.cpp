#include "report.hpp"

#include <cstdio>
#include <fstream>

namespace clickrace::bench {
namespace {

std::string num(const nlohmann::json& j, const char* format) {
  if (!j.is_number()) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, j.get<double>());
  return buf;
}

void row(const std::string& a, const std::string& b, const std::string& c, const std::string& d) {
  std::printf("| %-58s | %-22s | %-22s | %-6s |\n", a.c_str(), b.c_str(), c.c_str(), d.c_str());
}

const char* verdict(const nlohmann::json& v, double target, bool at_least) {
  if (!v.is_number()) return "n/a";
  double x = v.get<double>();
  return (at_least ? x >= target : x <= target) ? "met" : "MISSED";
}

}  // namespace

const nlohmann::json& at(const nlohmann::json& j, std::initializer_list<const char*> path) {
  static const nlohmann::json null;
  const nlohmann::json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object() || !cur->contains(k)) return null;
    cur = &(*cur)[k];
  }
  return *cur;
}

double dbl(const nlohmann::json& j, double fallback) {
  return j.is_number() ? j.get<double>() : fallback;
}

std::string fmt(double v, const char* format) {
  if (v < 0) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

void print_result_table(const nlohmann::json& j) {
  std::printf("\n== %s (%s) ==\n", j.value("label", "?").c_str(), j.value("scenario", "?").c_str());
  std::printf("params:  %s\n", j["params"].dump().c_str());
  const auto& r = j["results"];
  for (auto it = r.begin(); it != r.end(); ++it) {
    if (it.key() == "per_round") {
      for (const auto& round : *it) {
        std::printf("  round %-8s clients %-6s first %s ms, p50 %s ms, p99 %s ms, last %s ms\n",
                    round["round"].dump().c_str(), round["clients"].dump().c_str(),
                    num(round["first_ms"], "%.1f").c_str(), num(round["p50_ms"], "%.1f").c_str(),
                    num(round["p99_ms"], "%.1f").c_str(), num(round["last_ms"], "%.1f").c_str());
      }
      continue;
    }
    std::printf("  %-32s %s\n", it.key().c_str(),
                it->is_number_float() ? num(*it, "%.3f").c_str() : it->dump().c_str());
  }
}

void print_targets_table(const std::vector<nlohmann::json>& results, const std::string& machine,
                         bool quick) {
  // Reduced sizes (--quick) make the verdicts meaningless: say so instead of met/MISSED.
  auto judge = [quick](const nlohmann::json& v, double target, bool at_least) {
    return quick ? "quick" : verdict(v, target, at_least);
  };
  const nlohmann::json* clicks1 = nullptr;
  const nlohmann::json* clicks2 = nullptr;
  const nlohmann::json* conns = nullptr;
  const nlohmann::json* conns_skip = nullptr;
  const nlohmann::json* light = nullptr;
  const nlohmann::json* msgpack1 = nullptr;  // the same pipelined run in MessagePack
  const nlohmann::json* fanout = nullptr;
  std::vector<const nlohmann::json*> fanout_runs;  // the target holds in every one of them
  for (const auto& j : results) {
    std::string sc = j.value("scenario", "");
    std::size_t gws = at(j, {"params", "gateways"}).is_number()
                          ? at(j, {"params", "gateways"}).get<std::size_t>()
                          : 1;
    const std::string label = j.value("label", "");
    if (label == "connections-aspnet") continue;  // the peer's: in the real-client section
    if (label == "clicks-1gw-light") {
      light = &j;
      continue;
    }
    if (label == "clicks-1gw-msgpack") {
      msgpack1 = &j;
      continue;
    }
    if (sc == "clicks" && gws == 1 && !clicks1) clicks1 = &j;
    if (sc == "clicks" && gws == 2 && !clicks2) clicks2 = &j;
    const bool negotiated =
        at(j, {"params", "negotiate"}).is_boolean() && at(j, {"params", "negotiate"}).get<bool>();
    if (sc == "connections" && negotiated && !conns) conns = &j;
    if (sc == "connections" && !negotiated && !conns_skip) conns_skip = &j;
    if (sc == "fanout" && !fanout) fanout = &j;
    if (sc == "fanout") fanout_runs.push_back(&j);
  }
  // Only real-client or cluster runs (e.g. --only cluster): no table of n/a rows.
  if (!clicks1 && !clicks2 && !conns && !conns_skip && !light && !msgpack1 && !fanout) return;
  static const nlohmann::json empty = nlohmann::json::object();
  const auto& c1 = clicks1 ? *clicks1 : empty;
  const auto& c2 = clicks2 ? *clicks2 : empty;
  const auto& cn = conns ? *conns : empty;
  const auto& fo = fanout ? *fanout : empty;
  const auto& cs = conns_skip ? *conns_skip : empty;
  const auto& cl = light ? *light : empty;
  const auto& mp = msgpack1 ? *msgpack1 : empty;

  std::printf(
      "\nclickrace benchmark, PIPELINED SATURATION (16 Click records in flight per connection, "
      "closed loop: not what real clients do) — %s\n",
      machine.c_str());
  row("measure", "target", "measured", "");
  row("----------------------------------------------------------", "----------------------",
      "----------------------", "------");
  const auto& rate1 = at(c1, {"results", "acked_per_s"});
  row("acked Click()/s, ONE gateway + Redis", ">= 100,000", num(rate1, "%.0f"),
      judge(rate1, 100000, true));
  const auto& cpu = at(c1, {"results", "server_cpu_us_per_click"});
  row("server CPU (gateway + Redis) per acked click, us", "<= 8", num(cpu, "%.2f"),
      judge(cpu, 8, false));
  const auto& rate_mp = at(mp, {"results", "acked_per_s"});
  const auto& cpu_mp = at(mp, {"results", "server_cpu_us_per_click"});
  row("  the same in MessagePack: acked/s, CPU us per click", "",
      num(rate_mp, "%.0f") + ", " + num(cpu_mp, "%.2f"), "");
  const auto& opened = at(cn, {"results", "opened"});
  row("idle authenticated connections on one gateway", ">= 10,000", num(opened, "%.0f"),
      judge(opened, 10000, true));
  const auto& rss = at(cn, {"results", "rss_per_connection_kb"});
  row("  resident memory per connection, KB", "<= 8", num(rss, "%.2f"), judge(rss, 8, false));
  // Fan-out: the target must hold in every run (scripts/bench runs it BENCH_FANOUT_RUNS times).
  std::string per_run;
  nlohmann::json worst;
  for (const auto* f : fanout_runs) {
    const auto& v = at(*f, {"results", "latency_ms", "p99"});
    per_run += (per_run.empty() ? "" : ", ") + num(v, "%.0f");
    if (v.is_number() && (!worst.is_number() || v.get<double>() > worst.get<double>())) worst = v;
  }
  row("RoundEnded fan-out over 2 gateways, deadline->client p99 ms", "<= 100, every run",
      per_run.empty() ? "n/a" : per_run, judge(worst, 100, false));
  const auto& cps = at(cn, {"results", "connects_per_s"});
  row("new authenticated connections/s per gateway", ">= 3,000", num(cps, "%.0f"),
      judge(cps, 3000, true));
  std::printf("\ndetails:\n");
  row("measure", "", "measured", "");
  row("click ack latency p50 / p99 / p99.9 us (full load)", "",
      num(at(c1, {"results", "latency_us", "p50"}), "%.0f") + " / " +
          num(at(c1, {"results", "latency_us", "p99"}), "%.0f") + " / " +
          num(at(c1, {"results", "latency_us", "p999"}), "%.0f"),
      "");
  row("ack latency p50/p99/p99.9 us, 50 conns x 1 (closed loop)", "",
      num(at(cl, {"results", "latency_us", "p50"}), "%.0f") + " / " +
          num(at(cl, {"results", "latency_us", "p99"}), "%.0f") + " / " +
          num(at(cl, {"results", "latency_us", "p999"}), "%.0f"),
      "");
  row("Redis script calls (EVALSHA) per acked click", "",
      num(at(c1, {"results", "redis_script_calls_per_click"}), "%.4f"), "");
  row("Redis commands per acked click (incl. inside scripts)", "",
      num(at(c1, {"results", "redis_calls_per_click"}), "%.4f"), "");
  row("clicks per click.lua batch", "", num(at(c1, {"results", "clicks_per_batch"}), "%.1f"), "");
  row("scale-out: acked Click()/s through TWO gateways", "",
      num(at(c2, {"results", "acked_per_s"}), "%.0f"), "");
  row("scale-out: server CPU per acked click, us (2 gateways)", "",
      num(at(c2, {"results", "server_cpu_us_per_click"}), "%.2f"), "");
  row("fan-out p50 / max ms", "",
      num(at(fo, {"results", "latency_ms", "p50"}), "%.1f") + " / " +
          num(at(fo, {"results", "latency_ms", "max"}), "%.1f"),
      "");
  row("new connections/s with skipNegotiation (one TCP connect)", "",
      num(at(cs, {"results", "connects_per_s"}), "%.0f"), "");
  row("gateway CPU per new connection, us (negotiate / skip)", "",
      num(at(cn, {"results", "gateway_cpu_us_per_connect"}), "%.0f") + " / " +
          num(at(cs, {"results", "gateway_cpu_us_per_connect"}), "%.0f"),
      "");
  row("connect latency p50 / p99 ms", "",
      num(at(cn, {"results", "connect_latency_ms", "p50"}), "%.1f") + " / " +
          num(at(cn, {"results", "connect_latency_ms", "p99"}), "%.1f"),
      "");
  std::printf(
      "(the load generator shares the machine with the servers; numbers are lower bounds)\n");
}

bool write_json(const std::string& path, const nlohmann::json& value) {
  std::ofstream out(path);
  if (!out) return false;
  out << value.dump(2) << "\n";
  return static_cast<bool>(out);
}

}  // namespace clickrace::bench
