#pragma once
#include <nlohmann/json.hpp>

#include "options.hpp"

// The benchmark scenarios. Each fills `out` ({"scenario","label","params","results"}) and
// returns a process exit code (0 = the scenario ran; numbers are never judged here).
namespace clickrace::bench {

int run_clicks(const Options& opt, nlohmann::json& out);
int run_connections(const Options& opt, nlohmann::json& out);
int run_fanout(const Options& opt, nlohmann::json& out);
int run_openloop(const Options& opt, nlohmann::json& out);

}  // namespace clickrace::bench
