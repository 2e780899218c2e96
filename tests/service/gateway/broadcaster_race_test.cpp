// The Broadcaster in-process against a real Redis, driven through an exact interleaving of
// subscription events that pub/sub timing makes hard to hit from outside.
#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "../redis/loop_helpers.hpp"
#include "broadcaster.hpp"
#include "clickrace/bus/events.hpp"
#include "clickrace/bus/keys.hpp"
#include "clickrace/redis/cluster_client.hpp"
#include "clickrace/redis/cluster_config.hpp"
#include "metrics.hpp"
#include "redis_server.hpp"

namespace clickrace::gateway {
namespace {

using redis::fast_options;
using redis::run_until;
using namespace std::chrono_literals;

nlohmann::json result(long long round) {
  return nlohmann::json{{"round", round},
                        {"startedAt", round * 1000},
                        {"endedAt", round * 1000 + 1000},
                        {"winners", nlohmann::json::array()},
                        {"winnerCount", 0},
                        {"winningClicks", 0},
                        {"totalClicks", 0},
                        {"players", 0}};
}

struct Rig {
  test::RedisServer server;
  test::RedisSync sync{server.port()};
  asio::io_context io;
  redis::ClusterClient client{io, *redis::make_cluster_options("", fast_options(server))};
  bus::Keys keys{"race:"};
  Metrics metrics;
  std::vector<long long> announced;
  Broadcaster broadcaster{io, client, keys, metrics,
                          [this](std::string_view event, std::string_view data) {
                            if (event != bus::kRoundEnded) return;
                            auto j = nlohmann::json::parse(data);
                            announced.push_back(j["round"].get<long long>());
                          }};

  void add_to_stream(long long round) {
    sync.cmd({"XADD", keys.rounds(), "*", "round", std::to_string(round), "result",
              result(round).dump()});
  }
  void settle() {
    run_until(
        io, [] { return false; }, 200ms);
  }
};

// A catch-up still in flight when the subscription drops must not end the holding: otherwise a
// live result arriving with the next subscription (before its catch-up) raises the mark over a
// round that is only in the stream, and that round is never announced.
TEST(BroadcasterRace, CatchUpInFlightWhenTheSubscriptionDropsDoesNotLoseARound) {
  Rig rig;
  rig.client.start();
  ASSERT_TRUE(run_until(rig.io, [&] { return rig.client.connected(); }));
  for (long long r = 1; r <= 10; ++r) rig.add_to_stream(r);

  rig.broadcaster.on_subscribed();
  ASSERT_TRUE(run_until(rig.io, [&] { return rig.broadcaster.caught_up(); }));
  EXPECT_EQ(rig.broadcaster.mark(), 10);
  EXPECT_TRUE(rig.announced.empty()) << "history is not replayed at start";

  rig.broadcaster.on_subscribed();         // its stream read is now in flight…
  rig.broadcaster.on_subscription_lost();  // …and the subscription drops before the reply
  rig.settle();
  EXPECT_FALSE(rig.broadcaster.caught_up()) << "still holding while unsubscribed";

  rig.add_to_stream(11);  // closed while this gateway was away: only in the stream
  rig.add_to_stream(12);
  // Delivered with the next subscription's confirmation, before on_subscribed runs.
  rig.broadcaster.on_envelope(bus::build_envelope(bus::kRoundEnded, 12, result(12)));
  rig.settle();
  EXPECT_TRUE(rig.announced.empty()) << "held until the catch-up";

  rig.broadcaster.on_subscribed();
  ASSERT_TRUE(run_until(rig.io, [&] { return rig.broadcaster.caught_up(); }));
  EXPECT_EQ(rig.announced, (std::vector<long long>{11, 12}));
}

}  // namespace
}  // namespace clickrace::gateway
