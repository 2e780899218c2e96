// Rounds survive Redis data loss (DESIGN §2 invariant 7, issue 12 item 2): FLUSHALL, a restart
// without persistence and a deleted schedule, at round >= 40, with a lease renewed several times
// per round (300 ms lease, 400 ms rounds) — and a lease longer than several rounds — with one
// scheduler and with two. Seen by a client of a real gateway: at least 3 RoundEnded of the new
// schedule within 16 round lengths, the first one the new schedule's first round, in order,
// once each.
#include <gtest/gtest.h>

#include <mutex>
#include <set>

#include "clickrace/client/http_api.hpp"
#include "clickrace/client/hub_client.hpp"
#include "scheduler_harness.hpp"

namespace clickrace::test {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kRoundMs = 400;

// A redis-server without any persistence (no AOF, no RDB): a restart comes back empty, as a
// crashed cache-style Redis or a replacement instance would. Same port across restarts.
class VolatileRedis {
 public:
  VolatileRedis() : port_(free_port()) { start(); }
  void start() {
    proc_ = std::make_unique<Process>(
        "volatile-redis", std::vector<std::string>{"redis-server", "--port", std::to_string(port_),
                                                   "--bind", "127.0.0.1", "--save", "",
                                                   "--appendonly", "no", "--dir", dir_.path()});
    proc_->start();
    bool up = eventually([&] {
      RedisSync c(port_);
      return c.ok() && c.cmd({"PING"}).str == "PONG";
    });
    if (!up) throw std::runtime_error("redis-server did not start: " + proc_->output());
  }
  void kill() { proc_->kill(); }
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<Process> proc_;
};

// One player on a real gateway, recording every RoundEnded (round, startedAt) it is told.
struct Watcher {
  Watcher(const std::string& redis_url, const std::string& prefix)
      : gateway("gateway", {bin("hub-gateway")},
                {{"CLICKRACE_REDIS_URL", redis_url},
                 {"CLICKRACE_KEY_PREFIX", prefix},
                 {"CLICKRACE_GATEWAY_PORT", "0"},
                 {"CLICKRACE_ROUND_MS", std::to_string(kRoundMs)},
                 {"CLICKRACE_TOKEN_SECRET", "data-loss-secret-0123456789abcdef0123"},
                 {"CLICKRACE_FAST_PASSWORD_HASH", "1"},
                 {"CLICKRACE_LOGIN_ATTEMPTS_PER_MIN", "100000"},
                 {"CLICKRACE_LOG_LEVEL", "info"}}) {
    gateway.start();
    int port = gateway.wait_listening();
    if (port == 0) {
      error = "the gateway did not start";
      return;
    }
    std::string base = "http://127.0.0.1:" + std::to_string(port);
    // The gateway listens before its Redis connection is up: log in once it answers.
    client::AccountApi api(base);
    bool logged_in = eventually([&] {
      auto session = api.login_or_register("Watcher", "password-watcher");
      if (session)
        token = session->token;
      else
        error = "login: " + session.error().message;
      return static_cast<bool>(session);
    });
    if (!logged_in) return;
    client::HubClientOptions o;
    o.url = client::hub_url_for(base);
    o.access_token_factory = [this] { return token; };
    hub = std::make_unique<client::HubClient>(o);
    hub->on("RoundEnded", [this](const client::Json& args) {
      std::lock_guard<std::mutex> lock(mu);
      ended.push_back(
          {args.at(0).at("round").get<int64_t>(), args.at(0).at("startedAt").get<int64_t>()});
    });
    auto started = hub->ensure_started().get();
    connected = static_cast<bool>(started);
    if (!started) error = "hub: " + started.error().message;
  }
  ~Watcher() {
    if (hub) hub->stop();
  }
  struct Ended {
    int64_t round;
    int64_t started_at;
  };
  std::vector<Ended> results() {
    std::lock_guard<std::mutex> lock(mu);
    return ended;
  }
  // The results of rounds that started at or after `t` (Redis ms): the new schedule's rounds.
  std::vector<int64_t> rounds_from(int64_t t) {
    std::vector<int64_t> out;
    for (const auto& e : results())
      if (e.started_at >= t) out.push_back(e.round);
    return out;
  }

  Process gateway;
  std::string token;
  std::unique_ptr<client::HubClient> hub;
  bool connected = false;
  std::string error;
  std::mutex mu;
  std::vector<Ended> ended;
};

enum class Loss { flushall, restart, del_schedule };

struct Case {
  Loss loss;
  int schedulers;
  int64_t lease_ms;
};

std::string name(const ::testing::TestParamInfo<Case>& info) {
  const char* loss = info.param.loss == Loss::flushall  ? "Flushall"
                     : info.param.loss == Loss::restart ? "RestartWithoutPersistence"
                                                        : "DeletedSchedule";
  return std::string(loss) + "_" + std::to_string(info.param.schedulers) + "Schedulers_Lease" +
         std::to_string(info.param.lease_ms);
}

int64_t redis_ms(RedisSync& r) {
  Reply t = r.cmd({"TIME"});
  return std::stoll(t.elements.at(0).str) * 1000 + std::stoll(t.elements.at(1).str) / 1000;
}

class DataLoss : public ::testing::TestWithParam<Case> {
 protected:
  // Round 40 is running (rounds 1..39 closed): the state of a game that has run a while.
  void seed_round_40() {
    RedisSync sync(redis_.port());
    int64_t now = redis_ms(sync);
    sync.cmd({"HSET", prefix_ + "schedule", "epoch", std::to_string(now - 39 * kRoundMs - 100),
              "len", std::to_string(kRoundMs), "base", "1"});
    sync.cmd({"SET", prefix_ + "closed", "39"});
  }
  std::string dump(Watcher& w) {
    std::string out = "\nreceived:";
    for (const auto& e : w.results())
      out += " " + std::to_string(e.round) + "@" + std::to_string(e.started_at);
    out += "\n" + w.gateway.output();
    for (auto& s : schedulers_) out += s->process().output();
    return out;
  }

  VolatileRedis redis_;
  std::string prefix_ = unique_prefix();
  std::vector<std::unique_ptr<SchedulerProcess>> schedulers_;
};

TEST_P(DataLoss, RoundsAreAnnouncedAgainFromTheNewSchedulesFirstRound) {
  const Case c = GetParam();
  seed_round_40();
  Watcher w(redis_.url(), prefix_);
  ASSERT_TRUE(w.connected) << w.error << "\n" << w.gateway.output();
  for (int i = 0; i < c.schedulers; ++i) {
    SchedulerConfig sc;
    sc.redis_url = redis_.url();
    sc.prefix = prefix_;
    sc.id = "s" + std::to_string(i + 1);
    sc.round_ms = kRoundMs;
    sc.lease_ms = c.lease_ms;
    schedulers_.push_back(std::make_unique<SchedulerProcess>(sc));
    ASSERT_TRUE(schedulers_.back()->start()) << schedulers_.back()->process().output();
  }
  // Live: the client is told about round 41 or later (the seeded game has passed round 40).
  ASSERT_TRUE(eventually(
      [&] {
        auto r = w.results();
        return !r.empty() && r.back().round >= 41;
      },
      10s))
      << dump(w);

  RedisSync sync(redis_.port());
  int64_t closed_before = closed_round(sync, prefix_);
  ASSERT_GE(closed_before, 40);
  int64_t lost_at = redis_ms(sync);
  int64_t first = 1;  // the new schedule's first round
  switch (c.loss) {
    case Loss::flushall:
      sync.cmd({"FLUSHALL"});
      break;
    case Loss::restart:
      redis_.kill();
      redis_.start();
      break;
    case Loss::del_schedule:
      sync.cmd({"DEL", prefix_ + "schedule"});
      // The closed mark survives: numbering goes on after it.
      first = closed_round(sync, prefix_) + 1;
      break;
  }
  auto back = std::chrono::steady_clock::now();

  // Within 16 round lengths of Redis being back: 3 rounds of the new schedule announced.
  bool three = eventually([&] { return w.rounds_from(lost_at).size() >= 3; },
                          std::chrono::milliseconds(16 * kRoundMs));
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - back);
  ASSERT_TRUE(three) << "after " << waited.count() << " ms" << dump(w);
  std::printf("[ data loss ] 3 new rounds announced %lld ms after the loss\n",
              static_cast<long long>(waited.count()));

  // A moment more, so that a duplicate or a late old round would have arrived too.
  std::this_thread::sleep_for(std::chrono::milliseconds(2 * kRoundMs));
  auto fresh = w.rounds_from(lost_at);
  ASSERT_GE(fresh.size(), 3u);
  EXPECT_EQ(fresh.front(), first) << dump(w);
  for (std::size_t i = 1; i < fresh.size(); ++i)
    EXPECT_EQ(fresh[i], fresh[i - 1] + 1) << "new rounds out of order or skipped" << dump(w);
  // Every announcement once: no (round, startedAt) twice, and the old numbering stayed in order
  // up to the loss.
  std::set<std::pair<int64_t, int64_t>> seen;
  int64_t last_old = 0;
  for (const auto& e : w.results()) {
    EXPECT_TRUE(seen.insert({e.round, e.started_at}).second)
        << "round " << e.round << " announced twice" << dump(w);
    if (e.started_at >= lost_at) continue;
    EXPECT_GT(e.round, last_old) << dump(w);
    last_old = e.round;
  }
  EXPECT_GE(last_old, 40);
}

INSTANTIATE_TEST_SUITE_P(
    Scheduler, DataLoss,
    ::testing::Values(Case{Loss::flushall, 1, 300}, Case{Loss::flushall, 2, 300},
                      Case{Loss::restart, 1, 300}, Case{Loss::restart, 2, 300},
                      Case{Loss::del_schedule, 1, 300}, Case{Loss::del_schedule, 2, 300},
                      // A lease renewed less than once per round: the loss is noticed by the
                      // closer, not by a renewal.
                      Case{Loss::flushall, 1, 3000}, Case{Loss::restart, 2, 3000},
                      Case{Loss::del_schedule, 2, 3000}),
    name);

}  // namespace
}  // namespace clickrace::test
