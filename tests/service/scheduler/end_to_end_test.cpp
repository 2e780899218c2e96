#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <set>

#include "clickrace/client/http_api.hpp"
#include "clickrace/client/hub_client.hpp"
#include "clickrace/core/winners.hpp"
#include "scheduler_harness.hpp"

// The whole path: real clients -> two real gateways -> Redis -> the real scheduler -> every
// client on both gateways gets the same RoundEnded, once, with the right winners and totals.
namespace clickrace::test {
namespace {

using namespace std::chrono_literals;

struct GatewayProcess {
  GatewayProcess(RedisServer& redis, const std::string& prefix, const std::string& name)
      : proc(name, {bin("hub-gateway")},
             {{"CLICKRACE_REDIS_URL", redis.url()},
              {"CLICKRACE_KEY_PREFIX", prefix},
              {"CLICKRACE_GATEWAY_PORT", "0"},
              {"CLICKRACE_ROUND_MS", "1000"},
              {"CLICKRACE_TOKEN_SECRET", "e2e-secret-0123456789abcdef0123456789"},
              {"CLICKRACE_FAST_PASSWORD_HASH", "1"},
              {"CLICKRACE_LOGIN_ATTEMPTS_PER_MIN", "100000"},
              {"CLICKRACE_LOG_LEVEL", "info"}}) {
    proc.start();
    port = proc.wait_listening();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port); }
  Process proc;
  int port = 0;
};

// One player: an account, a hub connection, and every RoundEnded it received.
struct Player {
  Player(const std::string& base, const std::string& name) : name(name) {
    client::AccountApi api(base);
    auto session = api.login_or_register(name, "password-" + name);
    EXPECT_TRUE(session) << (session ? "" : session.error().message);
    if (session) token = session->token;
    client::HubClientOptions o;
    o.url = client::hub_url_for(base);
    o.access_token_factory = [this] { return token; };
    hub = std::make_unique<client::HubClient>(o);
    hub->on("RoundEnded", [this](const client::Json& args) {
      std::lock_guard<std::mutex> lock(mu);
      ended.push_back(args.at(0));
    });
    auto started = hub->ensure_started().get();
    EXPECT_TRUE(started) << (started ? "" : started.error().message);
  }
  std::vector<client::Json> results() {
    std::lock_guard<std::mutex> lock(mu);
    return ended;
  }
  std::string name;
  std::string token;
  std::unique_ptr<client::HubClient> hub;
  std::mutex mu;
  std::vector<client::Json> ended;
};

TEST(EndToEnd, ScriptedClicksOverTwoGatewaysGiveTheSameRightResultsToEveryone) {
  RedisServer redis;
  std::string prefix = unique_prefix();
  SchedulerConfig sc;
  sc.redis_url = redis.url();
  sc.prefix = prefix;
  sc.id = "s1";
  sc.round_ms = 1000;
  SchedulerProcess scheduler(sc);
  ASSERT_TRUE(scheduler.start());
  GatewayProcess g1(redis, prefix, "gw1"), g2(redis, prefix, "gw2");
  ASSERT_GT(g1.port, 0) << g1.proc.output();
  ASSERT_GT(g2.port, 0) << g2.proc.output();
  RedisSync sync(redis.port());
  ASSERT_TRUE(eventually([&] {
    return !sync.cmd({"HGET", prefix + "schedule", "epoch"}).is_nil();
  }));

  std::vector<std::unique_ptr<Player>> players;
  players.push_back(std::make_unique<Player>(g1.base(), "Alice"));
  players.push_back(std::make_unique<Player>(g1.base(), "Bob"));
  players.push_back(std::make_unique<Player>(g2.base(), "Carol"));
  players.push_back(std::make_unique<Player>(g2.base(), "Dave"));
  const std::map<std::string, int> script = {{"Alice", 3}, {"Bob", 5}, {"Carol", 5}, {"Dave", 1}};

  // Expected per round from the acknowledgements: each ack says the round the click counted in
  // and the player's total there, so a script that straddles a boundary is still checked exactly.
  std::map<int64_t, std::map<std::string, int64_t>> acked;
  for (auto& p : players) {
    for (int i = 0; i < script.at(p->name); ++i) {
      auto r = p->hub->invoke("Click").get();
      ASSERT_TRUE(r) << r.error().message << "\n" << g1.proc.output() << g2.proc.output();
      int64_t round = (*r)["round"], clicks = (*r)["clicks"];
      auto& c = acked[round][p->name];
      c = std::max(c, clicks);
    }
  }
  ASSERT_FALSE(acked.empty());
  int64_t last = acked.rbegin()->first;

  auto has_all = [&](Player& p) {
    std::set<int64_t> got;
    for (const auto& r : p.results()) got.insert(r["round"].get<int64_t>());
    for (const auto& [round, _] : acked) {
      if (!got.count(round)) return false;
    }
    return true;
  };
  for (auto& p : players) {
    ASSERT_TRUE(eventually([&] { return has_all(*p); }, 10s)) << p->name << " missed a round";
  }
  // A moment more so that a duplicate would have arrived.
  ASSERT_TRUE(eventually([&] { return closed_round(sync, prefix) >= last + 1; }, 5s));

  for (const auto& [round, scores] : acked) {
    std::vector<core::PlayerScore> ps;
    for (const auto& [name, clicks] : scores) ps.push_back({name, clicks});
    core::RoundOutcome want = core::pick_winners(ps);
    for (auto& p : players) {
      int copies = 0;
      for (const auto& r : p->results()) {
        if (r["round"] != round) continue;
        ++copies;
        EXPECT_EQ(r["winners"].get<std::vector<std::string>>(), want.winners) << p->name;
        EXPECT_EQ(r["winnerCount"], want.winner_count);
        EXPECT_EQ(r["winningClicks"], want.winning_clicks);
        EXPECT_EQ(r["totalClicks"], want.total_clicks);
        EXPECT_EQ(r["players"], want.players);
      }
      EXPECT_EQ(copies, 1) << p->name << " round " << round;
    }
  }
  for (auto& p : players) p->hub->stop();
}

}  // namespace
}  // namespace clickrace::test
