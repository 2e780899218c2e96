#include <gtest/gtest.h>

#include "clickrace/redis/backoff.hpp"
#include "clickrace/redis/options.hpp"
#include "clickrace/redis/reply.hpp"
#include "clickrace/redis/script.hpp"

namespace clickrace::redis {
namespace {

using namespace std::chrono_literals;

TEST(ParseUrl, Defaults) {
  auto o = parse_url("redis://cache.local");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->host, "cache.local");
  EXPECT_EQ(o->port, 6379);
  EXPECT_EQ(o->db, 0);
  EXPECT_EQ(o->password, "");
}

TEST(ParseUrl, AllParts) {
  auto o = parse_url("redis://:s3cr@t@10.0.0.5:6380/3");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->host, "10.0.0.5");
  EXPECT_EQ(o->port, 6380);
  EXPECT_EQ(o->db, 3);
  EXPECT_EQ(o->username, "");
  EXPECT_EQ(o->password, "s3cr@t");
}

TEST(ParseUrl, UserAndIpv6) {
  auto o = parse_url("redis://app:pw@[::1]:7000/0");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->host, "::1");
  EXPECT_EQ(o->port, 7000);
  EXPECT_EQ(o->username, "app");
  EXPECT_EQ(o->password, "pw");
}

TEST(ParseUrl, KeepsBaseOptions) {
  Options base;
  base.command_timeout = 250ms;
  auto o = parse_url("redis://h:1/2", base);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->command_timeout, 250ms);
}

TEST(ParseUrl, Rejects) {
  for (const char* bad : {"", "http://h:1", "redis://", "redis://:6379", "redis://h:",
                          "redis://h:0", "redis://h:70000", "redis://h:12x", "redis://h:1/x",
                          "redis://h:1/-1", "redis://pw@h", "redis://[::1", "redis://[::1]x"}) {
    auto o = parse_url(bad);
    EXPECT_FALSE(o) << bad;
  }
}

TEST(ParseUrl, ErrorDoesNotLeakPassword) {
  auto o = parse_url("redis://:topsecret@h:bad");
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().message.find("topsecret"), std::string::npos);
}

TEST(Backoff, DoublesToTheCapWithoutJitter) {
  Backoff b(100ms, 1000ms, 0.0);
  std::vector<long long> got;
  for (int i = 0; i < 6; ++i) got.push_back(b.next(0.5).count());
  EXPECT_EQ(got, (std::vector<long long>{100, 200, 400, 800, 1000, 1000}));
  b.reset();
  EXPECT_EQ(b.next(0.5), 100ms);
}

TEST(Backoff, JitterStaysInBand) {
  Backoff low(1000ms, 5000ms, 0.2), high(1000ms, 5000ms, 0.2);
  EXPECT_EQ(low.next(0.0), 800ms);
  EXPECT_EQ(high.next(0.999999), 1199ms);
}

TEST(Reply, ErrorCode) {
  EXPECT_TRUE(Reply::error("NOSCRIPT No matching script").is_error_code("NOSCRIPT"));
  EXPECT_TRUE(Reply::error("NOROUND").is_error_code("NOROUND"));
  EXPECT_FALSE(Reply::error("NOSCRIPTX y").is_error_code("NOSCRIPT"));
  EXPECT_FALSE(Reply::string("NOSCRIPT x").is_error_code("NOSCRIPT"));
  auto a = Reply::array({Reply::integer(3), Reply{}, Reply::status("OK")});
  EXPECT_EQ(a.debug_string(), "[:3, (nil), +OK]");
  EXPECT_EQ(a[0].integer(), 3);
}

TEST(Script, Sha1MatchesRedis) {
  // redis-cli SCRIPT LOAD "return 1"
  EXPECT_EQ(Script("return 1").sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

}  // namespace
}  // namespace clickrace::redis
