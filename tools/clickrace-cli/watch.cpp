#include "commands.hpp"

namespace clickrace::cli {

const char* const kWatchHelp =
    "usage: clickrace-cli [--url URL] watch [--name NAME --password PASSWORD] [--count K]\n"
    "                                       [--duration SECONDS]\n"
    "Prints every round's result as it is announced, until Ctrl-C.\n"
    "  --name, --password  log in as this account (registered if missing); default: a new\n"
    "                      random watcher account\n"
    "  --count K           exit after K results\n"
    "  --duration SECONDS  exit after this long\n";

int run_watch(const std::string& base_url, const Args& args, Stopper& stopper) {
  auto count = args.integer("count", 0, 1, 1'000'000);
  auto duration = args.integer("duration", 0, 1, 365LL * 86400);
  if (!count || !duration) {
    warn((!count ? count.error() : duration.error()).message);
    return kExitUsage;
  }
  auto name = args.value("name");
  auto password = args.value("password");
  if (name.has_value() != password.has_value()) {
    warn("watch: give both --name and --password, or neither");
    return kExitUsage;
  }
  auto login = std::make_shared<Login>(base_url, name.value_or("watch-" + random_text(10)),
                                       password.value_or(random_text(20)));
  if (auto s = login->sign_in(); !s) {
    warn("watch: cannot log in: " + s.error().message);
    return kExitRuntime;
  }

  client::HubClient hub(hub_options(base_url, login));
  std::atomic<long long> seen{0};
  const long long wanted = *count;
  hub.on("RoundEnded", [&](const client::Json& args) {
    if (!args.is_array() || args.empty()) return;
    say(format_round_result(args[0]));
    if (wanted > 0 && ++seen >= wanted) stopper.request_stop(kExitOk);
  });
  hub.on_reconnecting([](const std::string& error) { warn("reconnecting: " + error); });
  hub.on_reconnected([](const std::string&) { warn("reconnected"); });
  std::atomic<bool> leaving{false};  // our own stop() also reports closed
  hub.on_closed([&](const std::optional<std::string>& error) {
    if (leaving || stopper.stopped()) return;
    warn("connection closed" + (error ? ": " + *error : std::string()));
    stopper.request_stop(kExitRuntime);
  });

  auto started = hub.ensure_started().get();
  if (!started) {
    warn("watch: cannot connect: " + started.error().message);
    return kExitRuntime;
  }
  say("watching rounds at " + base_url + " as " + login->name());
  if (*duration > 0) {
    stopper.wait_for(std::chrono::seconds(*duration));
  } else {
    stopper.wait();
  }
  leaving = true;
  hub.stop();
  return stopper.stopped() ? stopper.exit_code() : kExitOk;
}

}  // namespace clickrace::cli
