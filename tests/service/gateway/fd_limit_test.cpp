// File-descriptor exhaustion: with a low open-file limit, many idle TCP connections neither spin
// the gateway (EMFILE used to re-arm accept in a busy loop) nor stop it serving afterwards.
#include <gtest/gtest.h>
#include <netinet/in.h>
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

TEST(GatewayFdLimit, IdleConnectionsBeyondTheOpenFileLimitDoNotSpinOrStopTheGateway) {
  if (access("/usr/bin/prlimit", X_OK) != 0) GTEST_SKIP() << "util-linux prlimit missing";
  RedisServer redis;
  Process gw("hub-gateway", {"/usr/bin/prlimit", "--nofile=64:64", "--", bin("hub-gateway")},
             {{"CLICKRACE_REDIS_URL", redis.url()},
              {"CLICKRACE_KEY_PREFIX", "fd:"},
              {"CLICKRACE_GATEWAY_PORT", "0"},
              {"CLICKRACE_FAST_PASSWORD_HASH", "1"},
              {"CLICKRACE_TOKEN_SECRET", kTestSecret}});
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

}  // namespace
}  // namespace clickrace::test
