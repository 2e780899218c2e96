// Pure parts of the client: hub URLs and the negotiate answer (no network).
#include <gtest/gtest.h>

#include "clickrace/client/negotiate.hpp"
#include "clickrace/client/url.hpp"

namespace clickrace::client {
namespace {

TEST(HubUrl, ParsesHostPortPathAndQuery) {
  auto u = parse_url("http://127.0.0.1:8080/hub?x=1");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/hub");
  EXPECT_EQ(u->query, "x=1");
  EXPECT_EQ(u->origin(), "http://127.0.0.1:8080");
}

TEST(HubUrl, DefaultsPortAndPath) {
  auto u = parse_url("HTTP://example.com");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->path, "/");
  auto s = parse_url("https://example.com/hub#frag");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->tls);
  EXPECT_EQ(s->port, 443);
  EXPECT_EQ(s->path, "/hub");
  auto v6 = parse_url("ws://[::1]:9000/hub");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->origin(), "http://[::1]:9000");
}

TEST(HubUrl, RejectsBadUrls) {
  for (const char* bad : {"", "127.0.0.1:8080", "ftp://x/", "http://", "http://:80/", "http://h:0/",
                          "http://h:70000/", "http://h:8x/", "http://u:p@h/", "http://[::1/"}) {
    EXPECT_FALSE(parse_url(bad).ok()) << bad;
  }
}

TEST(HubUrl, BuildsNegotiateAndWebSocketTargetsLikeTheJsClient) {
  auto u = *parse_url("http://h:1/hub");
  EXPECT_EQ(negotiate_target(u), "/hub/negotiate?negotiateVersion=1");
  EXPECT_EQ(websocket_url(u, "tok"), "ws://h:1/hub?id=tok");
  EXPECT_EQ(websocket_url(u, ""), "ws://h:1/hub");
  auto q = *parse_url("http://h:1/hub/?x=1");
  EXPECT_EQ(negotiate_target(q), "/hub/negotiate?x=1&negotiateVersion=1");
  EXPECT_EQ(websocket_url(q, "tok"), "ws://h:1/hub/?x=1&id=tok");
}

TEST(NegotiateReply, TakesTheConnectionToken) {
  auto r = parse_negotiate_reply(
      200,
      R"({"negotiateVersion":1,"connectionId":"cid","connectionToken":"ctok",)"
      R"("availableTransports":[{"transport":"WebSockets","transferFormats":["Text","Binary"]}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->connection_id, "cid");
  EXPECT_EQ(r->connection_token, "ctok");
}

TEST(NegotiateReply, ReportsFailuresWithTheOfficialWording) {
  auto unauthorized = parse_negotiate_reply(401, "bad token");
  ASSERT_FALSE(unauthorized.ok());
  EXPECT_EQ(unauthorized.error().message,
            "Failed to complete negotiation with the server: bad token: Status code '401'");
  auto accepted = parse_negotiate_reply(202, "{}");
  ASSERT_FALSE(accepted.ok());
  EXPECT_EQ(accepted.error().message, "Unexpected status code returned from negotiate '202'");
  auto refused = parse_negotiate_reply(200, R"({"error":"This connection is not allowed."})");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "This connection is not allowed.");
}

TEST(NegotiateReply, RejectsMalformedAndUnsupportedAnswers) {
  for (const char* body :
       {"", "[]", "not json", R"({"connectionToken":"t"})",
        R"({"connectionToken":"t","availableTransports":[{"transport":"LongPolling"}]})",
        R"({"url":"http://elsewhere/hub","accessToken":"x"})",
        R"({"ProtocolVersion":"1.5","connectionToken":"t"})"}) {
    EXPECT_FALSE(parse_negotiate_reply(200, body).ok()) << body;
  }
}

}  // namespace
}  // namespace clickrace::client
