#include "clickrace/signalr/handshake.hpp"

#include <gtest/gtest.h>

#include <string>

namespace clickrace::signalr {
namespace {

TEST(Handshake, AcceptsJsonVersion1And2) {
  auto v1 = negotiate_handshake(R"({"protocol":"json","version":1})");
  ASSERT_TRUE(v1.ok()) << v1.error().message;
  EXPECT_EQ(v1->protocol, Protocol::json);
  EXPECT_EQ(v1->version, 1);
  auto v2 = negotiate_handshake(R"({"protocol":"json","version":2})");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version, 2);
}

TEST(Handshake, AcceptsMessagePackVersion1And2) {
  for (long long v : {1, 2}) {
    auto r =
        negotiate_handshake(R"({"protocol":"messagepack","version":)" + std::to_string(v) + "}");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->protocol, Protocol::messagepack);
    EXPECT_EQ(r->version, v);
  }
  auto r = negotiate_handshake(R"({"protocol":"messagepack","version":3})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "The server does not support version 3 of the 'messagepack' protocol.");
}

TEST(Handshake, AnyOrderUnknownPropertiesAndWhitespace) {
  auto r = negotiate_handshake(R"( { "version" : 1, "extra":{"x":[1]}, "protocol" : "json" } )");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->version, 1);
}

TEST(Handshake, UnsupportedProtocolUsesDotNetText) {
  auto r = negotiate_handshake(R"({"protocol":"MessagePack","version":1})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "The protocol 'MessagePack' is not supported.");
}

TEST(Handshake, UnsupportedVersionUsesDotNetText) {
  auto r = negotiate_handshake(R"({"protocol":"json","version":3})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "The server does not support version 3 of the 'json' protocol.");
  auto zero = negotiate_handshake(R"({"protocol":"json","version":0})");
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().message, "The server does not support version 0 of the 'json' protocol.");
  EXPECT_FALSE(negotiate_handshake(R"({"protocol":"json","version":-1})").ok());
  EXPECT_FALSE(negotiate_handshake(R"({"protocol":"json","version":18446744073709551615})").ok());
}

TEST(Handshake, LongProtocolNameIsShortenedInError) {
  const std::string name(5000, 'p');
  auto r = negotiate_handshake(R"({"protocol":")" + name + R"(","version":1})");
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.error().message.size(), 200u);
}

TEST(Handshake, MalformedRequests) {
  for (const char* bad :
       {"", "{", "[]", "null", "\"json\"", "{}", R"({"protocol":"json"})", R"({"version":1})",
        R"({"protocol":1,"version":1})", R"({"protocol":"json","version":"1"})",
        R"({"protocol":"json","version":1.5})", R"({"protocol":"json","version":null})",
        R"({"protocol":null,"version":1})", R"({"protocol":"json","version":1}x)",
        "{\"protocol\":\"js\xff\",\"version\":1}", R"({"protocol":"json","version":1e999})"}) {
    auto r = negotiate_handshake(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
  EXPECT_EQ(negotiate_handshake(R"({"version":1})").error().message,
            "Missing required property 'protocol'.");
  EXPECT_EQ(negotiate_handshake(R"({"protocol":"json"})").error().message,
            "Missing required property 'version'.");
}

TEST(Handshake, DeepNestingRejected) {
  std::string deep = R"({"protocol":"json","version":1,"x":)" + std::string(10000, '[') +
                     std::string(10000, ']') + "}";
  EXPECT_FALSE(negotiate_handshake(deep).ok());
}

TEST(Handshake, ResponseFrames) {
  EXPECT_EQ(kHandshakeSuccessFrame, std::string_view("{}\x1e", 3));
  EXPECT_EQ(kHandshakeSuccessFrame.size(), 3u);
  EXPECT_EQ(handshake_error_frame("The protocol 'x' is not supported."),
            "{\"error\":\"The protocol 'x' is not supported.\"}\x1e");
  EXPECT_EQ(handshake_error_frame("a\"b\\c\n"), "{\"error\":\"a\\\"b\\\\c\\n\"}\x1e");
}

TEST(Handshake, ParseRequestKeepsFields) {
  auto r = parse_handshake_request(R"({"protocol":"messagepack","version":1})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->protocol, "messagepack");
  EXPECT_EQ(r->version, 1);
}

}  // namespace
}  // namespace clickrace::signalr
