// The protocol seam: both HubProtocols write the same values (read back with their own codec),
// split input the same way (whole, byte at a time), and the handshake record is split off from the
// MessagePack bytes that follow it in the same WebSocket message.
#include "hub_protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "clickrace/signalr/binary_framing.hpp"
#include "clickrace/signalr/json_codec.hpp"
#include "clickrace/signalr/msgpack_codec.hpp"

namespace clickrace::gateway {
namespace {

using nlohmann::json;
using signalr::HubMessage;

// Every message in `bytes` (as the protocol frames them), parsed by the protocol.
std::vector<HubMessage> read_all(const HubProtocol& p, const std::string& bytes) {
  InboundReader reader = p.make_reader(1 << 20);
  std::vector<HubMessage> out;
  auto each = [&](std::string_view body) {
    auto m = p.parse(body);
    EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message);
    if (m) out.push_back(*m);
    return true;
  };
  EXPECT_TRUE(p.for_each_message(reader, bytes, each).ok());
  return out;
}

class BothProtocols : public ::testing::TestWithParam<const HubProtocol*> {};

TEST_P(BothProtocols, CompletionsCarryTheSameValues) {
  const HubProtocol& p = *GetParam();
  std::string out;
  p.click_completion(out, "7", ClickAck{42, 1764000000123});
  p.completion_result(out, "8",
                      R"({"round":3,"top":[{"name":"al","clicks":5}],"serverTime":1764000000000})");
  p.completion_error(out, "9", "rate limit exceeded");
  auto msgs = read_all(p, out);
  ASSERT_EQ(msgs.size(), 3u);
  const auto& click = std::get<signalr::CompletionMessage>(msgs[0]);
  EXPECT_EQ(click.invocation_id, "7");
  EXPECT_EQ(*click.result, json::parse(R"({"round":42,"clicks":1764000000123})"));
  const auto& round = std::get<signalr::CompletionMessage>(msgs[1]);
  EXPECT_EQ(
      *round.result,
      json::parse(R"({"round":3,"top":[{"name":"al","clicks":5}],"serverTime":1764000000000})"));
  EXPECT_EQ(std::get<signalr::CompletionMessage>(msgs[2]).error, "rate limit exceeded");
}

TEST_P(BothProtocols, EventsPingCloseAckSequence) {
  const HubProtocol& p = *GetParam();
  std::string out;
  p.event(out, "RoundEnded", R"({"round":5,"winners":["a","b"],"winningClicks":0})");
  out.append(p.ping());
  p.close(out, std::string_view("bye"), true);
  p.ack(out, 12);
  p.sequence(out, 13);
  auto msgs = read_all(p, out);
  ASSERT_EQ(msgs.size(), 5u);
  const auto& ev = std::get<signalr::InvocationMessage>(msgs[0]);
  EXPECT_FALSE(ev.invocation_id);
  EXPECT_EQ(ev.target, "RoundEnded");
  EXPECT_EQ(ev.arguments,
            json::array({json::parse(R"({"round":5,"winners":["a","b"],"winningClicks":0})")}));
  EXPECT_TRUE(std::holds_alternative<signalr::PingMessage>(msgs[1]));
  signalr::CloseMessage close;
  close.error = "bye";
  close.allow_reconnect = true;
  EXPECT_EQ(std::get<signalr::CloseMessage>(msgs[2]), close);
  EXPECT_EQ(std::get<signalr::AckMessage>(msgs[3]).sequence_id, 12u);
  EXPECT_EQ(std::get<signalr::SequenceMessage>(msgs[4]).sequence_id, 13u);
}

TEST_P(BothProtocols, ByteAtATimeYieldsTheSameMessagesAndFastClicks) {
  const HubProtocol& p = *GetParam();
  // What a client sends: three Clicks (one a send) as this protocol frames them.
  std::string in;
  if (p.binary()) {
    for (auto id : {"1", "2"}) {
      signalr::InvocationMessage m;
      m.invocation_id = id;
      m.target = "Click";
      signalr::serialize_msgpack_to(in, m);
    }
    signalr::InvocationMessage send;
    send.target = "click";
    signalr::serialize_msgpack_to(in, send);
  } else {
    in = std::string(R"({"type":1,"target":"Click","arguments":[],"invocationId":"1"})") + "\x1e" +
         R"({"target":"Click","arguments":[],"invocationId":"2","type":1})" + "\x1e" +
         R"({"type":1,"target":"click","arguments":[]})" + "\x1e";
  }
  InboundReader reader = p.make_reader(1024);
  std::vector<std::optional<std::string>> ids;
  auto each = [&](std::string_view body) {
    auto click = p.fast_click(body);
    EXPECT_TRUE(click.has_value());
    if (click) ids.push_back(click->invocation_id);
    return true;
  };
  for (char ch : in) ASSERT_TRUE(p.for_each_message(reader, std::string_view(&ch, 1), each).ok());
  EXPECT_EQ(ids, (std::vector<std::optional<std::string>>{"1", "2", std::nullopt}));
}

TEST_P(BothProtocols, OverLimitInputIsAFramingError) {
  const HubProtocol& p = *GetParam();
  InboundReader reader = p.make_reader(16);
  auto each = [](std::string_view) { return true; };
  std::string big =
      p.binary() ? std::string("\x40", 1) + std::string(64, 'x') : std::string(64, 'x');
  EXPECT_FALSE(p.for_each_message(reader, big, each).ok());
}

INSTANTIATE_TEST_SUITE_P(Seam, BothProtocols,
                         ::testing::Values(&json_protocol(), &messagepack_protocol()),
                         [](const auto& info) { return std::string(info.param->name()); });

TEST(HubProtocol, ChosenByTheHandshake) {
  EXPECT_EQ(&protocol_for(signalr::Protocol::json), &json_protocol());
  EXPECT_EQ(&protocol_for(signalr::Protocol::messagepack), &messagepack_protocol());
  EXPECT_FALSE(json_protocol().binary());
  EXPECT_TRUE(messagepack_protocol().binary());
}

TEST(HubProtocol, HandshakeIsSplitFromTheMessagePackBytesAfterIt) {
  std::string payload = std::string(R"({"protocol":"messagepack","version":1})") + "\x1e" +
                        std::string(signalr::kMsgpackPingFrame);
  InboundReader reader = signalr::RecordReader(1024);
  auto got = read_handshake(reader, payload);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->record, R"({"protocol":"messagepack","version":1})");
  EXPECT_EQ(payload.substr((*got)->used), std::string(signalr::kMsgpackPingFrame));
  // Split across messages: nothing until the separator, then only the record is used.
  InboundReader split = signalr::RecordReader(1024);
  auto first = read_handshake(split, payload.substr(0, 10));
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->has_value());
  auto second = read_handshake(split, payload.substr(10));
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ(payload.substr(10 + (*second)->used), std::string(signalr::kMsgpackPingFrame));
}

}  // namespace
}  // namespace clickrace::gateway
