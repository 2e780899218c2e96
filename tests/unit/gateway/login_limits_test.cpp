// The login limiter and the client key it counts under: pure, with time passed in (ms of a
// monotonic clock).
#include <gtest/gtest.h>

#include <string>

#include "client_address.hpp"
#include "login_limits.hpp"

namespace clickrace::gateway {
namespace {

LoginLimits limits(int attempts, int failures) {
  LoginLimits l;
  l.attempts_per_min = attempts;
  l.failures_per_min = failures;
  return l;
}

TEST(ClientLimitKey, IPv4IsItselfAlsoWhenMapped) {
  EXPECT_EQ(client_limit_key("203.0.113.5"), "203.0.113.5");
  EXPECT_EQ(client_limit_key("::ffff:203.0.113.5"), "203.0.113.5");
  EXPECT_NE(client_limit_key("203.0.113.5"), client_limit_key("203.0.113.6"));
}

TEST(ClientLimitKey, IPv6IsGroupedBySlash64) {
  std::string key = client_limit_key("2001:db8:1:2:3:4:5:6");
  EXPECT_EQ(key, "2001:db8:1:2::/64");
  EXPECT_EQ(client_limit_key("2001:db8:1:2:ffff:ffff:ffff:ffff"), key);
  EXPECT_EQ(client_limit_key("2001:DB8:1:2::1"), key);  // one spelling per network
  EXPECT_EQ(client_limit_key("2001:0db8:0001:0002:0:0:0:9"), key);
  EXPECT_NE(client_limit_key("2001:db8:1:3::1"), key);
  EXPECT_EQ(client_limit_key("::1"), "::/64");
  EXPECT_EQ(client_limit_key("fe80::1%1"), "fe80::/64");
}

TEST(ClientLimitKey, NonAddressesStaySmall) {
  EXPECT_EQ(client_limit_key(""), "?");
  EXPECT_EQ(client_limit_key(std::string(16000, 'x')).size(), 65u);
}

TEST(LoginLimiter, ANameIsValidatedBeforeItBecomesAKey) {
  LoginLimiter l(limits(1000, 10));
  for (int i = 0; i < 20; ++i) {
    std::string huge(16 * 1024, static_cast<char>('a' + i));
    EXPECT_TRUE(l.admit("203.0.113.5", huge, 0));
    EXPECT_TRUE(l.admit("203.0.113.5", "bad name " + std::to_string(i), 0));
    EXPECT_TRUE(l.admit("203.0.113.5", "ab", 0));
  }
  EXPECT_EQ(l.keys(), 1u) << "only the client may be a key";
  EXPECT_TRUE(l.admit("203.0.113.5", "Alice", 0));
  EXPECT_EQ(l.keys(), 2u);
}

TEST(LoginLimiter, FailuresCountPerNameAndClient) {
  LoginLimiter l(limits(30, 10));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(l.admit("203.0.113.66", "Victim", 0)) << i;
  EXPECT_FALSE(l.admit("203.0.113.66", "Victim", 0));
  EXPECT_FALSE(l.admit("203.0.113.66", "vICTIM", 0)) << "names are one regardless of case";
  // The name is not locked for anyone else, and the attacker may still try other names.
  EXPECT_TRUE(l.admit("198.51.100.20", "Victim", 0));
  EXPECT_TRUE(l.admit("203.0.113.66", "Other", 0));
  // Refilled at 10 a minute.
  EXPECT_FALSE(l.admit("203.0.113.66", "Victim", 5'999));
  EXPECT_TRUE(l.admit("203.0.113.66", "Victim", 6'100));
}

TEST(LoginLimiter, EveryAttemptCountsAgainstTheClient) {
  LoginLimiter l(limits(30, 10));
  for (int i = 0; i < 30; ++i) {
    EXPECT_TRUE(l.admit("192.0.2.1", i % 2 ? "" : "Name" + std::to_string(i), 0)) << i;
  }
  EXPECT_FALSE(l.admit("192.0.2.1", "Fresh", 0));
  EXPECT_FALSE(l.admit("192.0.2.1", "", 0));  // registrations too
  EXPECT_TRUE(l.admit("192.0.2.2", "Fresh", 0));
  // A refused client adds no name keys, whatever names it tries.
  std::size_t keys = l.keys();
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(l.admit("192.0.2.1", "N" + std::to_string(i), 0));
  EXPECT_EQ(l.keys(), keys);
  EXPECT_TRUE(l.admit("192.0.2.1", "Fresh", 2'100));  // 30 a minute: one more after 2 s
}

TEST(LoginLimiter, ASlash64IsOneClient) {
  LoginLimiter l(limits(30, 10));
  for (int i = 0; i < 30; ++i) {
    std::string addr = "2001:db8:7:1::" + std::to_string(i + 1);
    EXPECT_TRUE(l.admit(client_limit_key(addr), "Rotor" + std::to_string(i), 0)) << i;
  }
  EXPECT_FALSE(l.admit(client_limit_key("2001:db8:7:1:abcd::99"), "Rotor99", 0));
  EXPECT_TRUE(l.admit(client_limit_key("2001:db8:7:2::1"), "Rotor99", 0));
}

TEST(LoginLimiter, LoginsThatDidNotFailAreNotFailures) {
  LoginLimiter l(limits(1000, 3));
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(l.admit("192.0.2.7", "Alice", 0)) << i;
    l.not_failed("192.0.2.7", "alice", 0);
  }
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(l.admit("192.0.2.7", "Alice", 0));
  EXPECT_FALSE(l.admit("192.0.2.7", "Alice", 0));
  l.not_failed("192.0.2.7", std::string(16000, 'a'), 0);  // never a key: nothing to return
}

TEST(LoginLimiter, MemoryIsBoundedByTime) {
  LoginLimiter l(limits(30, 10));
  for (int i = 0; i < 500; ++i) {
    std::string client = "198.18." + std::to_string(i / 250) + "." + std::to_string(i % 250);
    EXPECT_TRUE(l.admit(client, "Name" + std::to_string(i), 0));
  }
  EXPECT_EQ(l.keys(), 1000u);
  // Every bucket has refilled after a window (60 s); the next attempt's sweep forgets them.
  EXPECT_TRUE(l.admit("192.0.2.1", "", 60'000));
  EXPECT_TRUE(l.admit("192.0.2.1", "Alice", 60'000));
  EXPECT_EQ(l.keys(), 2u);
}

}  // namespace
}  // namespace clickrace::gateway
