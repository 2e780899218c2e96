#include <algorithm>
#include <sstream>
#include <vector>

#include "commands.hpp"

namespace clickrace::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Counters {
  std::atomic<long long> sent{0};
  std::atomic<long long> acked{0};
  std::atomic<long long> failed{0};
  std::atomic<long long> last_round{0};  // highest round a click counted in
  std::atomic<long long> rounds_seen{0};
  std::atomic<long long> last_announced{0};
};

// Registers / logs in every bot, a few at a time (password hashing is the server's slow part).
std::vector<std::shared_ptr<Login>> sign_in_bots(const std::string& base_url, long long n,
                                                 Stopper& stopper) {
  std::string run = random_text(6);
  std::vector<std::shared_ptr<Login>> logins(n);
  std::atomic<long long> next{0};
  std::vector<std::thread> threads;
  for (long long t = 0; t < std::min<long long>(n, 8); ++t) {
    threads.emplace_back([&] {
      for (long long i = next++; i < n && !stopper.stopped(); i = next++) {
        auto login = std::make_shared<Login>(base_url, "bot-" + run + "-" + std::to_string(i),
                                             random_text(20));
        if (auto s = login->sign_in(/*new_account=*/true); s) {
          logins[i] = login;
        } else {
          warn("bot " + std::to_string(i) + ": cannot log in: " + s.error().message);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  logins.erase(std::remove(logins.begin(), logins.end(), nullptr), logins.end());
  return logins;
}

}  // namespace

const char* const kBotsHelp =
    "usage: clickrace-cli [--url URL] bots N [--rate R] [--duration SECONDS]\n"
    "Runs N bot players (1-500), each with its own account and hub connection, each clicking R\n"
    "times per second (default 5, at most 100), printing every round result and a summary.\n"
    "  --duration SECONDS  click for this long, then wait for that round's result and exit\n"
    "                      (default: until Ctrl-C)\n";

int run_bots(const std::string& base_url, const Args& args, Stopper& stopper) {
  if (args.positional.size() != 1) {
    warn(std::string("bots: give the number of bots\n") + kBotsHelp);
    return kExitUsage;
  }
  Args n_arg;
  n_arg.values["N"] = args.positional[0];
  auto n = n_arg.integer("N", 0, 1, 500);
  auto rate = args.number("rate", 5, 0.01, 100);
  auto duration = args.integer("duration", 0, 1, 365LL * 86400);
  for (const Error* e : {n ? nullptr : &n.error(), rate ? nullptr : &rate.error(),
                         duration ? nullptr : &duration.error()}) {
    if (e) {
      warn("bots: " + e->message);
      return kExitUsage;
    }
  }

  auto logins = sign_in_bots(base_url, *n, stopper);
  if (logins.empty()) {
    warn("bots: no bot could log in");
    return kExitRuntime;
  }
  Counters c;
  std::vector<std::unique_ptr<client::HubClient>> hubs;
  for (const auto& login : logins) {
    hubs.push_back(std::make_unique<client::HubClient>(hub_options(base_url, login)));
  }
  hubs[0]->on("RoundEnded", [&c](const client::Json& a) {
    if (!a.is_array() || a.empty()) return;
    ++c.rounds_seen;
    c.last_announced = std::max<long long>(c.last_announced, a[0].value("round", 0LL));
    say(format_round_result(a[0]));
  });
  std::vector<client::StartFuture> starts;
  for (auto& h : hubs) starts.push_back(h->ensure_started());
  long long connected = 0;
  for (auto& f : starts) {
    if (auto r = f.get(); r) {
      ++connected;
    } else {
      warn("bots: a bot cannot connect: " + r.error().message);
    }
  }
  if (connected == 0) return kExitRuntime;
  std::ostringstream intro;
  intro << connected << " bots connected, each clicking " << *rate << " times per second";
  say(intro.str());

  // One driver thread spreads the clicks evenly: slot s goes to bot s % N at start + s·period/N.
  const auto period = std::chrono::duration<double>(1.0 / *rate);
  const auto start = Clock::now();
  const auto end =
      *duration > 0 ? start + std::chrono::seconds(*duration) : Clock::time_point::max();
  for (long long slot = 0; !stopper.stopped(); ++slot) {
    auto at = start + std::chrono::duration_cast<Clock::duration>(period * slot /
                                                                  static_cast<double>(hubs.size()));
    if (at >= end) break;
    if (at > Clock::now() && stopper.wait_for(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 at - Clock::now()))) {
      break;
    }
    ++c.sent;
    hubs[slot % hubs.size()]->invoke("Click", client::Json::array(), [&c](client::InvokeResult r) {
      if (!r) {
        ++c.failed;
        return;
      }
      ++c.acked;
      long long round = r->value("round", 0LL);
      long long prev = c.last_round.load();
      while (round > prev && !c.last_round.compare_exchange_weak(prev, round)) {
      }
    });
  }

  // Wait for the result of the last round we clicked in, bounded by that round's end.
  if (!stopper.stopped()) {
    auto round = hubs[0]->invoke("GetRound").get();
    long long left_ms = 5000;
    if (round)
      left_ms +=
          std::max<long long>(0, round->value("endsAt", 0LL) - round->value("serverTime", 0LL));
    auto deadline = Clock::now() + std::chrono::milliseconds(std::min<long long>(left_ms, 65'000));
    while (c.last_round > 0 && c.last_announced < c.last_round && Clock::now() < deadline &&
           !stopper.wait_for(std::chrono::milliseconds(50))) {
    }
  }
  for (auto& h : hubs) h->stop();
  say("summary: " + std::to_string(hubs.size()) + " bots, " + std::to_string(c.sent) +
      " clicks sent, " + std::to_string(c.acked) + " acknowledged, " + std::to_string(c.failed) +
      " failed, " + std::to_string(c.rounds_seen) + " round results");
  if (c.acked == 0) return kExitRuntime;
  return stopper.stopped() ? stopper.exit_code() : kExitOk;
}

}  // namespace clickrace::cli
