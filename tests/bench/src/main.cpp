// clickrace-loadgen: the benchmark load generator (tests/bench/README in docs/performance.md).
#include <cstdio>
#include <fstream>
#include <iostream>

#include "options.hpp"
#include "report.hpp"
#include "scenarios.hpp"

using namespace clickrace::bench;

namespace {

nlohmann::json params_of(const Options& o) {
  return {{"connections", o.connections},  {"inflight", o.inflight},
          {"duration_s", o.duration_s},    {"threads", o.threads},
          {"gateways", o.gateways.size()}, {"rate", o.rate},
          {"negotiate", o.negotiate},      {"rounds", o.rounds},
          {"click_rate", o.click_rate},    {"arrivals", o.arrivals},
          {"tick_ms", o.tick_ms},          {"protocol", o.protocol}};
}

int combine(const Options& o) {
  std::vector<nlohmann::json> results;
  for (const auto& path : o.inputs) {
    std::ifstream in(path);
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) {
      std::cerr << "skipping unreadable " << path << "\n";
      continue;
    }
    results.push_back(j);
  }
  print_realclient_tables(results, o.machine, o.quick);
  print_cluster_table(results, o.machine, o.quick);
  print_targets_table(results, o.machine, o.quick);
  std::printf("\n---- per-scenario details ----\n");
  for (const auto& j : results) print_result_table(j);
  if (!o.json_path.empty()) {
    nlohmann::json all = {{"machine", o.machine}, {"results", results}};
    if (!write_json(o.json_path, all)) return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (!parsed) return 64;
  const Options& o = *parsed;
  if (o.scenario == "report") return combine(o);

  nlohmann::json out = {{"scenario", o.scenario}, {"label", o.label}, {"params", params_of(o)}};
  int rc = 0;
  if (o.scenario == "clicks") rc = run_clicks(o, out);
  if (o.scenario == "connections") rc = run_connections(o, out);
  if (o.scenario == "fanout") rc = run_fanout(o, out);
  if (o.scenario == "openloop") rc = run_openloop(o, out);
  if (rc != 0) return rc;
  print_result_table(out);
  if (!o.json_path.empty() && !write_json(o.json_path, out)) {
    std::cerr << "cannot write " << o.json_path << "\n";
    return 1;
  }
  return 0;
}
