#pragma once
#include <string>

#include "args.hpp"
#include "common.hpp"

namespace clickrace::cli {

// Each returns an exit code (kExitOk, kExitRuntime, kExitUsage).
int run_watch(const std::string& base_url, const Args& args, Stopper& stopper);
int run_play(const std::string& base_url, const Args& args, Stopper& stopper);
int run_bots(const std::string& base_url, const Args& args, Stopper& stopper);

extern const char* const kWatchHelp;
extern const char* const kPlayHelp;
extern const char* const kBotsHelp;

}  // namespace clickrace::cli
