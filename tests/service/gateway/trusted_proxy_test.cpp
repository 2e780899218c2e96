// The per-client login limit behind a load balancer: the client is the one a trusted proxy names
// in X-Real-IP, not the proxy; from an untrusted peer the header is ignored.
#include <gtest/gtest.h>

#include "gateway_fixture.hpp"

namespace clickrace::test {
namespace {

int login(int port, const std::string& name, const std::string& password,
          const std::string& real_ip) {
  nlohmann::json body = {{"name", name}, {"password", password}};
  return http_request(port, "POST", "/api/sessions", body.dump(),
                      {{"Content-Type", "application/json"}, {"X-Real-IP", real_ip}})
      .status;
}

TEST(GatewayTrustedProxy, LoginLimitIsPerClientBehindATrustedProxy) {
  RedisServer redis;
  // The test connects from 127.0.0.1, which the default CLICKRACE_TRUSTED_PROXIES trusts.
  Gateway gw(redis, "tp:", {{"CLICKRACE_LOGIN_ATTEMPTS_PER_MIN", "30"}});
  ASSERT_GT(gw.port, 0);
  ASSERT_FALSE(register_and_login(gw.port, "Honest").empty());
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(login(gw.port, "Guess" + std::to_string(i), "wrong-password",
                    "203.0.113." + std::to_string(i)),
              401);
  }
  EXPECT_EQ(login(gw.port, "Honest", "password123", "198.51.100.7"), 200)
      << "one client's failures must not block another";
  // One client alone still runs out.
  for (int i = 0; i < 30; ++i)
    login(gw.port, "Guess" + std::to_string(i), "nope-nope", "192.0.2.1");
  EXPECT_EQ(login(gw.port, "Honest", "password123", "192.0.2.1"), 429);
}

TEST(GatewayTrustedProxy, HeadersFromAnUntrustedPeerAreIgnored) {
  RedisServer redis;
  Gateway gw(
      redis, "tu:",
      {{"CLICKRACE_LOGIN_ATTEMPTS_PER_MIN", "30"}, {"CLICKRACE_TRUSTED_PROXIES", "10.9.9.9"}});
  ASSERT_GT(gw.port, 0);
  ASSERT_FALSE(register_and_login(gw.port, "Honest").empty());  // 2 attempts from 127.0.0.1
  for (int i = 0; i < 28; ++i) {
    EXPECT_EQ(login(gw.port, "Guess" + std::to_string(i), "wrong-password",
                    "203.0.113." + std::to_string(i)),
              401);
  }
  EXPECT_EQ(login(gw.port, "Honest", "password123", "198.51.100.7"), 429)
      << "the forged X-Real-IP must not buy fresh attempts";
}

}  // namespace
}  // namespace clickrace::test
