// The C++ hub client against the real gateway (and scheduler), redis-server on a free port.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "clickrace/client/hub_client.hpp"
#include "topology.hpp"

namespace clickrace::test {
namespace {

using client::HubClient;
using client::HubState;
using client::Json;
using std::chrono::milliseconds;

constexpr int kLongRoundMs = 60'000;  // clicks in one test all land in one round

// Records the connection callbacks of a client. Declare it before the client: the client's
// destructor may still report `closed`.
struct Events {
  std::mutex mu;
  std::vector<std::string> reconnecting;
  std::vector<std::string> reconnected;
  std::vector<std::optional<std::string>> closed;

  void attach(HubClient& hub) {
    hub.on_reconnecting([this](const std::string& e) {
      std::lock_guard<std::mutex> l(mu);
      reconnecting.push_back(e);
    });
    hub.on_reconnected([this](const std::string& id) {
      std::lock_guard<std::mutex> l(mu);
      reconnected.push_back(id);
    });
    hub.on_closed([this](const std::optional<std::string>& e) {
      std::lock_guard<std::mutex> l(mu);
      closed.push_back(e);
    });
  }
  template <typename F>
  auto with(F f) {
    std::lock_guard<std::mutex> l(mu);
    return f(*this);
  }
};

void expect_started(HubClient& hub) {
  auto r = hub.ensure_started().get();
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(hub.state(), HubState::connected);
}

TEST(HubClient, DeliversRoundEndedToCaseInsensitiveHandlers) {
  Topology t;
  HubClient hub(t.options(t.new_session()));
  std::mutex mu;
  std::vector<Json> results;
  hub.on("roundended", [&](const Json& args) {
    std::lock_guard<std::mutex> l(mu);
    results.push_back(args);
  });
  expect_started(hub);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard<std::mutex> l(mu);
    return results.size() >= 2;
  }));
  std::lock_guard<std::mutex> l(mu);
  for (const auto& args : results) {
    ASSERT_TRUE(args.is_array());
    ASSERT_EQ(args.size(), 1u);
    EXPECT_TRUE(args[0]["round"].is_number_integer());
    EXPECT_TRUE(args[0]["winners"].is_array());
    EXPECT_TRUE(args[0]["totalClicks"].is_number_integer());
  }
  // Rounds are announced in order, once each.
  EXPECT_LT(results[0][0]["round"].get<long long>(), results[1][0]["round"].get<long long>());
}

TEST(HubClient, InvokeReturnsClickTotalsThatIncrease) {
  Topology t(true, kLongRoundMs);
  HubClient hub(t.options(t.new_session()));
  expect_started(hub);
  long long round = 0;
  for (int i = 1; i <= 5; ++i) {
    auto r = hub.invoke("Click").get();
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ((*r)["clicks"].get<long long>(), i);
    if (round == 0) round = (*r)["round"].get<long long>();
    EXPECT_EQ((*r)["round"].get<long long>(), round);
  }
  auto state = hub.invoke("getround").get();  // method names are case-insensitive on the server
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ((*state)["round"].get<long long>(), round);
  EXPECT_EQ((*state)["myClicks"].get<long long>(), 5);
}

TEST(HubClient, InvokeCallbackFormAndSendWithoutReply) {
  Topology t(true, kLongRoundMs);
  HubClient hub(t.options(t.new_session()));
  expect_started(hub);
  for (int i = 0; i < 3; ++i) {
    auto sent = hub.send("Click").get();
    ASSERT_TRUE(sent.ok()) << sent.error().message;
  }
  std::promise<client::InvokeResult> done;
  hub.invoke("Click", Json::array(), [&](client::InvokeResult r) { done.set_value(std::move(r)); });
  auto r = done.get_future().get();
  ASSERT_TRUE(r.ok()) << r.error().message;
  // The three sends were applied before (same connection, in order) and never answered.
  EXPECT_EQ((*r)["clicks"].get<long long>(), 4);
}

TEST(HubClient, InvokeErrorsCarryTheServersText) {
  Topology t(true, kLongRoundMs);
  HubClient hub(t.options(t.new_session()));
  expect_started(hub);
  auto r = hub.invoke("Nope", Json::array({1, 2})).get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "Unknown hub method 'Nope'");
  // The connection is still fine after an error.
  auto ok = hub.invoke("Click").get();
  EXPECT_TRUE(ok.ok()) << ok.error().message;
}

TEST(HubClient, InvokeBeforeStartFailsWithTheOfficialText) {
  Topology t(false);
  HubClient hub(t.options(t.new_session()));
  auto r = hub.invoke("Click").get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, client::kNotConnectedError);
}

TEST(HubClient, ClickBeforeAnyScheduleIsAnError) {
  Topology t(false);
  HubClient hub(t.options(t.new_session()));
  expect_started(hub);
  auto r = hub.invoke("Click").get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no round"), std::string::npos) << r.error().message;
}

TEST(HubClient, EnsureStartedSharesOneConnectionAmongSixteenCallers) {
  Topology t(false);
  HubClient hub(t.options(t.new_session()));
  ASSERT_EQ(t.metric("clickrace_gateway_handshakes_total"), 0);
  constexpr int kCallers = 16;
  std::vector<std::string> ids(kCallers);
  std::vector<std::string> errors(kCallers);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready < kCallers) std::this_thread::yield();  // maximise overlap
      auto r = hub.ensure_started().get();
      if (r) {
        ids[i] = *r;
      } else {
        errors[i] = r.error().message;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int i = 0; i < kCallers; ++i) {
    EXPECT_TRUE(errors[i].empty()) << errors[i];
    EXPECT_FALSE(ids[i].empty());
    EXPECT_EQ(ids[i], ids[0]);
  }
  auto stats = hub.stats();
  EXPECT_EQ(stats.negotiations, 1u);
  EXPECT_EQ(stats.connections_opened, 1u);
  EXPECT_EQ(stats.handshakes, 1u);
  EXPECT_EQ(hub.connection_id(), ids[0]);
  EXPECT_EQ(t.metric("clickrace_gateway_handshakes_total"), 1);
  EXPECT_EQ(t.metric("clickrace_gateway_connections"), 1);
  // Once connected, ensure_started answers at once with the same connection.
  auto again = hub.ensure_started().get();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, ids[0]);
  EXPECT_EQ(hub.stats().connections_opened, 1u);
}

TEST(HubClient, StartTwiceIsRefusedLikeTheJsClient) {
  Topology t(false);
  HubClient hub(t.options(t.new_session()));
  ASSERT_TRUE(hub.start().get().ok());
  auto second = hub.start().get();
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("not in the 'Disconnected' state"), std::string::npos);
}

TEST(HubClient, BadTokenFailsStartWith401AndDoesNotRetry) {
  Topology t(false);
  auto opts = t.options(client::Session{});
  opts.access_token_factory = [] { return std::string("not-a-token"); };
  Events ev;
  HubClient hub(opts);
  ev.attach(hub);
  auto r = hub.start().get();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Status code '401'"), std::string::npos) << r.error().message;
  EXPECT_EQ(hub.state(), HubState::disconnected);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(hub.stats().negotiations, 1u);
  ev.with([](Events& e) {
    EXPECT_TRUE(e.reconnecting.empty());
    EXPECT_TRUE(e.closed.empty());  // a failed start reports through its future only
  });
}

TEST(HubClient, SkipNegotiationConnectsDirectly) {
  Topology t(true, kLongRoundMs);
  auto opts = t.options(t.new_session());
  opts.skip_negotiation = true;
  HubClient hub(opts);
  expect_started(hub);
  EXPECT_EQ(hub.stats().negotiations, 0u);
  auto r = hub.invoke("Click").get();
  EXPECT_TRUE(r.ok()) << r.error().message;
}

TEST(HubClient, StopSendsCloseAndReportsClosedWithoutError) {
  Topology t(false);
  Events ev;
  HubClient hub(t.options(t.new_session()));
  ev.attach(hub);
  expect_started(hub);
  ASSERT_TRUE(eventually([&] { return t.metric("clickrace_gateway_connections") == 1; }));
  hub.stop();
  EXPECT_EQ(hub.state(), HubState::disconnected);
  ev.with([](Events& e) {
    ASSERT_EQ(e.closed.size(), 1u);
    EXPECT_FALSE(e.closed[0].has_value());
    EXPECT_TRUE(e.reconnecting.empty());
  });
  EXPECT_TRUE(eventually([&] { return t.metric("clickrace_gateway_connections") == 0; }));
  auto r = hub.invoke("GetRound").get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, client::kNotConnectedError);
  // A stopped client can start again.
  expect_started(hub);
  EXPECT_EQ(hub.stats().connections_opened, 2u);
}

TEST(HubClient, ReconnectsAfterAGracefulGatewayRestartOnTheSamePort) {
  Topology t(true, kLongRoundMs);
  Events ev;
  HubClient hub(t.options(t.new_session()));
  ev.attach(hub);
  expect_started(hub);
  const std::string first_id = hub.connection_id();
  const int port = t.port();

  t.stop_gateway();  // SIGTERM: Close{allowReconnect:true}
  ASSERT_TRUE(
      eventually([&] { return ev.with([](Events& e) { return !e.reconnecting.empty(); }); }));
  EXPECT_NE(hub.state(), HubState::connected);
  ASSERT_TRUE(t.start_gateway(port));
  ASSERT_TRUE(eventually([&] { return ev.with([](Events& e) { return !e.reconnected.empty(); }); },
                         std::chrono::seconds(15)));
  EXPECT_EQ(hub.state(), HubState::connected);
  ev.with([&](Events& e) {
    EXPECT_EQ(e.reconnecting.size(), 1u);
    EXPECT_EQ(e.reconnected.size(), 1u);
    EXPECT_NE(e.reconnected[0], first_id);  // a brand-new connection, as in the JS client
    EXPECT_TRUE(e.closed.empty());
  });
  EXPECT_EQ(hub.stats().reconnects, 1u);
  auto r = hub.invoke("Click").get();
  EXPECT_TRUE(r.ok()) << r.error().message;
}

TEST(HubClient, ReconnectsAfterTheGatewayIsKilled) {
  Topology t(true, kLongRoundMs);
  Events ev;
  HubClient hub(t.options(t.new_session()));
  ev.attach(hub);
  expect_started(hub);
  const int port = t.port();
  t.gateway().kill();  // transport loss, no Close message
  ASSERT_TRUE(
      eventually([&] { return ev.with([](Events& e) { return !e.reconnecting.empty(); }); }));
  ASSERT_TRUE(t.start_gateway(port));
  // ensure_started while reconnecting waits for the reconnect's outcome.
  auto r = hub.ensure_started().get();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(hub.state(), HubState::connected);
  auto click = hub.invoke("Click").get();
  EXPECT_TRUE(click.ok()) << click.error().message;
}

TEST(HubClient, PendingInvocationsFailWhenTheConnectionDrops) {
  Topology t(true, kLongRoundMs);
  HubClient hub(t.options(t.new_session()));
  expect_started(hub);
  t.gateway().signal(SIGSTOP);  // the invocation below gets no answer
  auto pending = hub.invoke("Click");
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(pending.wait_for(milliseconds(0)), std::future_status::timeout);
  t.gateway().kill();
  ASSERT_EQ(pending.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto r = pending.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, client::kInvocationCanceledError);
}

TEST(HubClient, ServerTimeoutDropsASilentServerAndReconnects) {
  Topology t(true, kLongRoundMs);
  auto opts = t.options(t.new_session());
  opts.server_timeout = milliseconds(2500);
  opts.keep_alive_interval = milliseconds(300);
  opts.http_timeout = milliseconds(1000);
  opts.handshake_timeout = milliseconds(1000);
  Events ev;
  HubClient hub(opts);
  ev.attach(hub);
  expect_started(hub);
  // A live server keeps talking (Leaderboard about once a second): no timeout.
  std::this_thread::sleep_for(milliseconds(3000));
  EXPECT_EQ(hub.state(), HubState::connected);
  EXPECT_EQ(hub.stats().reconnects, 0u);

  t.gateway().signal(SIGSTOP);
  ASSERT_TRUE(
      eventually([&] { return ev.with([](Events& e) { return !e.reconnecting.empty(); }); }));
  ev.with([](Events& e) { EXPECT_EQ(e.reconnecting[0], client::kServerTimeoutError); });
  t.gateway().signal(SIGCONT);
  ASSERT_TRUE(eventually([&] { return ev.with([](Events& e) { return !e.reconnected.empty(); }); },
                         std::chrono::seconds(15)));
  auto r = hub.invoke("Click").get();
  EXPECT_TRUE(r.ok()) << r.error().message;
}

TEST(HubClient, GivesUpAfterTheLastReconnectDelayAndReportsClosed) {
  Topology t(false);
  auto opts = t.options(t.new_session());
  opts.reconnect_delays = {milliseconds(0), milliseconds(100)};
  opts.http_timeout = milliseconds(1000);
  Events ev;
  HubClient hub(opts);
  ev.attach(hub);
  expect_started(hub);
  t.gateway().kill();
  ASSERT_TRUE(eventually([&] { return ev.with([](Events& e) { return !e.closed.empty(); }); }));
  EXPECT_EQ(hub.state(), HubState::disconnected);
  ev.with([](Events& e) {
    EXPECT_EQ(e.reconnecting.size(), 1u);
    ASSERT_TRUE(e.closed[0].has_value());
    EXPECT_NE(e.closed[0]->find("Reconnect retries have been exhausted after 2"), std::string::npos)
        << *e.closed[0];
  });
  auto r = hub.ensure_started().get();  // a fresh start, which fails: the gateway is gone
  EXPECT_FALSE(r.ok());
}

TEST(HubClient, WithoutReconnectDelaysATransportLossClosesTheClient) {
  Topology t(false);
  auto opts = t.options(t.new_session());
  opts.reconnect_delays.clear();
  Events ev;
  HubClient hub(opts);
  ev.attach(hub);
  expect_started(hub);
  t.stop_gateway();
  ASSERT_TRUE(eventually([&] { return ev.with([](Events& e) { return !e.closed.empty(); }); }));
  ev.with([](Events& e) {
    EXPECT_TRUE(e.reconnecting.empty());
    EXPECT_TRUE(e.closed[0].has_value());
  });
  EXPECT_EQ(hub.state(), HubState::disconnected);
}

TEST(HubClient, StopWhileReconnectingCancelsTheReconnect) {
  Topology t(false);
  auto opts = t.options(t.new_session());
  opts.reconnect_delays = {milliseconds(0), milliseconds(5000)};
  Events ev;
  HubClient hub(opts);
  ev.attach(hub);
  expect_started(hub);
  t.gateway().kill();
  ASSERT_TRUE(eventually([&] { return hub.state() == HubState::reconnecting; }));
  auto waiting = hub.ensure_started();
  hub.stop();
  EXPECT_EQ(hub.state(), HubState::disconnected);
  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_FALSE(waiting.get().ok());
  ev.with([](Events& e) {
    ASSERT_EQ(e.closed.size(), 1u);
    EXPECT_FALSE(e.closed[0].has_value());
  });
}

}  // namespace
}  // namespace clickrace::test
