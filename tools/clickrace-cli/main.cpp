// clickrace-cli: watch rounds, play from a terminal, run bot players.
#include <cstdlib>
#include <iostream>

#include "clickrace/core/log.hpp"
#include "commands.hpp"

namespace {

const char* const kUsage =
    "usage: clickrace-cli [--url URL] <command> [options]\n"
    "  watch  print every round's result as it is announced\n"
    "  play   log in and click on each key press\n"
    "  bots   run N bot players that click R times per second\n"
    "Options:\n"
    "  --url URL      the game server (gateway or load balancer); env CLICKRACE_URL,\n"
    "                 default http://127.0.0.1:8080\n"
    "  --verbose      log the client's connection events\n"
    "  --help         this text; `clickrace-cli <command> --help` for a command\n"
    "Exit codes: 0 ok, 1 runtime failure, 2 usage error.\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace clickrace::cli;
  std::vector<std::string> argv_list(argv + 1, argv + argc);
  auto args = parse_args(argv_list, {"url", "name", "password", "count", "duration", "rate"},
                         {"help", "raw", "verbose"});
  if (!args) {
    std::cerr << "clickrace-cli: " << args.error().message << "\n" << kUsage;
    return kExitUsage;
  }
  const char* env_url = std::getenv("CLICKRACE_URL");
  std::string url = args->value("url").value_or(env_url ? env_url : "http://127.0.0.1:8080");
  if (auto u = clickrace::client::parse_url(url); !u) {
    std::cerr << "clickrace-cli: --url: " << u.error().message << "\n";
    return kExitUsage;
  }
  clickrace::core::set_log_component("clickrace-cli");
  clickrace::core::set_log_level(args->has("verbose") ? clickrace::core::LogLevel::info
                                                      : clickrace::core::LogLevel::warn);

  if (args->positional.empty()) {
    std::cerr << kUsage;
    return args->has("help") ? kExitOk : kExitUsage;
  }
  std::string command = args->positional.front();
  args->positional.erase(args->positional.begin());

  using Runner = int (*)(const std::string&, const Args&, Stopper&);
  Runner run = nullptr;
  const char* help = nullptr;
  if (command == "watch") {
    run = run_watch, help = kWatchHelp;
  } else if (command == "play") {
    run = run_play, help = kPlayHelp;
  } else if (command == "bots") {
    run = run_bots, help = kBotsHelp;
  } else if (command == "help") {
    std::cout << kUsage;
    return kExitOk;
  } else {
    std::cerr << "clickrace-cli: unknown command '" << command << "'\n" << kUsage;
    return kExitUsage;
  }
  if (args->has("help")) {
    std::cout << help;
    return kExitOk;
  }
  if (command != "bots" && !args->positional.empty()) {
    std::cerr << "clickrace-cli: unexpected argument '" << args->positional.front() << "'\n"
              << help;
    return kExitUsage;
  }
  Stopper stopper;  // before any thread starts: it blocks SIGINT/SIGTERM for all of them
  return run(url, *args, stopper);
}
