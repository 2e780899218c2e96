#pragma once
#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

// Human tables and JSON files of the results.
namespace clickrace::bench {

// The value at `path` inside a result (a null value if any key is missing).
const nlohmann::json& at(const nlohmann::json& j, std::initializer_list<const char*> path);

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
bool write_json(const std::string& path, const nlohmann::json& value);

}  // namespace clickrace::bench
