#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <chrono>

#include "clickrace/redis/client.hpp"
#include "clickrace/redis/subscriber.hpp"
#include "loop_helpers.hpp"
#include "redis_server.hpp"

namespace clickrace::redis {
namespace {

using namespace std::chrono_literals;
using test::RedisServer;

struct Received {
  std::string channel, payload;
  bool operator==(const Received& o) const { return channel == o.channel && payload == o.payload; }
};

TEST(RedisSubscriber, ReceivesAndResubscribesAfterRestart) {
  RedisServer server;
  asio::io_context io;
  Client pub(io, fast_options(server));
  Subscriber sub(io, fast_options(server));
  std::vector<Received> got;
  int subscribed = 0;
  sub.on_message([&](const std::string& c, const std::string& p) { got.push_back({c, p}); });
  sub.on_subscribed([&] { ++subscribed; });
  sub.subscribe("events");
  sub.subscribe("other");
  pub.start();
  sub.start();
  ASSERT_TRUE(run_until(io, [&] { return pub.connected() && sub.connected(); }));
  ASSERT_TRUE(run_until(io, [&] { return subscribed == 1; }));

  auto publish = [&](const std::string& channel, const std::string& payload) {
    long long receivers = -1;
    pub.command({"PUBLISH", channel, payload}, [&](Result<Reply> r) {
      if (r && r->is_integer()) receivers = r->integer();
    });
    run_until(io, [&] { return receivers >= 0; });
    return receivers;
  };
  EXPECT_EQ(publish("events", "one"), 1);
  EXPECT_EQ(publish("other", std::string("t\0wo", 4)), 1);
  EXPECT_EQ(publish("unrelated", "x"), 0);
  ASSERT_TRUE(run_until(io, [&] { return got.size() == 2; }));
  EXPECT_EQ(got[0], (Received{"events", "one"}));
  EXPECT_EQ(got[1], (Received{"other", std::string("t\0wo", 4)}));

  server.kill();
  ASSERT_TRUE(run_until(io, [&] { return !sub.connected() && !pub.connected(); }));
  server.start();
  ASSERT_TRUE(run_until(io, [&] { return sub.connected() && pub.connected(); }));
  ASSERT_TRUE(run_until(io, [&] { return subscribed == 2; }));  // the catch-up signal
  EXPECT_EQ(publish("events", "after"), 1);
  ASSERT_TRUE(run_until(io, [&] { return got.size() == 3; }));
  EXPECT_EQ(got[2], (Received{"events", "after"}));

  // A channel added later is subscribed on the live connection.
  sub.subscribe("late");
  ASSERT_TRUE(run_until(io, [&] { return subscribed == 3; }));
  EXPECT_EQ(publish("late", "hi"), 1);
  ASSERT_TRUE(run_until(io, [&] { return got.size() == 4; }));
  EXPECT_EQ(got[3], (Received{"late", "hi"}));

  sub.close();
  EXPECT_FALSE(sub.connected());
  EXPECT_EQ(publish("events", "closed"), 0);
}

}  // namespace
}  // namespace clickrace::redis
