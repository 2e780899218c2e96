#include "clickrace/signalr/msgpack_codec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "clickrace/signalr/binary_framing.hpp"
#include "clickrace/signalr/msgpack.hpp"

namespace clickrace::signalr {
namespace {

using nlohmann::json;

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

std::string hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (!out.empty()) out += ' ';
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

// The body of a single frame (drops the VarInt prefix, checking it).
std::string body_of(const std::string& frame) {
  auto p = read_varint(frame);
  EXPECT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->prefix_bytes + (*p)->body_size, frame.size());
  return frame.substr((*p)->prefix_bytes);
}

// ---- the value layer ----

std::string enc_int(std::int64_t v) {
  std::string out;
  msgpack::write_int(out, v);
  return out;
}

TEST(MsgpackValues, SmallestIntegerEncodings) {
  EXPECT_EQ(hex(enc_int(0)), "00");
  EXPECT_EQ(hex(enc_int(127)), "7f");
  EXPECT_EQ(hex(enc_int(128)), "cc 80");
  EXPECT_EQ(hex(enc_int(255)), "cc ff");
  EXPECT_EQ(hex(enc_int(256)), "cd 01 00");
  EXPECT_EQ(hex(enc_int(65536)), "ce 00 01 00 00");
  EXPECT_EQ(hex(enc_int(1764000000000)), "cf 00 00 01 9a b6 97 e8 00");  // a Unix ms time
  EXPECT_EQ(hex(enc_int(-1)), "ff");
  EXPECT_EQ(hex(enc_int(-32)), "e0");
  EXPECT_EQ(hex(enc_int(-33)), "d0 df");
  EXPECT_EQ(hex(enc_int(-129)), "d1 ff 7f");
  EXPECT_EQ(hex(enc_int(-32769)), "d2 ff ff 7f ff");
  EXPECT_EQ(hex(enc_int(INT64_MIN)), "d3 80 00 00 00 00 00 00 00");
}

TEST(MsgpackValues, IntegersReadBackInEveryWidth) {
  for (std::int64_t v :
       std::vector<std::int64_t>{0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL,
                                 -1, -32, -33, -128, -129, -32768, -32769, INT64_MIN, INT64_MAX}) {
    std::string b = enc_int(v);
    msgpack::Reader in(b);
    EXPECT_EQ(in.integer(), v);
    EXPECT_TRUE(in.at_end());
  }
  // Non-minimal encodings are valid msgpack too.
  msgpack::Reader wide(bytes({0xCF, 0, 0, 0, 0, 0, 0, 0, 5}));
  EXPECT_EQ(wide.integer(), 5);
  msgpack::Reader too_big(bytes({0xCF, 0xFF, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_FALSE(too_big.integer().has_value());
}

TEST(MsgpackValues, StringHeaders) {
  std::string s31, s32, s256;
  msgpack::write_str(s31, std::string(31, 'a'));
  msgpack::write_str(s32, std::string(32, 'a'));
  msgpack::write_str(s256, std::string(256, 'a'));
  EXPECT_EQ(static_cast<unsigned char>(s31[0]), 0xBF);
  EXPECT_EQ(hex(s32.substr(0, 2)), "d9 20");
  EXPECT_EQ(hex(s256.substr(0, 3)), "da 01 00");
}

TEST(MsgpackValues, JsonRoundTrip) {
  json v = json::parse(R"({"round":42,"startedAt":1764000000000,"endedAt":1764000030000,
      "winners":["alice","bob"],"winningClicks":17,"totalClicks":123,"players":3,
      "neg":-5,"f":1.5,"t":true,"n":null,"nested":{"a":[1,[2,[3]]]}})");
  std::string b;
  msgpack::write_json(b, v);
  msgpack::Reader in(b);
  auto back = in.value(32);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, v);
  EXPECT_TRUE(in.at_end());
}

TEST(MsgpackValues, RoundResultBytesAreExact) {
  // The RoundResult of a round as the gateway sends it: a map in the JSON text's key order.
  json v = json::parse(R"({"round":7,"winners":["al"],"winningClicks":3})");
  std::string b;
  msgpack::write_json(b, v);
  // nlohmann orders object keys: round, winners, winningClicks.
  EXPECT_EQ(hex(b),
            "83 a5 72 6f 75 6e 64 07 a7 77 69 6e 6e 65 72 73 91 a2 61 6c ad 77 69 6e 6e 69 6e 67 "
            "43 6c 69 63 6b 73 03");
}

// ---- hub messages: bytes seen from the official JS client ----

TEST(MsgpackCodec, ParsesTheJsClientsInvoke) {
  // invoke("Add", 40, 2) as @microsoft/signalr-protocol-msgpack 10.0.11 writes it.
  std::string frame =
      bytes({0x0c, 0x95, 0x01, 0x80, 0xa1, 0x30, 0xa3, 0x41, 0x64, 0x64, 0x92, 0x28, 0x02});
  auto m = parse_msgpack_message(body_of(frame));
  ASSERT_TRUE(m.ok()) << m.error().message;
  InvocationMessage expected;
  expected.invocation_id = "0";
  expected.target = "Add";
  expected.arguments = json::array({40, 2});
  EXPECT_EQ(std::get<InvocationMessage>(*m), expected);
  EXPECT_EQ(hex(serialize_msgpack(*m)), hex(frame));
}

TEST(MsgpackCodec, ParsesTheJsClientsStopAndPing) {
  auto close = parse_msgpack_message(body_of(bytes({0x03, 0x92, 0x07, 0xc0})));
  ASSERT_TRUE(close.ok());
  EXPECT_EQ(std::get<CloseMessage>(*close), CloseMessage{});
  auto ping = parse_msgpack_message(body_of(std::string(kMsgpackPingFrame)));
  ASSERT_TRUE(ping.ok());
  EXPECT_TRUE(std::holds_alternative<PingMessage>(*ping));
  EXPECT_EQ(serialize_msgpack(PingMessage{}), std::string(kMsgpackPingFrame));
}

TEST(MsgpackCodec, SendWithNilIdAndSixElementInvocation) {
  // send("Click"): [1, {}, nil, "Click", []]
  auto send =
      parse_msgpack_message(bytes({0x95, 0x01, 0x80, 0xc0, 0xa5, 'C', 'l', 'i', 'c', 'k', 0x90}));
  ASSERT_TRUE(send.ok()) << send.error().message;
  EXPECT_FALSE(std::get<InvocationMessage>(*send).invocation_id.has_value());
  // [1, {}, "1", "Up", [], ["0"]]
  auto up = parse_msgpack_message(
      bytes({0x96, 0x01, 0x80, 0xa1, '1', 0xa2, 'U', 'p', 0x90, 0x91, 0xa1, '0'}));
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_EQ(std::get<InvocationMessage>(*up).stream_ids, std::vector<std::string>{"0"});
}

TEST(MsgpackCodec, ServerFramesAreExact) {
  std::string out;
  std::string result;
  msgpack::write_json(result, json::parse(R"({"clicks":2,"round":5})"));
  append_msgpack_completion_result(out, "7", result);
  EXPECT_EQ(hex(out), "16 95 03 80 a1 37 03 82 a6 63 6c 69 63 6b 73 02 a5 72 6f 75 6e 64 05");
  out.clear();
  append_msgpack_completion_error(out, "7", "nope");
  EXPECT_EQ(hex(out), "0b 95 03 80 a1 37 01 a4 6e 6f 70 65");
  out.clear();
  append_msgpack_invocation(out, "Go", bytes({0x01}));
  EXPECT_EQ(hex(out), "09 95 01 80 c0 a2 47 6f 91 01");
  out.clear();
  append_msgpack_close(out, std::nullopt, true);
  EXPECT_EQ(hex(out), "04 93 07 c0 c3");
  out.clear();
  append_msgpack_close(out, std::string_view("x"), false);
  EXPECT_EQ(hex(out), "05 93 07 a1 78 c2");
  EXPECT_EQ(hex(serialize_msgpack(AckMessage{5})), "03 92 08 05");
  EXPECT_EQ(hex(serialize_msgpack(SequenceMessage{300})), "05 92 09 cd 01 2c");
  // The general serializer writes the same bytes as the hot-path helpers.
  CompletionMessage c;
  c.invocation_id = "7";
  c.error = "nope";
  std::string general = serialize_msgpack(c);
  out.clear();
  append_msgpack_completion_error(out, "7", "nope");
  EXPECT_EQ(general, out);
}

TEST(MsgpackCodec, LongBodiesGetAMultiBytePrefix) {
  std::string out;
  append_msgpack_completion_error(out, "1", std::string(300, 'e'));
  auto p = read_varint(out);
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_EQ((*p)->prefix_bytes, 2u);
  EXPECT_EQ((*p)->body_size + 2, out.size());
  auto m = parse_msgpack_message(out.substr(2));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*std::get<CompletionMessage>(*m).error, std::string(300, 'e'));
}

TEST(MsgpackCodec, EveryMessageTypeRoundTrips) {
  InvocationMessage inv;
  inv.invocation_id = "12";
  inv.target = "Fire";
  inv.arguments = json::array({1, "two", json::object({{"k", nullptr}})});
  inv.stream_ids = {"3"};
  inv.headers = {{"h", "v"}};
  StreamItemMessage item;
  item.invocation_id = "3";
  item.item = json::array({1.25, false});
  CompletionMessage void_completion;
  void_completion.invocation_id = "4";
  CompletionMessage result;
  result.invocation_id = "5";
  result.result = nullptr;
  StreamInvocationMessage stream;
  stream.invocation_id = "6";
  stream.target = "Counter";
  stream.arguments = json::array({3});
  CancelInvocationMessage cancel;
  cancel.invocation_id = "6";
  CloseMessage close;
  close.error = "bye";
  close.allow_reconnect = true;
  for (const HubMessage& m :
       std::vector<HubMessage>{inv, item, void_completion, result, stream, cancel, PingMessage{},
                               close, AckMessage{1}, SequenceMessage{1ull << 40}}) {
    std::string frame = serialize_msgpack(m);
    auto back = parse_msgpack_message(body_of(frame));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_TRUE(*back == m) << hex(frame);
  }
}

TEST(MsgpackCodec, UnknownTypeIsIgnoredAndTrailingElementsAccepted) {
  auto unknown = parse_msgpack_message(bytes({0x92, 0x0a, 0xc0}));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(std::get<UnknownMessage>(*unknown).type, 10);
  auto ping = parse_msgpack_message(bytes({0x93, 0x06, 0x01, 0x02}));
  ASSERT_TRUE(ping.ok());
  EXPECT_TRUE(std::holds_alternative<PingMessage>(*ping));
}

// ---- malformed input: every row is an Error with a short text, never a crash ----

TEST(MsgpackCodec, MalformedMessages) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += '\x91';
  deep += '\x00';
  const std::vector<std::pair<const char*, std::string>> rows = {
      {"empty", ""},
      {"not an array", bytes({0x06})},
      {"empty array", bytes({0x90})},
      {"type is a string", bytes({0x91, 0xa1, '1'})},
      {"type 1 with 4 elements", bytes({0x94, 0x01, 0x80, 0xc0, 0xa1, 'x'})},
      {"headers not a map", bytes({0x95, 0x01, 0x90, 0xc0, 0xa1, 'x', 0x90})},
      {"header value int", bytes({0x95, 0x01, 0x81, 0xa1, 'k', 0x01, 0xc0, 0xa1, 'x', 0x90})},
      {"target int", bytes({0x95, 0x01, 0x80, 0xc0, 0x05, 0x90})},
      {"target empty", bytes({0x95, 0x01, 0x80, 0xc0, 0xa0, 0x90})},
      {"id empty", bytes({0x95, 0x01, 0x80, 0xa0, 0xa1, 'x', 0x90})},
      {"id int", bytes({0x95, 0x01, 0x80, 0x01, 0xa1, 'x', 0x90})},
      {"arguments a map", bytes({0x95, 0x01, 0x80, 0xc0, 0xa1, 'x', 0x80})},
      {"stream ids not strings", bytes({0x96, 0x01, 0x80, 0xc0, 0xa1, 'x', 0x90, 0x91, 0x01})},
      {"stream invocation nil id", bytes({0x95, 0x04, 0x80, 0xc0, 0xa1, 'x', 0x90})},
      {"completion kind 4", bytes({0x95, 0x03, 0x80, 0xa1, '1', 0x04, 0xc0})},
      {"completion kind 3 no result", bytes({0x94, 0x03, 0x80, 0xa1, '1', 0x03})},
      {"completion error int", bytes({0x95, 0x03, 0x80, 0xa1, '1', 0x01, 0x01})},
      {"stream item short", bytes({0x93, 0x02, 0x80, 0xa1, '1'})},
      {"cancel short", bytes({0x92, 0x05, 0x80})},
      {"close short", bytes({0x91, 0x07})},
      {"close allowReconnect int", bytes({0x93, 0x07, 0xc0, 0x01})},
      {"ack negative", bytes({0x92, 0x08, 0xff})},
      {"sequence string", bytes({0x92, 0x09, 0xa1, '1'})},
      {"ack short", bytes({0x91, 0x08})},
      {"array32 longer than input", bytes({0xdd, 0xff, 0xff, 0xff, 0xff, 0x06})},
      {"map32 longer than input", bytes({0x95, 0x01, 0xdf, 0x7f, 0xff, 0xff, 0xff})},
      {"str8 longer than input", bytes({0x95, 0x01, 0x80, 0xc0, 0xd9, 0x20, 'x'})},
      {"bin32 longer than input",
       bytes({0x95, 0x01, 0x80, 0xc0, 0xa1, 'x', 0x91, 0xc6, 0x7f, 0xff, 0xff, 0xff})},
      {"invalid utf-8 target", bytes({0x95, 0x01, 0x80, 0xc0, 0xa2, 0xc3, 0x28, 0x90})},
      {"map key int", bytes({0x95, 0x01, 0x80, 0xc0, 0xa1, 'x', 0x91, 0x81, 0x01, 0x02})},
      {"never-used byte c1", bytes({0x95, 0x01, 0x80, 0xc0, 0xa1, 'x', 0x91, 0xc1})},
      {"nested 40 deep", bytes({0x95, 0x01, 0x80, 0xc0, 0xa1, 'x'}) + deep},
  };
  for (const auto& [name, body] : rows) {
    Result<HubMessage> r = Error{};
    ASSERT_NO_THROW(r = parse_msgpack_message(body)) << name;
    EXPECT_FALSE(r.ok()) << name;
    if (!r.ok()) {
      EXPECT_FALSE(r.error().message.empty()) << name;
      EXPECT_LT(r.error().message.size(), 80u) << name;
    }
  }
}

TEST(MsgpackCodec, EveryTruncationOfAValidMessageFails) {
  InvocationMessage inv;
  inv.invocation_id = "123";
  inv.target = "Click";
  inv.arguments = json::array({json::object({{"a", "bb"}}), 1.5, -300});
  std::string body = body_of(serialize_msgpack(inv));
  for (std::size_t n = 0; n < body.size(); ++n) {
    EXPECT_FALSE(parse_msgpack_message(body.substr(0, n)).ok()) << n;
  }
  EXPECT_TRUE(parse_msgpack_message(body).ok());
}

// ---- the Click fast path agrees with the full parser ----

TEST(MsgpackFastClick, AgreesWithTheFullParser) {
  const std::vector<std::string> rows = {
      bytes({0x95, 0x01, 0x80, 0xa1, '0', 0xa5, 'C', 'l', 'i', 'c', 'k', 0x90}),
      bytes({0x95, 0x01, 0x80, 0xc0, 0xa5, 'c', 'L', 'I', 'C', 'K', 0x90}),
      bytes({0x96, 0x01, 0x80, 0xa2, '1', '2', 0xa5, 'C', 'l', 'i', 'c', 'k', 0x90, 0x90}),
      // Not taken by the fast path (the full parser decides):
      bytes({0x95, 0x01, 0x81, 0xa1, 'k', 0xa1, 'v', 0xa1, '0', 0xa5, 'C', 'l', 'i', 'c', 'k',
             0x90}),                                                                    // headers
      bytes({0x95, 0x01, 0x80, 0xa1, '0', 0xa5, 'C', 'l', 'i', 'c', 'k', 0x91, 0x01}),  // args
      bytes({0x96, 0x01, 0x80, 0xa1, '0', 0xa5, 'C', 'l', 'i', 'c', 'k', 0x90, 0x91, 0xa1,
             '0'}),                                                               // streams
      bytes({0x95, 0x01, 0x80, 0xa1, '0', 0xa5, 'C', 'l', 'i', 'c', 'x', 0x90}),  // target
      bytes({0x95, 0x04, 0x80, 0xa1, '0', 0xa5, 'C', 'l', 'i', 'c', 'k', 0x90}),  // stream inv
      bytes({0x95, 0x01, 0x80, 0xa1, '0', 0xa5, 'C', 'l', 'i', 'c', 'k', 0x90, 0x00}),  // tail
      bytes({0x95, 0x01, 0x80, 0xa1, 0x01, 0xa5, 'C', 'l', 'i', 'c', 'k', 0x90}),       // id \x01
      bytes({0x95, 0x01, 0x80, 0xa0, 0xa5, 'C', 'l', 'i', 'c', 'k', 0x90}),             // id ""
  };
  int fast_hits = 0;
  for (const auto& body : rows) {
    std::optional<std::string> id;
    if (!parse_msgpack_fast_click(body, id)) continue;
    ++fast_hits;
    auto full = parse_msgpack_message(body);
    ASSERT_TRUE(full.ok()) << hex(body);
    const auto& inv = std::get<InvocationMessage>(*full);
    EXPECT_EQ(inv.invocation_id, id) << hex(body);
    EXPECT_TRUE(inv.arguments.empty());
    EXPECT_TRUE(inv.stream_ids.empty());
    EXPECT_TRUE(inv.headers.empty());
  }
  EXPECT_EQ(fast_hits, 3);
}

}  // namespace
}  // namespace clickrace::signalr
