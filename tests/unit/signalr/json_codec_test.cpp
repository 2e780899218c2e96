#include "clickrace/signalr/json_codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace clickrace::signalr {
namespace {

using nlohmann::json;

std::string strip_rs(const std::string& frame) {
  EXPECT_FALSE(frame.empty());
  EXPECT_EQ(frame.back(), '\x1e');
  EXPECT_EQ(frame.find('\x1e'), frame.size() - 1);  // exactly one separator, at the end
  return frame.substr(0, frame.size() - 1);
}

template <typename T>
T parse_as(std::string_view record) {
  auto r = parse_message(record);
  EXPECT_TRUE(r.ok()) << record << " -> " << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*r)) << record;
  return std::holds_alternative<T>(*r) ? std::get<T>(*r) : T{};
}

// ---- exact client frames from signalr-protocol.md §6.1 (JS client 10.0.11, type last)

TEST(ClientFrames, InvokeWithId) {
  auto m = parse_as<InvocationMessage>(
      R"({"target":"Add","arguments":[40,2],"invocationId":"0","type":1})");
  EXPECT_EQ(m.target, "Add");
  EXPECT_EQ(m.arguments, json::parse("[40,2]"));
  ASSERT_TRUE(m.invocation_id.has_value());
  EXPECT_EQ(*m.invocation_id, "0");
  EXPECT_TRUE(m.stream_ids.empty());
}

TEST(ClientFrames, SendWithoutId) {
  auto m = parse_as<InvocationMessage>(R"({"target":"Fire","arguments":[{"a":1}],"type":1})");
  EXPECT_EQ(m.target, "Fire");
  EXPECT_FALSE(m.invocation_id.has_value());
  EXPECT_EQ(m.arguments, json::parse(R"([{"a":1}])"));
}

TEST(ClientFrames, StreamAndCancel) {
  auto s = parse_as<StreamInvocationMessage>(
      R"({"target":"Counter","arguments":[3],"invocationId":"3","type":4})");
  EXPECT_EQ(s.target, "Counter");
  EXPECT_EQ(s.invocation_id, "3");
  EXPECT_EQ(s.arguments, json::parse("[3]"));
  auto c = parse_as<CancelInvocationMessage>(R"({"invocationId":"3","type":5})");
  EXPECT_EQ(c.invocation_id, "3");
}

TEST(ClientFrames, UploadStream) {
  auto m = parse_as<InvocationMessage>(
      R"({"target":"Up","arguments":[],"invocationId":"1","streamIds":["0"],"type":1})");
  EXPECT_EQ(m.stream_ids, std::vector<std::string>{"0"});
  EXPECT_TRUE(m.arguments.is_array());
  EXPECT_TRUE(m.arguments.empty());
  auto item = parse_as<StreamItemMessage>(R"({"invocationId":"0","item":{"v":1},"type":2})");
  EXPECT_EQ(item.invocation_id, "0");
  EXPECT_EQ(item.item, json::parse(R"({"v":1})"));
  auto null_item = parse_as<StreamItemMessage>(R"({"invocationId":"0","item":null,"type":2})");
  EXPECT_TRUE(null_item.item.is_null());
  auto end = parse_as<CompletionMessage>(R"({"invocationId":"0","type":3})");
  EXPECT_FALSE(end.result.has_value());
  EXPECT_FALSE(end.error.has_value());
  auto err = parse_as<CompletionMessage>(R"({"error":"boom","invocationId":"0","type":3})");
  ASSERT_TRUE(err.error.has_value());
  EXPECT_EQ(*err.error, "boom");
}

TEST(ClientFrames, ClientResults) {
  auto r = parse_as<CompletionMessage>(R"({"invocationId":"s-1","result":42,"type":3})");
  ASSERT_TRUE(r.result.has_value());
  EXPECT_EQ(*r.result, json(42));
  auto n = parse_as<CompletionMessage>(R"({"invocationId":"s-1","result":null,"type":3})");
  ASSERT_TRUE(n.result.has_value());  // present-with-null differs from absent
  EXPECT_TRUE(n.result->is_null());
  auto e = parse_as<CompletionMessage>(
      R"({"error":"Client didn't provide a result.","invocationId":"s-2","type":3})");
  EXPECT_EQ(e.error.value_or(""), "Client didn't provide a result.");
}

TEST(ClientFrames, PingCloseAckSequence) {
  parse_as<PingMessage>(R"({"type":6})");
  auto close = parse_as<CloseMessage>(R"({"type":7})");
  EXPECT_FALSE(close.error.has_value());
  EXPECT_FALSE(close.allow_reconnect);
  auto close2 = parse_as<CloseMessage>(R"({"error":"x","allowReconnect":true,"type":7})");
  EXPECT_EQ(close2.error.value_or(""), "x");
  EXPECT_TRUE(close2.allow_reconnect);
  EXPECT_EQ(parse_as<AckMessage>(R"({"sequenceId":2,"type":8})").sequence_id, 2u);
  EXPECT_EQ(
      parse_as<SequenceMessage>(R"({"type":9,"sequenceId":18446744073709551615})").sequence_id,
      18446744073709551615ull);
}

TEST(Parse, HeadersAndUnknownPropertiesAndWhitespace) {
  auto m = parse_as<InvocationMessage>(
      " {\n \"type\" : 1 , \"x-unknown\":{\"deep\":[1,2,{}]}, \"headers\":{\"a\":\"b\",\"c\":\"\"},"
      "\"target\":\"Click\", \"arguments\":[] }\t");
  EXPECT_EQ(m.target, "Click");
  EXPECT_EQ(m.headers, (Headers{{"a", "b"}, {"c", ""}}));
}

TEST(Parse, UnknownTypeIsADistinctAlternative) {
  EXPECT_EQ(parse_as<UnknownMessage>(R"({"type":10,"whatever":1})").type, 10);
  EXPECT_EQ(parse_as<UnknownMessage>(R"({"type":0})").type, 0);
  EXPECT_EQ(parse_as<UnknownMessage>(R"({"type":-3})").type, -3);
  EXPECT_EQ(parse_as<UnknownMessage>(R"({"type":9223372036854775807})").type,
            9223372036854775807LL);
}

TEST(Parse, UnicodeAndEscapesInStrings) {
  auto m = parse_as<InvocationMessage>(
      R"({"type":1,"target":"caf\u00e9 \ud83d\ude00","arguments":["\u001e","é"]})");
  EXPECT_EQ(m.target, "caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(m.arguments[0].get<std::string>(), "\x1e");
  // ...and the escaped 0x1E survives serialization escaped, so framing stays intact.
  strip_rs(serialize(m));
}

TEST(Parse, DepthLimitAllowsReasonableNesting) {
  std::string args = "[" + std::string(29, '[') + std::string(29, ']') + "]";
  parse_as<InvocationMessage>(R"({"type":1,"target":"T","arguments":)" + args + "}");
  std::string too_deep = "[" + std::string(40, '[') + std::string(40, ']') + "]";
  EXPECT_FALSE(parse_message(R"({"type":1,"target":"T","arguments":)" + too_deep + "}").ok());
  // brackets inside strings do not count
  parse_as<InvocationMessage>(R"({"type":1,"target":"T","arguments":[")" + std::string(100, '[') +
                              R"(\"[["]})");
}

// ---- round trips: serialize -> parse -> equal

std::vector<HubMessage> sample_messages() {
  InvocationMessage inv;
  inv.invocation_id = "17";
  inv.target = "SendMessage";
  inv.arguments = json::parse(R"(["bob",{"n":1.5,"list":[true,null,-3]},"\u001e\"\\"])");
  inv.stream_ids = {"0", "1"};
  inv.headers = {{"k", "v"}, {"x", "\"y\""}};
  InvocationMessage send;
  send.target = "Click";
  StreamItemMessage item{"3", json::parse(R"({"a":[1,2]})"), {}};
  StreamItemMessage null_item{"3", json(nullptr), {{"h", "1"}}};
  CompletionMessage result{"0", json(42), std::nullopt, {}};
  CompletionMessage null_result{"0", json(nullptr), std::nullopt, {}};
  CompletionMessage no_result{"0", std::nullopt, std::nullopt, {}};
  CompletionMessage error{"1", std::nullopt, std::string("nope \xe2\x9c\x93"), {{"a", "b"}}};
  StreamInvocationMessage stream;
  stream.invocation_id = "4";
  stream.target = "Counter";
  stream.arguments = json::array({3, "x"});
  stream.stream_ids = {"9"};
  CancelInvocationMessage cancel{"4", {}};
  return {inv,
          send,
          item,
          null_item,
          result,
          null_result,
          no_result,
          error,
          stream,
          cancel,
          PingMessage{},
          CloseMessage{},
          CloseMessage{std::string("x"), true},
          CloseMessage{std::nullopt, true},
          CloseMessage{std::string(""), false},
          AckMessage{0},
          AckMessage{18446744073709551615ull},
          SequenceMessage{1},
          UnknownMessage{42}};
}

TEST(RoundTrip, EveryMessageType) {
  for (const auto& original : sample_messages()) {
    const std::string frame = serialize(original);
    const std::string record = strip_rs(frame);
    auto parsed = parse_message(record);
    ASSERT_TRUE(parsed.ok()) << record << " -> " << parsed.error().message;
    EXPECT_EQ(parsed->index(), original.index()) << record;
    EXPECT_TRUE(*parsed == original) << record;
    EXPECT_EQ(serialize(*parsed), frame);  // stable bytes
  }
}

TEST(RoundTrip, SerializeToAppendsSeveralRecords) {
  std::string out;
  serialize_to(out, PingMessage{});
  serialize_to(out, CloseMessage{});
  EXPECT_EQ(out, "{\"type\":6}\x1e{\"type\":7}\x1e");
}

// ---- exact server bytes, as .NET writes them (type first)

TEST(ServerFrames, SerializeMatchesDotNetBytes) {
  EXPECT_EQ(serialize(CompletionMessage{"0", json(42), std::nullopt, {}}),
            "{\"type\":3,\"invocationId\":\"0\",\"result\":42}\x1e");
  EXPECT_EQ(serialize(CompletionMessage{"0", json(nullptr), std::nullopt, {}}),
            "{\"type\":3,\"invocationId\":\"0\",\"result\":null}\x1e");
  EXPECT_EQ(serialize(CompletionMessage{"3", std::nullopt, std::nullopt, {}}),
            "{\"type\":3,\"invocationId\":\"3\"}\x1e");
  EXPECT_EQ(serialize(CompletionMessage{"1", std::nullopt, std::string("..."), {}}),
            "{\"type\":3,\"invocationId\":\"1\",\"error\":\"...\"}\x1e");
  EXPECT_EQ(serialize(StreamItemMessage{"3", json(0), {}}),
            "{\"type\":2,\"invocationId\":\"3\",\"item\":0}\x1e");
  InvocationMessage call;
  call.target = "ReceiveMessage";
  call.arguments = json::array({"bob", "hi"});
  EXPECT_EQ(serialize(call),
            "{\"type\":1,\"target\":\"ReceiveMessage\",\"arguments\":[\"bob\",\"hi\"]}\x1e");
  InvocationMessage client_result;
  client_result.invocation_id = "s-1";
  client_result.target = "GetInput";
  EXPECT_EQ(serialize(client_result),
            "{\"type\":1,\"invocationId\":\"s-1\",\"target\":\"GetInput\",\"arguments\":[]}\x1e");
  EXPECT_EQ(serialize(PingMessage{}), "{\"type\":6}\x1e");
  EXPECT_EQ(serialize(CloseMessage{}), "{\"type\":7}\x1e");
  EXPECT_EQ(serialize(CloseMessage{std::string("x"), true}),
            "{\"type\":7,\"error\":\"x\",\"allowReconnect\":true}\x1e");
  EXPECT_EQ(serialize(AckMessage{2}), "{\"type\":8,\"sequenceId\":2}\x1e");
  EXPECT_EQ(serialize(SequenceMessage{5}), "{\"type\":9,\"sequenceId\":5}\x1e");
}

TEST(ServerFrames, HotPathHelpers) {
  EXPECT_EQ(completion_result("0", "null"),
            "{\"type\":3,\"invocationId\":\"0\",\"result\":null}\x1e");
  EXPECT_EQ(completion_result("7", R"({"round":3,"top":[]})"),
            "{\"type\":3,\"invocationId\":\"7\",\"result\":{\"round\":3,\"top\":[]}}\x1e");
  EXPECT_EQ(completion_error("1", "no round is running yet"),
            "{\"type\":3,\"invocationId\":\"1\",\"error\":\"no round is running yet\"}\x1e");
  EXPECT_EQ(completion_error("1", "say \"hi\"\\\n\x01"),
            "{\"type\":3,\"invocationId\":\"1\",\"error\":\"say \\\"hi\\\"\\\\\\n\\u0001\"}\x1e");
  EXPECT_EQ(invocation_frame("RoundStarted", R"({"round":1})"),
            "{\"type\":1,\"target\":\"RoundStarted\",\"arguments\":[{\"round\":1}]}\x1e");
  EXPECT_EQ(kPingFrame, std::string_view("{\"type\":6}\x1e"));
  EXPECT_EQ(close_frame(std::nullopt, false), "{\"type\":7}\x1e");
  EXPECT_EQ(close_frame(std::nullopt, true), "{\"type\":7,\"allowReconnect\":true}\x1e");
  EXPECT_EQ(close_frame("x", true), "{\"type\":7,\"error\":\"x\",\"allowReconnect\":true}\x1e");
  EXPECT_EQ(close_frame("Connection closed with an error.", false),
            "{\"type\":7,\"error\":\"Connection closed with an error.\"}\x1e");
}

TEST(ServerFrames, HotPathFramesParseBack) {
  auto c = parse_as<CompletionMessage>(strip_rs(completion_result("9", R"([1,{"a":null}])")));
  EXPECT_EQ(c.result.value_or(json()), json::parse(R"([1,{"a":null}])"));
  auto e = parse_as<CompletionMessage>(strip_rs(completion_error("9", "bad \x1e thing")));
  EXPECT_EQ(e.error.value_or(""), "bad \x1e thing");
  auto i = parse_as<InvocationMessage>(strip_rs(invocation_frame("Leaderboard", "{}")));
  EXPECT_EQ(i.target, "Leaderboard");
  EXPECT_EQ(i.arguments, json::parse("[{}]"));
}

TEST(Escaping, InvalidUtf8BecomesReplacementCharacter) {
  std::string out;
  append_json_string(out,
                     "a\xff"
                     "b\xc3");  // stray byte, truncated sequence
  EXPECT_EQ(out,
            "\"a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\"");
  out.clear();
  append_json_string(out, "\xed\xa0\x80");  // UTF-8-encoded surrogate: invalid
  EXPECT_EQ(out, "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  out.clear();
  append_json_string(out, "\xc0\xaf");  // overlong '/'
  EXPECT_EQ(out, "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  out.clear();
  append_json_string(out, "\xf4\x8f\xbf\xbf \xe2\x82\xac \x7f");  // U+10FFFF, euro, DEL: valid
  EXPECT_EQ(out, "\"\xf4\x8f\xbf\xbf \xe2\x82\xac \x7f\"");
  // The output is always valid JSON and round-trips through a strict parser.
  const std::string frame = completion_error("\xfe", "x\xff");
  auto parsed = parse_message(strip_rs(frame));
  EXPECT_TRUE(parsed.ok());
}

TEST(Escaping, SerializeNeverThrowsOnInvalidUtf8InModel) {
  InvocationMessage m;
  m.target = "T\xff";
  m.arguments = json::array({std::string("bad\xc3")});
  m.headers = {{"k\xff", "v\xfe"}};
  std::string frame;
  EXPECT_NO_THROW(frame = serialize(m));
  EXPECT_TRUE(parse_message(strip_rs(frame)).ok());
}

}  // namespace
}  // namespace clickrace::signalr
