// The bounded flush window (CLICKRACE_CLICK_FLUSH_WINDOW_US, click_batcher.hpp) against a real
// gateway and redis-server: a lone click waits for the window before its batch leaves; clicks
// that reach CLICKRACE_CLICK_FLUSH_MIN_CLICKS leave together in one batch; every click is still
// stored exactly once.
#include <gtest/gtest.h>

#include <chrono>

#include "gateway_fixture.hpp"

namespace clickrace::test {
namespace {

double metric(int port, const std::string& name) {
  std::string body = http_request(port, "GET", "/metrics").body;
  auto at = body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + name.size() + 2));
}

TEST(ClickFlushWindow, ALoneClickWaitsTheWindowAndAFullBatchLeavesTogether) {
  RedisServer redis;
  RedisSync sync{redis.port()};
  Gateway gw{redis,
             "fw:",
             {{"CLICKRACE_MAX_CLICKS_PER_S", "100000"},
              {"CLICKRACE_CLICK_FLUSH_WINDOW_US", "50000"},
              {"CLICKRACE_CLICK_FLUSH_MIN_CLICKS", "3"}}};
  ASSERT_GT(gw.port, 0) << gw.proc->output();
  write_schedule(sync, "fw:");
  std::string token = register_and_login(gw.port, "Windowed");
  HubClient c;
  ASSERT_EQ(c.connect(gw.port, token), "");
  const double batches0 = metric(gw.port, "clickrace_gateway_click_batches_total");

  // A lone click: its batch is held by the 50 ms timer (a lower bound, whatever the load).
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.invoke("Click");
  auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(r && r->contains("result")) << (r ? r->dump() : "timeout");
  EXPECT_GE(waited, std::chrono::milliseconds(45));
  EXPECT_EQ(metric(gw.port, "clickrace_gateway_click_batches_total"), batches0 + 1);

  // Three clicks in three frames, back to back: the batch reaches the minimum and leaves as one.
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(c.invoke_async("Click"));
  for (auto& id : ids) {
    auto done = c.completion(id);
    ASSERT_TRUE(done && done->contains("result")) << (done ? done->dump() : "timeout");
  }
  EXPECT_EQ(metric(gw.port, "clickrace_gateway_click_batches_total"), batches0 + 2);
  EXPECT_EQ(sync.cmd({"ZSCORE", "fw:round:1:scores", "Windowed"}).str, "4");
}

}  // namespace
}  // namespace clickrace::test
