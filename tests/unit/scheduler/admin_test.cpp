#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "admin_server.hpp"
#include "clickrace/core/config.hpp"
#include "metrics.hpp"
#include "options.hpp"
#include "status.hpp"

namespace clickrace::scheduler {
namespace {

TEST(Metrics, PrometheusTextWithHistogram) {
  Metrics m;
  m.rounds_closed = 3;
  m.is_leader = true;
  m.close_lag_ms.observe(3);
  m.close_lag_ms.observe(70);
  m.close_lag_ms.observe(100'000);
  std::string text = m.render();
  EXPECT_NE(text.find("clickrace_scheduler_rounds_closed_total 3\n"), std::string::npos);
  EXPECT_NE(text.find("clickrace_scheduler_is_leader 1\n"), std::string::npos);
  EXPECT_NE(text.find("clickrace_scheduler_close_lag_ms_bucket{le=\"5\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("clickrace_scheduler_close_lag_ms_bucket{le=\"100\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("clickrace_scheduler_close_lag_ms_bucket{le=\"+Inf\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("clickrace_scheduler_close_lag_ms_count 3\n"), std::string::npos);
  EXPECT_NE(text.find("clickrace_scheduler_close_lag_ms_sum 100073\n"), std::string::npos);
}

TEST(Status, JsonAndReadiness) {
  StatusSnapshot s;
  s.role = Role::leader;
  s.id = "a";
  s.lease_holder = "a";
  s.current_round = 7;
  s.last_closed_round = 6;
  s.round_ms = 500;
  s.term = 3;
  s.partitions = 12;
  auto j = nlohmann::json::parse(status_json(s));
  EXPECT_EQ(j["term"], 3);
  EXPECT_EQ(j["scorePartitions"], 12);
  EXPECT_EQ(j["role"], "leader");
  EXPECT_EQ(j["leaseHolder"], "a");
  EXPECT_EQ(j["currentRound"], 7);
  EXPECT_EQ(j["lastClosedRound"], 6);
  EXPECT_EQ(j["roundMs"], 500);
  EXPECT_FALSE(is_ready(s, 1000, 3000));  // Redis never answered
  s.redis_ok_at = 900;
  EXPECT_TRUE(is_ready(s, 1000, 3000));
  EXPECT_FALSE(is_ready(s, 5000, 3000));
  s.lease_holder.clear();
  EXPECT_TRUE(nlohmann::json::parse(status_json(s))["leaseHolder"].is_null());
}

// The real server on a free port, answering real HTTP.
TEST(AdminServer, ServesHealthReadinessMetricsStatus) {
  StatusBoard board;
  Metrics metrics;
  int64_t now = 10'000;
  AdminServer admin(board, metrics, 3000, [&now] { return now; });
  auto port = admin.start("127.0.0.1", 0);
  ASSERT_TRUE(port) << port.error().message;
  httplib::Client http("127.0.0.1", *port);
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(http.Get("/readyz")->status, 503);
  board.update([](StatusSnapshot& s) {
    s.redis_ok_at = 9'500;
    s.id = "me";
  });
  EXPECT_EQ(http.Get("/readyz")->status, 200);
  auto status = http.Get("/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(nlohmann::json::parse(status->body)["id"], "me");
  auto m = http.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("clickrace_scheduler_lease_changes_total 0"), std::string::npos);
  EXPECT_EQ(http.Get("/nope")->status, 404);
  admin.stop();
}

core::OptionSet::Outcome parse(Options& opts, std::vector<const char*> args,
                               std::map<std::string, std::string> env = {}) {
  core::OptionSet set("round-scheduler", "test");
  register_options(set, opts);
  args.insert(args.begin(), "round-scheduler");
  return set.parse(static_cast<int>(args.size()), args.data(),
                   [&env](const std::string& k) -> std::optional<std::string> {
                     auto it = env.find(k);
                     if (it == env.end()) return std::nullopt;
                     return it->second;
                   });
}

TEST(Options, DefaultsEnvAndFlags) {
  Options o;
  auto out = parse(o, {"--round-ms", "250"}, {{"CLICKRACE_LEASE_MS", "900"}});
  ASSERT_FALSE(out.error) << *out.error;
  EXPECT_EQ(o.round_ms, 250);
  EXPECT_EQ(o.lease_ms, 900);
  EXPECT_EQ(o.port, 8081);
  EXPECT_EQ(o.leaderboard_ms, 1000);
  EXPECT_EQ(o.key_prefix, "clickrace:");
  ASSERT_FALSE(finish_options(o));
  EXPECT_FALSE(o.scheduler_id.empty());
}

TEST(Options, BadValuesAreRejectedWithTheirName) {
  for (auto [env, value] : std::vector<std::pair<std::string, std::string>>{
           {"CLICKRACE_ROUND_MS", "abc"},
           {"CLICKRACE_ROUND_MS", "0"},
           {"CLICKRACE_SCHEDULER_PORT", "70000"},
           {"CLICKRACE_LOG_LEVEL", "loud"},
           {"CLICKRACE_REDIS_URL", "http://x"},
           {"CLICKRACE_SCHEDULER_ID", "has space"},
           {"CLICKRACE_SCORE_PARTITIONS", "0"},
           {"CLICKRACE_SCORE_PARTITIONS", "257"},
           {"CLICKRACE_SCORE_PARTITIONS", "x"},
           {"CLICKRACE_REDIS_WAIT_REPLICAS", "-1"},
       }) {
    Options o;
    auto out = parse(o, {}, {{env, value}});
    ASSERT_TRUE(out.error) << env << "=" << value;
    EXPECT_NE(out.error->find(env), std::string::npos) << *out.error;
  }
}

// S: 1 on a single Redis, 12 on a cluster, unless set; round results wait for replicas only on
// a cluster.
TEST(Options, PartitionsAndResultReplicasDependOnTheRedisMode) {
  Options one;
  ASSERT_FALSE(parse(one, {}).error);
  ASSERT_FALSE(finish_options(one));
  EXPECT_EQ(one.score_partitions, 1);
  EXPECT_EQ(one.result_wait_replicas, 0);

  Options cluster;
  ASSERT_FALSE(parse(cluster, {}, {{"CLICKRACE_REDIS_CLUSTER", "127.0.0.1:7000"}}).error);
  ASSERT_FALSE(finish_options(cluster));
  EXPECT_EQ(cluster.score_partitions, 12);
  EXPECT_EQ(cluster.result_wait_replicas, 1);

  Options set;
  ASSERT_FALSE(
      parse(set, {"--score-partitions", "4"},
            {{"CLICKRACE_REDIS_CLUSTER", "127.0.0.1:7000"}, {"CLICKRACE_REDIS_WAIT_REPLICAS", "2"}})
          .error);
  ASSERT_FALSE(finish_options(set));
  EXPECT_EQ(set.score_partitions, 4);
  EXPECT_EQ(set.result_wait_replicas, 2);
}

}  // namespace
}  // namespace clickrace::scheduler
