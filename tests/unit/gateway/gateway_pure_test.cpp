// Pure pieces of the gateway: routing, body validation, hub dispatch, batch assembly, auth
// helpers, dedupe mark, metrics text. No sockets, no Redis.
#include <gtest/gtest.h>

#include <map>

#include "auth.hpp"
#include "broadcaster.hpp"
#include "click_batch.hpp"
#include "click_batcher.hpp"
#include "clickrace/bus/partitions.hpp"
#include "clickrace/signalr/json_codec.hpp"
#include "client_address.hpp"
#include "fd_limits.hpp"
#include "hub_dispatch.hpp"
#include "metrics.hpp"
#include "round_ledger.hpp"
#include "routes.hpp"
#include "score_partitions.hpp"

namespace clickrace::gateway {
namespace {

TEST(Routes, MapsEveryApiPathAndMethod) {
  EXPECT_EQ(route("POST", "/api/accounts").route, Route::create_account);
  EXPECT_EQ(route("GET", "/api/accounts").route, Route::method_not_allowed);
  EXPECT_EQ(route("POST", "/api/sessions").route, Route::create_session);
  EXPECT_EQ(route("POST", "/hub/negotiate").route, Route::negotiate);
  EXPECT_EQ(route("GET", "/api/rounds/current").route, Route::current_round);
  EXPECT_EQ(route("GET", "/api/rounds").route, Route::list_rounds);
  auto m = route("GET", "/api/rounds/42");
  EXPECT_EQ(m.route, Route::get_round);
  EXPECT_EQ(m.round_id, 42);
  EXPECT_EQ(route("GET", "/api/rounds/abc").route, Route::bad_round_id);
  EXPECT_EQ(route("GET", "/api/rounds/0").route, Route::bad_round_id);
  EXPECT_EQ(route("GET", "/api/rounds/-3").route, Route::bad_round_id);
  EXPECT_EQ(route("GET", "/healthz").route, Route::healthz);
  EXPECT_EQ(route("GET", "/readyz").route, Route::readyz);
  EXPECT_EQ(route("GET", "/metrics").route, Route::metrics);
  EXPECT_EQ(route("OPTIONS", "/hub/negotiate").route, Route::preflight);
  EXPECT_EQ(route("GET", "/").route, Route::static_file);
  EXPECT_EQ(route("GET", "/app.js").route, Route::static_file);
  EXPECT_EQ(route("GET", "/api/nope").route, Route::not_found);
  EXPECT_EQ(route("DELETE", "/").route, Route::method_not_allowed);
}

TEST(Routes, CredentialsAreValidated) {
  auto ok = parse_credentials(R"({"password":"p","name":"n","extra":1})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->name, "n");
  EXPECT_EQ(ok->password, "p");
  EXPECT_FALSE(parse_credentials(""));
  EXPECT_FALSE(parse_credentials("{"));
  EXPECT_FALSE(parse_credentials("[]"));
  EXPECT_FALSE(parse_credentials(R"({"name":1,"password":"x"})"));
  EXPECT_FALSE(parse_credentials(R"({"name":"x"})"));
  EXPECT_FALSE(parse_credentials("{\"name\":\"\xff\",\"password\":\"x\"}"));
  std::string deep(100000, '[');
  EXPECT_FALSE(parse_credentials(deep));
}

TEST(Routes, LimitDefaultsAndBounds) {
  EXPECT_EQ(*parse_limit(std::nullopt), 20);
  EXPECT_EQ(*parse_limit(std::string("100")), 100);
  EXPECT_FALSE(parse_limit(std::string("101")));
  EXPECT_FALSE(parse_limit(std::string("0")));
  EXPECT_FALSE(parse_limit(std::string("x")));
}

TEST(HttpTypes, QueryAndHeadersAreCaseInsensitive) {
  HttpRequest r;
  r.query = "NegotiateVersion=1&access_token=a%2Bb%3D&flag";
  r.headers = {{"authorization", "Bearer t"}};
  EXPECT_EQ(*r.query_param("negotiateversion"), "1");
  EXPECT_EQ(*r.query_param("access_token"), "a+b=");
  EXPECT_EQ(*r.query_param("flag"), "");
  EXPECT_FALSE(r.query_param("id"));
  EXPECT_EQ(r.header("Authorization"), "Bearer t");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
}

signalr::HubMessage parse(const std::string& json) {
  auto m = signalr::parse_message(json);
  EXPECT_TRUE(m) << json;
  return *m;
}

TEST(HubDispatch, MethodNamesAreCaseInsensitive) {
  auto a = decide(parse(R"({"type":1,"invocationId":"1","target":"cLiCk","arguments":[]})"));
  EXPECT_EQ(a.kind, HubAction::Kind::call);
  EXPECT_EQ(a.method, HubMethod::click);
  EXPECT_EQ(*a.invocation_id, "1");
  auto g = decide(parse(R"({"type":1,"invocationId":"2","target":"getround","arguments":[]})"));
  EXPECT_EQ(g.kind, HubAction::Kind::call);
  EXPECT_EQ(g.method, HubMethod::get_round);
}

TEST(HubDispatch, SendIsCalledWithoutReplyAndErrorsAreSilent) {
  auto a = decide(parse(R"({"type":1,"target":"Click","arguments":[]})"));
  EXPECT_EQ(a.kind, HubAction::Kind::call);
  EXPECT_FALSE(a.invocation_id);
  EXPECT_EQ(decide(parse(R"({"type":1,"target":"Nope","arguments":[]})")).kind,
            HubAction::Kind::ignore);
  EXPECT_EQ(decide(parse(R"({"type":1,"target":"Click","arguments":[1]})")).kind,
            HubAction::Kind::ignore);
}

TEST(HubDispatch, DotNetErrorTexts) {
  auto u = decide(parse(R"({"type":1,"invocationId":"7","target":"Nope","arguments":[]})"));
  EXPECT_EQ(u.kind, HubAction::Kind::reply_error);
  EXPECT_EQ(u.error, "Unknown hub method 'Nope'");
  auto b = decide(parse(R"({"type":1,"invocationId":"8","target":"Click","arguments":[1,2]})"));
  EXPECT_EQ(b.error, "Failed to invoke 'Click' due to an error on the server.");
  auto s = decide(parse(R"({"type":4,"invocationId":"9","target":"click","arguments":[]})"));
  EXPECT_EQ(s.kind, HubAction::Kind::reply_error);
  EXPECT_EQ(s.error,
            "The client attempted to invoke the non-streaming 'click' method with a streaming "
            "invocation.");
  auto up = decide(
      parse(R"({"type":1,"invocationId":"3","target":"Click","arguments":[],"streamIds":["0"]})"));
  EXPECT_EQ(up.kind, HubAction::Kind::reply_error);
}

TEST(HubDispatch, ControlMessages) {
  EXPECT_EQ(decide(parse(R"({"type":6})")).kind, HubAction::Kind::ignore);
  EXPECT_EQ(decide(parse(R"({"type":7})")).kind, HubAction::Kind::close);
  EXPECT_EQ(decide(parse(R"({"type":5,"invocationId":"1"})")).kind, HubAction::Kind::ignore);
  EXPECT_EQ(decide(parse(R"({"type":99})")).kind, HubAction::Kind::ignore);
}

TEST(ClickBatch, MergesPlayersAndGivesEachCallerIncreasingTotals) {
  ClickBatch b;
  b.add({1, "alice", std::string("a1")});
  b.add({2, "bob", std::string("b1")});
  b.add({1, "alice", std::string("a2")});
  b.add({3, "alice", std::nullopt});  // alice on a second connection, a send
  b.add({1, "alice", std::string("a3")});
  EXPECT_EQ(b.size(), 5u);
  EXPECT_EQ(b.players(), 2u);
  EXPECT_EQ(b.script_args("gw:7", 20, 1, 6),
            (std::vector<std::string>{"gw:7", "20", "1", "6", "alice", "4", "bob", "1"}));
  bus::PartitionKeys pk("P:");
  EXPECT_EQ(b.script_keys(pk, "gw:7", 6),
            (std::vector<std::string>{"P:schedule", "P:sealed", "P:clickbatch:gw:7",
                                      "P:round:6:scores", "P:round:6:total", "P:round:7:scores",
                                      "P:round:7:total", "P:round:5:rate", "P:round:6:rate",
                                      "P:round:7:rate", "P:round:8:rate"}));
  auto out = b.complete(7, {{14, 4}, {3, 1}}, "rate");  // alice had 10, now 14; bob now 3
  ASSERT_EQ(out.size(), 5u);
  std::vector<std::int64_t> totals;
  for (auto& o : out) {
    ASSERT_TRUE(o.result);
    EXPECT_EQ(o.result->round, 7);
    totals.push_back(o.result->clicks);
  }
  EXPECT_EQ(totals, (std::vector<std::int64_t>{11, 3, 12, 13, 14}));
  EXPECT_EQ(*out[0].invocation_id, "a1");
  EXPECT_FALSE(out[3].invocation_id);
}

// One click.lua call per score partition: each player's clicks go to its partition, in arrival
// order, so the per-caller totals stay increasing.
TEST(ClickBatch, SplitsByPartitionKeepingEachPlayersOrder) {
  ClickBatch b;
  std::vector<std::string> names{"alice", "bob", "carol", "dave", "erin", "frank"};
  for (int i = 0; i < 30; ++i) {
    b.add({static_cast<CallerId>(i % 6), names[i % 6], std::to_string(i)});
  }
  auto parts = b.split(4);
  EXPECT_TRUE(b.empty());
  ASSERT_EQ(parts.size(), 4u);
  std::size_t total = 0;
  for (int k = 0; k < 4; ++k) {
    auto& part = parts[static_cast<std::size_t>(k)];
    total += part.size();
    std::vector<std::string> args = part.script_args("id", 0, 4, 1);
    for (std::size_t i = 4; i < args.size(); i += 2) {
      EXPECT_EQ(bus::partition_of(args[i], 4), k) << args[i];
      EXPECT_EQ(args[i + 1], "5");
    }
    // Completing a part answers its own callers, in their arrival order.
    std::vector<ClickBatch::PlayerGrant> grants(part.players(), {5, 5});
    auto out = part.complete(1, grants, "rate");
    std::map<CallerId, std::int64_t> last;
    for (auto& o : out) {
      ASSERT_TRUE(o.result);
      EXPECT_EQ(o.result->clicks, last[o.caller] + 1);
      last[o.caller] = o.result->clicks;
      EXPECT_EQ(std::stoi(*o.invocation_id) % 6, static_cast<int>(o.caller));
    }
  }
  EXPECT_EQ(total, 30u);
  ClickBatch one;
  one.add({1, "x", std::nullopt});
  auto single = one.split(1);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].size(), 1u);
}

// The fleet-wide rate granted only some of a player's clicks: the first ones in arrival order
// are counted, the rest get the rate-limit error (they were not stored).
TEST(ClickBatch, ClicksBeyondThePlayersGrantGetTheRateError) {
  ClickBatch b;
  b.add({1, "alice", std::string("a1")});
  b.add({2, "bob", std::string("b1")});
  b.add({3, "alice", std::string("a2")});
  b.add({1, "alice", std::string("a3")});
  auto out = b.complete(4, {{12, 1}, {0, 0}}, "rate limit exceeded");
  ASSERT_EQ(out.size(), 4u);
  ASSERT_TRUE(out[0].result);
  EXPECT_EQ(out[0].result->clicks, 12);
  EXPECT_EQ(out[1].result.error().message, "rate limit exceeded");
  EXPECT_EQ(out[2].result.error().message, "rate limit exceeded");
  EXPECT_EQ(out[3].result.error().message, "rate limit exceeded");
  // A grant larger than the clicks sent (a corrupt reply) never acknowledges more than were sent.
  ClickBatch c;
  c.add({1, "x", std::string("1")});
  auto over = c.complete(1, {{9, 5}}, "rate");
  ASSERT_TRUE(over[0].result);
  EXPECT_EQ(over[0].result->clicks, 9);
}

// Which failures leave a batch ambiguous (resend it with the same id) and which prove it never
// ran (fail its clicks at once).
TEST(ClickBatcher, ClassifiesCallResults) {
  using redis::Reply;
  auto err = [](std::string_view m) { return Result<Reply>(make_error(std::string(m))); };
  EXPECT_EQ(classify(Reply::array({Reply::integer(1)})), CallOutcome::answered);
  EXPECT_EQ(classify(Reply::error("NOROUND no round is running yet")), CallOutcome::answered);
  EXPECT_EQ(classify(err(redis::kErrTimeout)), CallOutcome::ambiguous);
  EXPECT_EQ(classify(err(redis::kErrConnectionLost)), CallOutcome::ambiguous);
  EXPECT_EQ(classify(err(redis::kErrNotConnected)), CallOutcome::not_sent);
  EXPECT_EQ(classify(err(redis::kErrOverloaded)), CallOutcome::not_sent);
  EXPECT_EQ(classify(err(redis::kErrClosed)), CallOutcome::closed);
}

TEST(ClickBatch, WrongReplyShapeAndFailureFailEveryClick) {
  ClickBatch b;
  b.add({1, "a", std::string("1")});
  b.add({2, "b", std::string("2")});
  auto bad = b.complete(1, {{5, 1}}, "rate");
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_FALSE(bad[0].result);
  ClickBatch c;
  c.add({1, "a", std::string("1")});
  auto f = c.fail("service unavailable");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].result.error().message, "service unavailable");
}

HttpRequest with_headers(std::vector<std::pair<std::string, std::string>> h,
                         std::string query = "") {
  HttpRequest r;
  r.headers = std::move(h);
  r.query = std::move(query);
  return r;
}

TEST(Auth, TokenFromBearerOrQuery) {
  EXPECT_EQ(*request_token(with_headers({{"Authorization", "Bearer abc"}}), false), "abc");
  EXPECT_EQ(*request_token(with_headers({{"authorization", "bearer  abc "}}), false), "abc");
  EXPECT_FALSE(request_token(with_headers({{"Authorization", "Basic abc"}}), false));
  EXPECT_FALSE(request_token(with_headers({}, "access_token=q"), false));
  EXPECT_EQ(*request_token(with_headers({}, "access_token=q"), true), "q");
}

TEST(Auth, OriginRules) {
  std::vector<std::string> allowed = {"https://play.example"};
  EXPECT_TRUE(origin_allowed(with_headers({{"Host", "x:1"}}), allowed));  // no Origin
  EXPECT_TRUE(origin_allowed(with_headers({{"Host", "Game:8080"}, {"Origin", "http://game:8080"}}),
                             allowed));
  EXPECT_TRUE(origin_allowed(with_headers({{"Host", "game"}, {"Origin", "http://game:80"}}), {}));
  EXPECT_TRUE(origin_allowed(with_headers({{"Host", "other"}, {"Origin", "https://play.example"}}),
                             allowed));
  EXPECT_FALSE(origin_allowed(
      with_headers({{"Host", "game:8080"}, {"Origin", "http://evil.example"}}), allowed));
  EXPECT_FALSE(origin_allowed(with_headers({{"Host", "game:8080"}, {"Origin", "null"}}), allowed));
}

TEST(Auth, CorsEchoesOnlyListedOrigins) {
  std::vector<std::string> allowed = {"https://play.example"};
  auto h = cors_headers(with_headers({{"Origin", "https://play.example"}}), allowed);
  ASSERT_FALSE(h.empty());
  EXPECT_EQ(h[0].second, "https://play.example");
  EXPECT_TRUE(cors_headers(with_headers({{"Origin", "https://evil"}}), allowed).empty());
  auto pre = preflight_response(
      with_headers({{"Origin", "https://play.example"},
                    {"Access-Control-Request-Headers", "authorization,x-requested-with"}}),
      allowed);
  EXPECT_EQ(pre.status, 204);
  bool creds = false;
  for (auto& [k, v] : pre.headers) creds |= k == "Access-Control-Allow-Credentials" && v == "true";
  EXPECT_TRUE(creds);
}

TEST(Auth, ConnectionIdsAreUrlSafe22Chars) {
  auto id = new_connection_id();
  EXPECT_EQ(id.size(), 22u);
  EXPECT_EQ(
      id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  EXPECT_NE(id, new_connection_id());
  auto body = nlohmann::json::parse(negotiate_body("cid", "tok"));
  EXPECT_EQ(body["negotiateVersion"], 1);
  EXPECT_EQ(body["availableTransports"][0]["transport"], "WebSockets");
  EXPECT_FALSE(body.contains("useStatefulReconnect"));
  EXPECT_FALSE(body.contains("ProtocolVersion"));
  EXPECT_EQ(body["availableTransports"][0]["transferFormats"],
            nlohmann::json::array({"Text", "Binary"}));
  // Only when the client asked (and the gateway offers it).
  auto stateful = nlohmann::json::parse(negotiate_body("cid", "tok", true));
  EXPECT_EQ(stateful["useStatefulReconnect"], true);
}

TEST(Auth, UpgradeChecks) {
  auto signer = *core::TokenSigner::from_secret(std::string(40, 'k'));
  core::Claims login{core::TokenKind::login, "Alice", 10'000, ""};
  core::Claims conn{core::TokenKind::connection, "Alice", 10'000, "cid123"};
  core::Claims other{core::TokenKind::connection, "Bob", 10'000, "cid9"};
  std::string lt = signer.sign(login);
  int status = 0;
  auto ok =
      check_upgrade(with_headers({{"Authorization", "Bearer " + lt}}, "id=" + signer.sign(conn)),
                    signer, {}, 5'000, &status);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->player, "Alice");
  EXPECT_EQ(ok->connection_id, "cid123");
  auto skip = check_upgrade(with_headers({}, "access_token=" + lt), signer, {}, 5'000, &status);
  ASSERT_TRUE(skip);
  EXPECT_EQ(skip->connection_id.size(), 22u);
  EXPECT_FALSE(check_upgrade(with_headers({}), signer, {}, 5'000, &status));
  EXPECT_EQ(status, 401);
  EXPECT_FALSE(check_upgrade(with_headers({}, "access_token=" + lt), signer, {}, 20'000, &status));
  EXPECT_EQ(status, 401);  // expired
  EXPECT_FALSE(check_upgrade(with_headers({}, "access_token=" + lt + "x"), signer, {}, 5, &status));
  EXPECT_EQ(status, 401);  // tampered
  EXPECT_FALSE(check_upgrade(with_headers({}, "access_token=" + lt + "&id=nope"), signer, {}, 5'000,
                             &status));
  EXPECT_EQ(status, 404);
  EXPECT_FALSE(check_upgrade(with_headers({}, "access_token=" + lt + "&id=" + signer.sign(other)),
                             signer, {}, 5'000, &status));
  EXPECT_EQ(status, 404);  // someone else's connection
  EXPECT_FALSE(check_upgrade(with_headers({}, "access_token=" + lt + "&id=" + lt), signer, {},
                             5'000, &status));
  EXPECT_EQ(status, 404);  // a login token is not a connection token
  EXPECT_FALSE(check_upgrade(
      with_headers({{"Origin", "http://evil"}, {"Host", "game"}}, "access_token=" + lt), signer, {},
      5'000, &status));
  EXPECT_EQ(status, 403);
}

RoundEntry entry(std::int64_t round, std::int64_t started_at = -1) {
  if (started_at < 0) started_at = round * 1000;
  return RoundEntry{round, started_at, "{\"round\":" + std::to_string(round) + "}"};
}
// The stream as XREVRANGE returns it: newest first.
std::vector<RoundEntry> stream(std::int64_t from, std::int64_t to) {
  std::vector<RoundEntry> out;
  for (std::int64_t r = to; r >= from; --r) out.push_back(entry(r));
  return out;
}
std::vector<std::int64_t> rounds_of(const std::vector<RoundEntry>& v) {
  std::vector<std::int64_t> out;
  for (const auto& e : v) out.push_back(e.round);
  return out;
}
using Live = RoundLedger::Live;

TEST(RoundLedger, FirstCatchUpTakesTheMarkWithoutReplayingHistory) {
  RoundLedger l;
  EXPECT_EQ(l.on_live(entry(3)), Live::held);  // before the first catch-up
  EXPECT_TRUE(l.finish(stream(1, 3)).empty());
  EXPECT_EQ(l.mark(), 3);
  EXPECT_EQ(l.on_live(entry(4)), Live::announce);
  EXPECT_EQ(l.on_live(entry(4)), Live::duplicate);
  EXPECT_EQ(l.on_live(entry(3)), Live::duplicate);
}

// The fault-suite race: after a re-subscription a live RoundEnded 7 arrives before the stream
// can be read; rounds 4-6 are only in the stream. All of 4..7 are announced once, in order.
TEST(RoundLedger, LiveResultsAreHeldUntilTheCatchUpAndMergedInOrder) {
  RoundLedger l;
  l.finish(stream(1, 3));
  l.hold();
  EXPECT_EQ(l.on_live(entry(7)), Live::held);
  EXPECT_EQ(l.on_live(entry(7)), Live::duplicate);
  EXPECT_EQ(rounds_of(l.finish(stream(1, 7))), (std::vector<std::int64_t>{4, 5, 6, 7}));
  EXPECT_EQ(l.mark(), 7);
  EXPECT_EQ(l.on_live(entry(6)), Live::duplicate);  // a late pub/sub copy
  EXPECT_EQ(l.on_live(entry(8)), Live::announce);
  // A held result newer than the stream read (published after it) is announced too.
  l.hold();
  EXPECT_EQ(l.on_live(entry(10)), Live::held);
  EXPECT_EQ(rounds_of(l.finish(stream(1, 9))), (std::vector<std::int64_t>{9, 10}));
}

TEST(RoundLedger, PagesBackUntilTheMarkIsReached) {
  RoundLedger l;
  l.finish(stream(1, 3));
  l.hold();
  auto page = stream(104, 203);  // 100 entries, all above the mark
  EXPECT_TRUE(l.needs_older(page, true));
  EXPECT_FALSE(l.needs_older(page, false));  // a short page is the stream's start
  auto more = stream(3, 103);
  page.insert(page.end(), more.begin(), more.end());
  EXPECT_FALSE(l.needs_older(page, true));  // reached round 3
  auto out = l.finish(page);
  ASSERT_EQ(out.size(), 200u);
  EXPECT_EQ(out.front().round, 4);
  EXPECT_EQ(out.back().round, 203);
}

TEST(RoundLedger, CatchUpIsBounded) {
  RoundLedger::Limits limits;
  limits.max_catch_up = 10;
  RoundLedger l(limits);
  l.finish({});
  l.hold();
  auto page = stream(1, 50);
  EXPECT_FALSE(l.needs_older(page, true));
  EXPECT_EQ(rounds_of(l.finish(page)).front(), 41);  // the newest 10
}

TEST(RoundLedger, AStreamBehindTheMarkMeansLostDataAndResetsTheMark) {
  RoundLedger l;
  l.finish(stream(1, 50));
  EXPECT_EQ(l.mark(), 50);
  l.hold();
  EXPECT_EQ(l.on_live(entry(2, 999)), Live::held);
  EXPECT_EQ(rounds_of(l.finish(stream(1, 2))), (std::vector<std::int64_t>{1, 2}));
  EXPECT_TRUE(l.restarted());
  EXPECT_EQ(l.mark(), 2);
  EXPECT_EQ(l.on_live(entry(3, 777)), Live::announce);
  // The new rounds reached the mark again: the round at the mark is another one.
  l.hold();
  std::vector<RoundEntry> again = {entry(4, 2000), entry(3, 1999), entry(2, 1998)};
  EXPECT_EQ(rounds_of(l.finish(again)), (std::vector<std::int64_t>{2, 3, 4}));
  // Empty stream with a mark above 0: reset too.
  l.hold();
  EXPECT_TRUE(l.finish({}).empty());
  EXPECT_EQ(l.mark(), 0);
  EXPECT_EQ(l.on_live(entry(1, 5)), Live::announce);
}

// Redis lost its data while the subscription stayed up: round 1 (a new one) arrives live.
TEST(RoundLedger, AnUnknownOldRoundTriggersAStreamCheck) {
  RoundLedger l;
  l.finish(stream(1, 50));
  l.on_live(entry(51));
  EXPECT_EQ(l.on_live(entry(51)), Live::duplicate);
  EXPECT_EQ(l.on_live(entry(1, 123)), Live::suspect);
  EXPECT_TRUE(l.holding());
  EXPECT_EQ(l.on_live(entry(2, 124)), Live::held);
  std::vector<RoundEntry> fresh = {entry(2, 124), entry(1, 123)};
  EXPECT_EQ(rounds_of(l.finish(fresh)), (std::vector<std::int64_t>{1, 2}));
  // A stale copy of an old round, with the stream intact: checked, nothing announced.
  EXPECT_EQ(l.on_live(entry(1, 42)), Live::suspect);
  std::vector<RoundEntry> intact = {entry(2, 124), entry(1, 123)};
  EXPECT_TRUE(l.finish(intact).empty());
  EXPECT_FALSE(l.restarted());
  EXPECT_EQ(l.mark(), 2);
}

TEST(TrustedProxies, AddressesAndCidrBlocks) {
  auto t = TrustedProxies::parse(" 127.0.0.1, ::1 ,172.16.0.0/12,fd00::/8");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->contains("127.0.0.1"));
  EXPECT_TRUE(t->contains("::ffff:127.0.0.1"));
  EXPECT_TRUE(t->contains("::1"));
  EXPECT_TRUE(t->contains("172.20.3.4"));
  EXPECT_FALSE(t->contains("172.32.0.1"));
  EXPECT_TRUE(t->contains("fd12::5"));
  EXPECT_FALSE(t->contains("127.0.0.2"));
  EXPECT_FALSE(t->contains("not an address"));
  EXPECT_TRUE(TrustedProxies::parse("")->empty());
  EXPECT_FALSE(TrustedProxies::parse("10.0.0.0/33"));
  EXPECT_FALSE(TrustedProxies::parse("nginx"));
  EXPECT_FALSE(TrustedProxies::parse("10.0.0.0/"));
}

TEST(TrustedProxies, ClientAddressOnlyFromTrustedPeers) {
  auto t = *TrustedProxies::parse("10.0.0.1");
  HttpRequest r;
  r.remote_address = "10.0.0.1";
  EXPECT_EQ(client_address(r, t), "10.0.0.1");
  r.headers = {{"X-Forwarded-For", "1.1.1.1, 2.2.2.2"}};
  EXPECT_EQ(client_address(r, t), "2.2.2.2");  // the hop the proxy appended
  r.headers.push_back({"x-real-ip", " 3.3.3.3 "});
  EXPECT_EQ(client_address(r, t), "3.3.3.3");
  r.headers = {{"X-Real-IP", "garbage"}};
  EXPECT_EQ(client_address(r, t), "10.0.0.1");
  r.remote_address = "10.0.0.2";  // not trusted: its headers are the client's own words
  r.headers = {{"X-Real-IP", "3.3.3.3"}};
  EXPECT_EQ(client_address(r, t), "10.0.0.2");
}

TEST(FdBudget, ClampsConnectionsToTheOpenFileLimit) {
  auto small = fit_fd_budget(64, 20000);
  EXPECT_EQ(small.max_sockets, 64 - kReservedFds);
  EXPECT_EQ(small.max_connections, static_cast<int>(64 - kReservedFds));
  EXPECT_TRUE(small.clamped);
  auto big = fit_fd_budget(1'048'576, 20000);
  EXPECT_EQ(big.max_connections, 20000);
  EXPECT_FALSE(big.clamped);
  EXPECT_EQ(fit_fd_budget(10, 5).max_sockets, 1u);  // never zero
}

TEST(Metrics, RendersPrometheusText) {
  Metrics m;
  m.clicks_accepted = 5;
  m.click_batch_size.observe(3);
  m.click_batch_size.observe(3000);
  std::string text = m.render(true, false);
  EXPECT_NE(text.find("clickrace_gateway_clicks_accepted_total 5\n"), std::string::npos);
  EXPECT_NE(text.find("clickrace_gateway_click_batch_size_bucket{le=\"5\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("clickrace_gateway_click_batch_size_bucket{le=\"+Inf\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("clickrace_gateway_events_subscribed 0\n"), std::string::npos);
}

TEST(ScorePartitionsParse, TheStoredCountOrOne) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(ScorePartitions::parse(Pairs{{"epoch", "1"}, {"partitions", "12"}}), 12);
  EXPECT_EQ(ScorePartitions::parse(Pairs{{"epoch", "1"}}), 1);  // a schedule from before S
  EXPECT_EQ(ScorePartitions::parse(Pairs{}), 1);
  for (const char* bad : {"0", "-3", "257", "12x", ""}) {
    EXPECT_EQ(ScorePartitions::parse(Pairs{{"partitions", bad}}), 1) << bad;
  }
  EXPECT_EQ(ScorePartitions::parse(Pairs{{"partitions", "256"}}), 256);
}

}  // namespace
}  // namespace clickrace::gateway
