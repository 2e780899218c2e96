#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <optional>

#include "clickrace/redis/client.hpp"
#include "clickrace/redis/script.hpp"
#include "clickrace/redis/subscriber.hpp"
#include "loop_helpers.hpp"
#include "redis_server.hpp"

namespace clickrace::redis {
namespace {

using namespace std::chrono_literals;
using test::RedisServer;
using test::RedisSync;

// Issues one command and runs the loop until it completes.
std::optional<Result<Reply>> run_command(asio::io_context& io, Client& c,
                                         std::vector<std::string> args,
                                         std::chrono::milliseconds timeout = 2s) {
  std::optional<Result<Reply>> out;
  c.command(
      std::move(args), [&](Result<Reply> r) { out.emplace(std::move(r)); }, timeout);
  run_until(
      io, [&] { return out.has_value(); }, timeout + 5s);
  return out;
}

// Server-side sockets of `port` in CLOSE-WAIT (their peer sent a FIN), as `ss` lists them.
int server_sockets_in_close_wait(int port) {
  std::string cmd = "ss -tanH state close-wait '( sport = :" + std::to_string(port) + " )'";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  int lines = 0;
  for (int ch; (ch = fgetc(p)) != EOF;) lines += ch == '\n';
  pclose(p);
  return lines;
}

class RedisClientTest : public ::testing::Test {
 protected:
  RedisServer server;
  asio::io_context io;
};

TEST_F(RedisClientTest, Command) {
  Client c(io, fast_options(server));
  c.start();
  ASSERT_TRUE(run_until(io, [&] { return c.connected(); }));
  auto r = run_command(io, c, {"SET", "k", std::string("v\0x", 3)});
  ASSERT_TRUE(r && r->ok());
  EXPECT_TRUE((*r)->is_status());
  r = run_command(io, c, {"GET", "k"});
  ASSERT_TRUE(r && r->ok());
  EXPECT_EQ((*r)->str(), std::string("v\0x", 3));
  r = run_command(io, c, {"GET", "missing"});
  EXPECT_TRUE((*r)->is_nil());
  // A server error is a Reply of error type, not a transport error.
  r = run_command(io, c, {"INCR", "k"});
  ASSERT_TRUE(r->ok());
  EXPECT_TRUE((*r)->is_error()) << (*r)->debug_string();
  EXPECT_EQ(c.metrics().error_replies, 1u);
}

TEST_F(RedisClientTest, SelectsTheDatabaseFromTheUrl) {
  auto o = parse_url(server.url(3), fast_options(server));
  ASSERT_TRUE(o);
  Client c(io, *o);
  c.start();
  ASSERT_TRUE(run_until(io, [&] { return c.connected(); }));
  ASSERT_TRUE(run_command(io, c, {"SET", "in3", "yes"})->ok());
  RedisSync sync(server.port());
  EXPECT_TRUE(sync.cmd({"GET", "in3"}).is_nil());
  sync.cmd({"SELECT", "3"});
  EXPECT_EQ(sync.cmd({"GET", "in3"}).str, "yes");
}

TEST_F(RedisClientTest, PipelinedBurstAnsweredInOrder) {
  Client c(io, fast_options(server));
  std::vector<std::chrono::microseconds> rtts;
  c.set_round_trip_hook([&](std::chrono::microseconds d) { rtts.push_back(d); });
  c.start();
  ASSERT_TRUE(run_until(io, [&] { return c.connected(); }));
  constexpr int kN = 10000;
  std::vector<long long> got;
  int failures = 0;
  for (int i = 0; i < kN; ++i) {
    c.command(
        {"INCR", "counter"},
        [&](Result<Reply> r) {
          if (!r || !r->is_integer()) {
            ++failures;
            return;
          }
          got.push_back(r->integer());
        },
        10s);
  }
  EXPECT_EQ(c.pending(), static_cast<size_t>(kN));
  ASSERT_TRUE(run_until(
      io, [&] { return got.size() + failures == kN; }, 30s));
  EXPECT_EQ(failures, 0);
  for (int i = 0; i < kN; ++i) ASSERT_EQ(got[i], i + 1) << "reply " << i << " out of order";
  EXPECT_EQ(rtts.size(), static_cast<size_t>(kN));
  EXPECT_EQ(c.metrics().replies, static_cast<uint64_t>(kN));
  EXPECT_EQ(c.pending(), 0u);
}

TEST_F(RedisClientTest, BadUrlIsAnError) {
  EXPECT_FALSE(parse_url("redis//127.0.0.1:6379"));
  EXPECT_FALSE(parse_url("redis://127.0.0.1:notaport"));
}

TEST_F(RedisClientTest, FailsFastWhileDisconnected) {
  Client c(io, fast_options(server));
  // Not started: nothing is queued, the callback gets an error on the next loop turn.
  std::optional<Result<Reply>> r;
  c.command(
      {"PING"}, [&](Result<Reply> x) { r.emplace(std::move(x)); }, 10s);
  EXPECT_FALSE(r.has_value()) << "must not complete inside command()";
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until(
      io, [&] { return r.has_value(); }, 1s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  ASSERT_FALSE(r->ok());
  EXPECT_TRUE(is_not_connected(r->error()));
}

TEST_F(RedisClientTest, ReconnectsAfterServerRestart) {
  Client c(io, fast_options(server));
  std::vector<bool> states;
  c.on_state([&](bool up) { states.push_back(up); });
  c.start();
  ASSERT_TRUE(run_until(io, [&] { return c.connected(); }));
  ASSERT_TRUE(run_command(io, c, {"SET", "durable", "1"})->ok());

  server.kill();
  ASSERT_TRUE(run_until(io, [&] { return !c.connected(); }));
  auto r = run_command(io, c, {"GET", "durable"}, 10s);
  ASSERT_TRUE(r && !r->ok());
  EXPECT_TRUE(is_not_connected(r->error())) << r->error().message;
  // Keep failing fast for a while: backoff retries against a closed port.
  run_until(
      io, [] { return false; }, 300ms);
  EXPECT_FALSE(c.connected());

  server.start();
  ASSERT_TRUE(run_until(
      io, [&] { return c.connected(); }, 10s));
  r = run_command(io, c, {"GET", "durable"});
  ASSERT_TRUE(r && r->ok());
  EXPECT_EQ((*r)->str(), "1");  // AOF: same data after the restart
  run_until(
      io, [&] { return states.size() >= 3; }, 1s);
  EXPECT_EQ(states, (std::vector<bool>{true, false, true}));
  EXPECT_EQ(c.metrics().connects, 2u);
}

TEST_F(RedisClientTest, TimesOutAgainstPausedServerThenRecovers) {
  Options o = fast_options(server);
  o.unhealthy_after = 600ms;
  Client c(io, o);
  c.start();
  ASSERT_TRUE(run_until(io, [&] { return c.connected(); }));

  server.pause();
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_command(io, c, {"PING"}, 300ms);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r && !r->ok());
  EXPECT_TRUE(is_timeout(r->error())) << r->error().message;
  EXPECT_LT(took, 2s);  // about the timeout, generous for a loaded machine

  // Keep the commands coming: once the server has been silent past unhealthy_after, the
  // connection is dropped instead of piling more commands behind the stuck ones.
  ASSERT_TRUE(run_until(
      io,
      [&] {
        if (c.connected()) run_command(io, c, {"PING"}, 300ms);
        return c.metrics().unhealthy_drops > 0;
      },
      10s));
  EXPECT_FALSE(c.connected());
  // Dropped with a reset, not a FIN: with a FIN our unsent bytes (a click batch) would be
  // retransmitted for minutes and the stopped server's socket would sit in CLOSE-WAIT; after a
  // reset it is gone, and nothing of ours can arrive late.
  EXPECT_TRUE(run_until(
      io, [&] { return server_sockets_in_close_wait(server.port()) == 0; }, 2s))
      << server_sockets_in_close_wait(server.port()) << " server sockets in CLOSE-WAIT";
  // TCP connects to a stopped server still succeed (backlog); the handshake PING must not.
  run_until(
      io, [] { return false; }, 1200ms);
  EXPECT_FALSE(c.connected());

  server.resume();
  ASSERT_TRUE(run_until(
      io, [&] { return c.connected(); }, 10s));
  r = run_command(io, c, {"PING"});
  ASSERT_TRUE(r && r->ok()) << r->error().message;
  EXPECT_EQ((*r)->str(), "PONG");
}

TEST_F(RedisClientTest, LateReplyAfterTimeoutIsDiscarded) {
  Client c(io, fast_options(server));
  c.start();
  ASSERT_TRUE(run_until(io, [&] { return c.connected(); }));
  server.pause();
  auto r = run_command(io, c, {"INCR", "late"}, 100ms);
  ASSERT_TRUE(r && !r->ok());
  EXPECT_TRUE(is_timeout(r->error()));
  server.resume();  // default unhealthy_after (3 s) has not passed: same connection
  r = run_command(io, c, {"INCR", "late"});
  ASSERT_TRUE(r && r->ok()) << r->error().message;
  EXPECT_EQ((*r)->integer(), 2);  // the timed-out INCR did run; its reply went nowhere
  EXPECT_EQ(c.metrics().late_replies, 1u);
  EXPECT_EQ(c.metrics().timeouts, 1u);
}

TEST_F(RedisClientTest, CloseAndDestroyWithCommandsInFlight) {
  auto c = std::make_unique<Client>(io, fast_options(server));
  c->start();
  ASSERT_TRUE(run_until(io, [&] { return c->connected(); }));
  server.pause();
  std::optional<Result<Reply>> closed;
  c->command(
      {"PING"}, [&](Result<Reply> r) { closed.emplace(std::move(r)); }, 10s);
  c->close();
  ASSERT_TRUE(run_until(
      io, [&] { return closed.has_value(); }, 1s));
  ASSERT_FALSE(closed->ok());
  EXPECT_EQ(closed->error().message, kErrClosed);
  EXPECT_FALSE(c->connected());

  auto d = std::make_unique<Client>(io, fast_options(server));
  server.resume();
  d->start();
  ASSERT_TRUE(run_until(io, [&] { return d->connected(); }));
  server.pause();
  bool called = false;
  for (int i = 0; i < 100; ++i)
    d->command(
        {"PING"}, [&](Result<Reply>) { called = true; }, 50ms);
  d.reset();  // in flight: dropped, never called
  io.restart();
  io.run_for(200ms);
  EXPECT_FALSE(called);
  server.resume();
}

TEST_F(RedisClientTest, ScriptRecoversFromNoscript) {
  Client c(io, fast_options(server));
  c.start();
  ASSERT_TRUE(run_until(io, [&] { return c.connected(); }));
  Script script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  auto loaded = run_command(io, c, {"SCRIPT", "LOAD", script.source()});
  ASSERT_TRUE(loaded && loaded->ok());
  EXPECT_EQ((*loaded)->str(), script.sha1());

  auto call = [&] {
    std::optional<Result<Reply>> out;
    script.call(c, {"s"}, {"5"}, [&](Result<Reply> r) { out.emplace(std::move(r)); });
    run_until(io, [&] { return out.has_value(); });
    return out;
  };
  auto r = call();
  ASSERT_TRUE(r && r->ok());
  EXPECT_EQ((*r)->integer(), 5);
  ASSERT_TRUE(run_command(io, c, {"SCRIPT", "FLUSH"})->ok());
  r = call();  // NOSCRIPT -> EVAL, transparently
  ASSERT_TRUE(r && r->ok()) << (r ? (*r)->debug_string() : "");
  EXPECT_EQ((*r)->integer(), 10);
  EXPECT_EQ(c.metrics().error_replies, 1u);  // the one NOSCRIPT
  r = call();                                // cached again by EVAL: EVALSHA works directly
  EXPECT_EQ((*r)->integer(), 15);
  EXPECT_EQ(c.metrics().error_replies, 1u);

  // A Lua error is an error Reply.
  Script bad("return redis.error_reply('NOROUND no round is running yet')");
  std::optional<Result<Reply>> out;
  bad.call(c, {}, {}, [&](Result<Reply> x) { out.emplace(std::move(x)); });
  ASSERT_TRUE(run_until(io, [&] { return out.has_value(); }));
  ASSERT_TRUE(out->ok());
  EXPECT_TRUE((*out)->is_error_code("NOROUND")) << (*out)->debug_string();
}

// A burst of EVALSHA calls sent right after connect (fresh script cache) and again right after a
// restart (the cache is empty again): a preloaded script never meets NOSCRIPT, so the calls run
// in the order they were sent.
TEST_F(RedisClientTest, PreloadedScriptRunsInOrderAfterConnectAndRestart) {
  Client c(io, fast_options(server));
  Script script("return redis.call('RPUSH', KEYS[1], ARGV[1])");
  script.preload(c);
  c.start();
  std::vector<long long> lengths;
  int failures = 0;
  auto burst = [&](int first, int n) {
    for (int i = first; i < first + n; ++i) {
      script.call(c, {"order"}, {std::to_string(i)}, [&](Result<Reply> r) {
        if (r && r->is_integer()) {
          lengths.push_back(r->integer());
        } else {
          ++failures;
        }
      });
    }
    ASSERT_TRUE(run_until(
        io, [&] { return lengths.size() + failures == static_cast<std::size_t>(first + n); }));
  };
  ASSERT_TRUE(run_until(io, [&] { return c.connected(); }));
  burst(0, 200);

  server.kill();
  ASSERT_TRUE(run_until(io, [&] { return !c.connected(); }));
  server.start();
  ASSERT_TRUE(run_until(io, [&] { return c.connected(); }));
  burst(200, 200);

  EXPECT_EQ(failures, 0);
  EXPECT_EQ(c.metrics().error_replies, 0u) << "a NOSCRIPT means the preload did not happen";
  RedisSync sync(server.port());
  auto items = sync.cmd({"LRANGE", "order", "0", "-1"});
  ASSERT_EQ(items.elements.size(), 400u);
  for (int i = 0; i < 400; ++i) ASSERT_EQ(items.elements[i].str, std::to_string(i));
}

}  // namespace
}  // namespace clickrace::redis

namespace clickrace::redis {
namespace {

// Keepalive settings of this process's TCP sockets connected to `port`, one per socket:
// {SO_KEEPALIVE, TCP_KEEPIDLE}.
std::vector<std::pair<int, int>> keepalive_of_sockets_to(int port) {
  std::vector<std::pair<int, int>> out;
  for (int fd = 0; fd < 1024; ++fd) {
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    if (peer.sin_family != AF_INET || ntohs(peer.sin_port) != port) continue;
    int on = 0, idle = 0;
    socklen_t l1 = sizeof on, l2 = sizeof idle;
    getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &l1);
    getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &l2);
    out.emplace_back(on, idle);
  }
  return out;
}

// A peer that vanishes without a FIN is noticed by the kernel: both kinds of connection have
// TCP keepalive on, with Options::tcp_keepalive as the idle time.
TEST(RedisKeepAlive, CommandAndSubscriberConnectionsProbeTheirPeer) {
  RedisServer server;
  asio::io_context io;
  Options o = fast_options(server);
  o.tcp_keepalive = std::chrono::seconds(7);
  Client c(io, o);
  Subscriber s(io, o);
  s.subscribe("ka");
  c.start();
  s.start();
  ASSERT_TRUE(run_until(io, [&] { return c.connected() && s.connected(); }));
  auto sockets = keepalive_of_sockets_to(server.port());
  ASSERT_EQ(sockets.size(), 2u);
  for (auto [on, idle] : sockets) {
    EXPECT_NE(on, 0);
    EXPECT_EQ(idle, 7);
  }
}

}  // namespace
}  // namespace clickrace::redis
