#pragma once
#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

// Human tables and JSON files of the results.
namespace clickrace::bench {

// The value at `path` inside a result (a null value if any key is missing).
const nlohmann::json& at(const nlohmann::json& j, std::initializer_list<const char*> path);
// A number, or `fallback` when the value is not one.
double dbl(const nlohmann::json& j, double fallback = -1);
// printf-formats `v`; "n/a" when it is negative (unknown).
std::string fmt(double v, const char* format);
// Runs of the Redis Cluster scenario (scripts/bench --only cluster) carry this label prefix; they
// get their own table instead of rows in the real-client one.
inline bool is_cluster_run(const nlohmann::json& j) {
  return j.value("label", "").rfind("cluster-", 0) == 0;
}

// The detail table of one scenario result.
void print_result_table(const nlohmann::json& result);
// The combined table: every target of performance.md against what the results measured.
// `quick`: the sizes were reduced, so verdicts against the targets would mislead: none is given.
void print_targets_table(const std::vector<nlohmann::json>& results, const std::string& machine,
                         bool quick = false);
// The real-client (open-loop) table, the I/O floor and the peer beside clickrace, and the
// real-client targets. Printed first by `report`.
void print_realclient_tables(const std::vector<nlohmann::json>& results, const std::string& machine,
                             bool quick = false);
// The Redis Cluster table: the same open-loop click load on one Redis and on a cluster, Redis CPU
// per click in total, per primary and on the replicas.
void print_cluster_table(const std::vector<nlohmann::json>& results, const std::string& machine,
                         bool quick = false);
bool write_json(const std::string& path, const nlohmann::json& value);

}  // namespace clickrace::bench
