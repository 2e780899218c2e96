// The fault suite: the whole topology (redis-server with AOF, two schedulers, two gateways,
// nginx) under a steady click load of 200 reconnecting clients, one fault per test. After each
// run an accounting checker compares every player's acknowledged clicks with Redis, the round
// stream is checked for gaps and repeats, and every client connection's RoundEnded events for
// duplicates and omissions. Each test prints a summary line (acked, stored, ambiguous, times).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <thread>

#include "checks.hpp"
#include "click_load.hpp"
#include "clickrace/core/log.hpp"
#include "fault_topology.hpp"
#include "ws_client.hpp"

namespace clickrace::test {
namespace {

// How late a RoundEnded may reach a client of a healthy system (scheduler tick + pub/sub).
constexpr long long kAnnounceSlackMs = 3000;

// "p50 / p90 / max" of millisecond samples.
std::string spread(std::vector<long long> ms) {
  if (ms.empty()) return "n/a";
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[static_cast<std::size_t>(q * (ms.size() - 1))]; };
  std::ostringstream out;
  out << at(0.5) << " / " << at(0.9) << " / " << ms.back() << " ms (n=" << ms.size() << ")";
  return out.str();
}

class Faults : public ::testing::Test {
 protected:
  void SetUp() override {
    // 200 clients each log every reconnect at info: keep the test output to the summaries.
    core::set_log_level(core::LogLevel::warn);
    topo_ = std::make_unique<FaultTopology>();
    ASSERT_FALSE(HasFailure());
    LoadOptions o;
    o.base_url = topo_->lb().base_url();
    long long t0 = FaultTopology::wall_ms();
    load_ = std::make_unique<ClickLoad>(o);
    ASSERT_FALSE(HasFailure());
    ASSERT_TRUE(load_->all_connected());
    load_->start();
    ASSERT_TRUE(load_->wait_served(all(), t0, 15s)) << "the load never got going";
  }

  void TearDown() override {
    load_.reset();
    topo_.reset();
  }

  std::vector<Player*> all() {
    std::vector<Player*> out;
    for (auto& p : load_->players()) out.push_back(p.get());
    return out;
  }

  // Milliseconds from `t` until each player's first acknowledged click after it.
  static std::vector<long long> served_after(const std::vector<Player*>& who, long long t) {
    std::vector<long long> out;
    for (Player* p : who) {
      long long a = p->first_ack_after(t);
      if (a) out.push_back(a - t);
    }
    return out;
  }
  // Milliseconds from each loss at or after `t` to the reconnect that followed it.
  static std::vector<long long> reconnect_times(const std::vector<Player*>& who, long long t) {
    std::vector<long long> out;
    for (Player* p : who) {
      auto lost = p->lost_at();
      auto back = p->reconnected_at();
      for (long long l : lost) {
        if (l < t) continue;
        auto it = std::lower_bound(back.begin(), back.end(), l);
        if (it != back.end()) out.push_back(*it - l);
      }
    }
    return out;
  }

  void steady(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

  // Stops the load, lets the last rounds close and be announced, runs every check and prints
  // the summary. `exact`: the fault leaves no ambiguity, so stored must equal acknowledged.
  void finish(const std::string& scenario, bool exact, const std::string& times) {
    load_->stop();
    int port = topo_->redis().port();
    long long c0 = closed_round(port);
    EXPECT_TRUE(eventually([&] { return closed_round(port) >= c0 + 3; }, 10s))
        << "rounds stopped closing";
    auto rounds = read_rounds(port);
    check_round_stream(rounds, kRoundMs, closed_round(port));
    Accounting a = check_accounting(*load_, port, exact);
    EventReport e = check_client_events(*load_, rounds, kAnnounceSlackMs);
    std::cout << "[faults] " << scenario << ": acked=" << a.sent.acked << " stored=" << a.stored
              << " ambiguous=" << a.sent.ambiguous() << " (unresolved=" << a.sent.unresolved
              << " maybe=" << a.sent.maybe << ", of which counted=" << a.ambiguous_counted
              << ") rejected=" << a.sent.rejected << " not_sent=" << a.sent.not_sent
              << " lost=" << a.lost << " invented=" << a.invented << "\n"
              << "[faults]   rounds 1.." << closed_round(port)
              << " contiguous; client sessions=" << e.sessions << " RoundEnded=" << e.events
              << " required=" << e.required << " missed=" << e.missed
              << " repeats-after-reconnect=" << e.cross_session_duplicates << "\n"
              << times << std::flush;
    if (HasFailure()) std::cout << topo_->logs_tail() << std::flush;
  }

  std::unique_ptr<FaultTopology> topo_;
  std::unique_ptr<ClickLoad> load_;
};

TEST_F(Faults, KillOneGatewayClientsMoveToTheOther) {
  steady(3s);
  long long t = FaultTopology::wall_ms();
  topo_->gateway(0).kill();
  // nginx closes the client side as soon as its upstream socket dies.
  ASSERT_TRUE(eventually([&] { return !load_->lost_since(t).empty(); }, 10s));
  steady(1s);
  auto affected = load_->lost_since(t);
  EXPECT_GT(affected.size(), 0u);
  EXPECT_TRUE(load_->wait_served(all(), t, 20s)) << "some clients were not served again";
  steady(3s);
  EXPECT_TRUE(topo_->gateway(1).running());
  std::ostringstream times;
  times << "[faults]   clients moved=" << affected.size()
        << " reconnect=" << spread(reconnect_times(affected, t))
        << " served again after the kill=" << spread(served_after(affected, t)) << "\n";
  finish("kill -9 gateway", false, times.str());
}

TEST_F(Faults, KillLeadingSchedulerStandbyTakesOver) {
  steady(3s);
  int leader = topo_->leader();
  ASSERT_GE(leader, 0);
  long long c = closed_round(topo_->redis().port());
  long long t = FaultTopology::wall_ms();
  topo_->scheduler(leader).kill();
  ASSERT_TRUE(eventually([&] { return topo_->leader() == 1 - leader; }, 10s));
  long long took_over = FaultTopology::wall_ms() - t;
  ASSERT_TRUE(eventually([&] { return closed_round(topo_->redis().port()) >= c + 4; }, 15s));
  // Clicks never touch the scheduler: no connection dropped, nothing ambiguous.
  EXPECT_EQ(load_->totals().ambiguous(), 0);
  std::ostringstream times;
  times << "[faults]   leader sched-" << leader << " killed; sched-" << 1 - leader
        << " holds the lease after " << took_over << " ms\n";
  finish("kill -9 leading scheduler", true, times.str());
}

TEST_F(Faults, RedisKillAndRestartLosesNoAcknowledgedClick) {
  steady(3s);
  long long t = FaultTopology::wall_ms();
  topo_->redis().kill();
  EXPECT_TRUE(eventually([&] { return !topo_->gateway_ready(0) && !topo_->gateway_ready(1); }, 5s))
      << "/readyz must say 503 while Redis is down";
  steady(2s);
  topo_->redis().start();  // same port, same data dir: the AOF is replayed
  long long up = FaultTopology::wall_ms();
  EXPECT_TRUE(eventually([&] { return topo_->gateway_ready(0) && topo_->gateway_ready(1); }, 15s));
  long long ready = FaultTopology::wall_ms() - up;
  EXPECT_TRUE(load_->wait_served(all(), up, 20s)) << "clicks did not resume for every client";
  steady(3s);
  std::ostringstream times;
  times << "[faults]   redis down " << up - t << " ms; gateways ready " << ready
        << " ms after the restart; clicks acknowledged again after the restart="
        << spread(served_after(all(), up))
        << "; clients that lost their connection=" << load_->lost_since(t).size() << "\n";
  // A batch in flight when Redis died is resent with its batch id after the reconnect
  // (click.lua keeps each batch's reply), so every click gets a definite answer: an
  // acknowledgement (counted once) or a fail-fast "service unavailable" (never sent to Redis).
  // Clients keep their connections, so nothing is ambiguous: stored == acknowledged exactly.
  EXPECT_EQ(load_->totals().unresolved, 0);
  // Rounds closed while the gateways' subscriptions were down are caught up from the stream;
  // a live RoundEnded arriving before that catch-up is held and merged, so every connection
  // still sees every round once, in order.
  finish("kill -9 redis + restart (AOF)", true, times.str());
}

TEST_F(Faults, SigstopGatewayFor40sThenSigcont) {
  steady(3s);
  long long t = FaultTopology::wall_ms();
  topo_->gateway(0).signal(SIGSTOP);
  // Its clients notice by their server timeout (4 s without a message).
  ASSERT_TRUE(eventually([&] { return !load_->lost_since(t).empty(); }, 10s));
  steady(2s);
  auto affected = load_->lost_since(t);
  EXPECT_GT(affected.size(), 0u);
  // The kernel of the frozen gateway still accepts TCP connections, so nginx only notices it by
  // the short proxy_read_timeout on /hub/negotiate (services/load-balancer): it retries the
  // negotiate on the other gateway and takes the frozen one out of rotation. Every client must
  // be served again elsewhere while the gateway is still frozen, within seconds of noticing.
  load_->wait_served(all(), t, 36s);
  auto served_ms = served_after(affected, t);
  auto reconnect_ms = reconnect_times(affected, t);
  std::size_t served_frozen = served_ms.size();
  EXPECT_EQ(served_frozen, affected.size())
      << "not every client of the frozen gateway was served again elsewhere while it was frozen";
  if (!served_ms.empty()) {
    EXPECT_LE(*std::max_element(served_ms.begin(), served_ms.end()), 20'000)
        << "a client of the frozen gateway took over 20 s to be served again";
  }
  long long wake = t + 40'000;
  while (FaultTopology::wall_ms() < wake) steady(100ms);
  topo_->gateway(0).signal(SIGCONT);
  long long cont = FaultTopology::wall_ms();
  EXPECT_TRUE(eventually([&] { return topo_->gateway_ready(0); }, 15s))
      << "the thawed gateway's /readyz never said 200 again";
  long long ready = FaultTopology::wall_ms() - cont;
  EXPECT_TRUE(load_->wait_served(all(), t, 15s)) << "clients still not served after SIGCONT";
  auto served_all_ms = served_after(affected, t);
  // It accepts and serves new connections directly (not only through nginx).
  client::AccountApi api("http://127.0.0.1:" + std::to_string(topo_->gateway_port(0)));
  auto session = api.login_or_register("Thawed", "fault-suite-password");
  ASSERT_TRUE(session.ok()) << session.error().message;
  client::HubClientOptions o;
  o.url = client::hub_url_for(api.base_url());
  o.access_token_factory = [tok = session->token] { return tok; };
  o.reconnect_delays.clear();
  client::HubClient direct(o);
  ASSERT_TRUE(direct.ensure_started().get().ok());
  auto click = direct.invoke("Click").get();
  EXPECT_TRUE(click.ok()) << click.error().message;
  long long direct_ms = FaultTopology::wall_ms() - cont;
  direct.stop();
  steady(3s);
  EXPECT_TRUE(topo_->gateway(0).running());
  std::ostringstream times;
  times << "[faults]   clients of the frozen gateway=" << affected.size()
        << " reconnect=" << spread(reconnect_ms)
        << "\n[faults]   served again after SIGSTOP, while frozen: " << served_frozen << "/"
        << affected.size() << " " << spread(served_ms) << "; in all: " << spread(served_all_ms)
        << "\n"
        << "[faults]   after SIGCONT: /readyz 200 after " << ready
        << " ms, a direct connection clicked after " << direct_ms << " ms\n";
  finish("SIGSTOP gateway 40 s", false, times.str());
}

}  // namespace
}  // namespace clickrace::test
