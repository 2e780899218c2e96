// File-descriptor exhaustion: with a low open-file limit, many idle TCP connections neither spin
// the gateway (EMFILE used to re-arm accept in a busy loop) nor stop it serving afterwards.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "gateway_fixture.hpp"

namespace clickrace::test {
namespace {

// utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15).
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A gateway under `prlimit --nofile=64:64`: 32 descriptors are reserved, 32 left for clients.
Process gateway_with_64_open_files(RedisServer& redis, const std::string& prefix) {
  return Process("hub-gateway", {"/usr/bin/prlimit", "--nofile=64:64", "--", bin("hub-gateway")},
                 {{"CLICKRACE_REDIS_URL", redis.url()},
                  {"CLICKRACE_KEY_PREFIX", prefix},
                  {"CLICKRACE_GATEWAY_PORT", "0"},
                  {"CLICKRACE_FAST_PASSWORD_HASH", "1"},
                  {"CLICKRACE_TOKEN_SECRET", kTestSecret}});
}

TEST(GatewayFdLimit, IdleConnectionsBeyondTheOpenFileLimitDoNotSpinOrStopTheGateway) {
  if (access("/usr/bin/prlimit", X_OK) != 0) GTEST_SKIP() << "util-linux prlimit missing";
  RedisServer redis;
  Process gw = gateway_with_64_open_files(redis, "fd:");
  gw.start();
  int port = gw.wait_listening();
  ASSERT_GT(port, 0) << gw.output();
  EXPECT_NE(gw.output().find("does not fit"), std::string::npos) << "the clamp is logged";

  std::vector<int> fds;
  for (int i = 0; i < 100; ++i) {
    int fd = connect_loopback(port);
    if (fd >= 0) fds.push_back(fd);
  }
  EXPECT_GT(fds.size(), 64u);          // the kernel's accept queue takes what the gateway cannot
  std::this_thread::sleep_for(300ms);  // let it accept what it can
  double before = cpu_seconds(gw.pid());
  std::this_thread::sleep_for(2s);
  double used = cpu_seconds(gw.pid()) - before;
  EXPECT_LT(used, 0.5) << "CPU seconds used in 2 s with 100 idle connections";

  for (int fd : fds) ::close(fd);
  EXPECT_TRUE(eventually([&] { return http_request(port, "GET", "/healthz").status == 200; }));
  HubClient c;
  ASSERT_EQ(c.connect(port, register_and_login(port, "Afterwards")), "");
  auto r = c.invoke("GetRound");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->contains("result")) << r->dump();
  EXPECT_TRUE(gw.running());
}

// True when the peer has closed (EOF or reset) the connection on `fd`.
bool closed_by_peer(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char c;
  return (p.revents & (POLLHUP | POLLERR | POLLRDHUP)) != 0 ||
         ::recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) <= 0;
}

// The budget works where it lands, on the sockets accept() returned: with 64 open files (a
// budget of 32 client sockets) an idle flood of 150 connections is cut down to the budget at once
// (not by the 15 s handshake timeout), and real requests are served meanwhile: each one makes
// room by closing the oldest socket still in its opening handshake.
TEST(GatewayFdLimit, AnIdleFloodIsCutToTheBudgetAtOnceAndRequestsAreServedMeanwhile) {
  if (access("/usr/bin/prlimit", X_OK) != 0) GTEST_SKIP() << "util-linux prlimit missing";
  RedisServer redis;
  Process gw = gateway_with_64_open_files(redis, "fdflood:");
  gw.start();
  int port = gw.wait_listening();
  ASSERT_GT(port, 0) << gw.output();
  std::string token = register_and_login(port, "Flooded");
  ASSERT_FALSE(token.empty());

  auto started = std::chrono::steady_clock::now();
  std::vector<int> idle;
  for (int i = 0; i < 150; ++i) {
    int fd = connect_loopback(port);
    if (fd >= 0) idle.push_back(fd);
  }
  ASSERT_EQ(idle.size(), 150u);
  auto count_closed = [&] { return std::count_if(idle.begin(), idle.end(), closed_by_peer); };
  // 150 - 32 must go; the 15 s handshake timeout must not be what closes them.
  EXPECT_TRUE(eventually([&] { return count_closed() >= 150 - 32; }, 8s))
      << count_closed() << " of 150 idle connections closed";
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);

  // While the rest are still held (far inside their 15 s handshake time), the gateway serves.
  auto health = http_request(port, "GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  HubClient c;
  ASSERT_EQ(c.connect(port, token), "");
  auto r = c.invoke("GetRound");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->contains("result")) << r->dump();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 14s) << "served only after the timeout";
  EXPECT_LE(150 - count_closed(), 32) << "idle sockets held beyond the budget";
  EXPECT_GT(150 - count_closed(), 0) << "the budget's sockets are kept, not everything closed";
  for (int fd : idle) ::close(fd);
  EXPECT_TRUE(gw.running());
}

}  // namespace
}  // namespace clickrace::test
