#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include "commands.hpp"

namespace clickrace::cli {
namespace {

// Raw terminal mode for the lifetime of the object (each key is delivered at once, no echo).
class RawTerminal {
 public:
  RawTerminal() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  bool active() const { return active_; }

 private:
  termios saved_{};
  bool active_ = false;
};

// Clicks for the bytes typed: one per Enter in line mode, one per key in raw mode ('q' quits).
struct Keys {
  int clicks = 0;
  bool quit = false;
};
Keys count_keys(const char* data, ssize_t n, bool raw) {
  Keys k;
  for (ssize_t i = 0; i < n; ++i) {
    char c = data[i];
    if (raw && (c == 'q' || c == 4)) return k.quit = true, k;
    if (raw || c == '\n') ++k.clicks;
  }
  return k;
}

}  // namespace

const char* const kPlayHelp =
    "usage: clickrace-cli [--url URL] play --name NAME --password PASSWORD [--raw]\n"
    "Logs in (registering the account if needed) and clicks once per Enter, printing your\n"
    "total in the current round and each round's result. Ctrl-D or Ctrl-C quits.\n"
    "  --raw  every key press is a click (terminal raw mode); 'q' quits\n";

int run_play(const std::string& base_url, const Args& args, Stopper& stopper) {
  auto name = args.value("name");
  auto password = args.value("password");
  if (!name || !password) {
    warn("play: --name and --password are required\n" + std::string(kPlayHelp));
    return kExitUsage;
  }
  auto login = std::make_shared<Login>(base_url, *name, *password);
  if (auto s = login->sign_in(); !s) {
    warn("play: cannot log in: " + s.error().message);
    return kExitRuntime;
  }
  client::HubClient hub(hub_options(base_url, login));
  const std::string me = login->name();
  hub.on("RoundStarted", [](const client::Json& a) {
    if (a.is_array() && !a.empty() && a[0].contains("round")) {
      say("round " + a[0]["round"].dump() + " started");
    }
  });
  hub.on("RoundEnded", [me](const client::Json& a) {
    if (!a.is_array() || a.empty()) return;
    std::string line = format_round_result(a[0]);
    const auto& winners = a[0].value("winners", client::Json::array());
    for (const auto& w : winners) {
      if (w.is_string() && w.get<std::string>() == me) line += " -- you won!";
    }
    say(line);
  });
  hub.on_reconnecting([](const std::string& e) { warn("reconnecting: " + e); });
  hub.on_reconnected([](const std::string&) { warn("reconnected"); });
  std::atomic<bool> leaving{false};  // our own stop() also reports closed
  hub.on_closed([&](const std::optional<std::string>& e) {
    if (leaving || stopper.stopped()) return;
    warn("connection closed" + (e ? ": " + *e : std::string()));
    stopper.request_stop(kExitRuntime);
  });
  if (auto started = hub.ensure_started().get(); !started) {
    warn("play: cannot connect: " + started.error().message);
    return kExitRuntime;
  }

  std::unique_ptr<RawTerminal> raw;
  if (args.has("raw") && isatty(STDIN_FILENO)) raw = std::make_unique<RawTerminal>();
  const bool raw_mode = raw && raw->active();
  say("playing as " + me +
      (raw_mode ? ": press any key to click, q to quit"
                : ": press Enter to click, Ctrl-D to quit"));

  char buf[256];
  while (!stopper.stopped()) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;  // re-check the stop flag
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) break;  // EOF
    Keys keys = count_keys(buf, n, raw_mode);
    for (int i = 0; i < keys.clicks; ++i) {
      auto f = hub.invoke("Click");
      if (f.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
        warn("click: no answer from the server");
        continue;
      }
      auto r = f.get();
      if (!r) {
        warn("click failed: " + r.error().message);
      } else {
        say("round " + r->value("round", client::Json(0)).dump() + ": " +
            r->value("clicks", client::Json(0)).dump() + " clicks");
      }
    }
    if (keys.quit) break;
  }
  raw.reset();
  leaving = true;
  hub.stop();
  return stopper.stopped() ? stopper.exit_code() : kExitOk;
}

}  // namespace clickrace::cli
