#include "msgpack_cases.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "clickrace/signalr/binary_framing.hpp"
#include "clickrace/signalr/msgpack_codec.hpp"
#include "ws_client.hpp"

namespace clickrace::test {
namespace {

using namespace std::chrono_literals;
using signalr::CloseMessage;
using signalr::CompletionMessage;
using signalr::HubMessage;

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

std::string frame(const std::string& body) {
  std::string out;
  signalr::append_binary_frame(out, body);
  return out;
}

// [1, {}, id, target, args]
std::string invocation(const std::string& id, const std::string& target,
                       const std::string& args = "\x90") {
  std::string body = bytes({0x95, 0x01, 0x80});
  body += static_cast<char>(0xA0 | id.size()) + id;
  body += static_cast<char>(0xA0 | target.size()) + target;
  return frame(body + args);
}

// A raw WebSocket after a messagepack handshake; messages decoded with the shared codec.
struct MsgpackConn {
  WsClient ws;
  signalr::BinaryFrameReader reader{1 << 20};
  std::vector<HubMessage> queued;

  bool open(int port, const std::string& token) {
    if (ws.connect(port, "/hub", {{"Authorization", "Bearer " + token}}) != 101) return false;
    ws.send_text(std::string(R"({"protocol":"messagepack","version":1})") + "\x1e");
    auto f = ws.recv(3s);
    return f && f->payload == std::string("{}\x1e");
  }
  // The next hub message other than Ping.
  std::optional<HubMessage> next(std::chrono::milliseconds timeout = 3s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (queued.empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return std::nullopt;
      auto f = ws.recv(left);
      if (!f) return std::nullopt;
      if (f->opcode != 2) {
        ADD_FAILURE() << "a non-binary frame after a messagepack handshake: " << f->opcode;
        continue;
      }
      auto bodies = reader.feed(f->payload);
      if (!bodies) return std::nullopt;
      for (const auto& b : *bodies) {
        auto m = signalr::parse_msgpack_message(b);
        EXPECT_TRUE(m.ok()) << "the gateway sent an invalid message";
        if (m && !std::holds_alternative<signalr::PingMessage>(*m)) queued.push_back(*m);
      }
    }
    HubMessage m = queued.front();
    queued.erase(queued.begin());
    return m;
  }
  std::optional<CompletionMessage> completion(const std::string& id) {
    while (auto m = next()) {
      if (auto* c = std::get_if<CompletionMessage>(&*m); c && c->invocation_id == id) return *c;
    }
    return std::nullopt;
  }
};

// Unparseable input: Close with an error and allowReconnect (as for JSON), then the socket closes.
void expect_error_close(MsgpackConn& c, const std::string& detail = "") {
  std::optional<CloseMessage> close;
  while (auto m = c.next()) {
    if (auto* cl = std::get_if<CloseMessage>(&*m)) {
      close = *cl;
      break;
    }
  }
  ASSERT_TRUE(close) << "no Close message";
  ASSERT_TRUE(close->error);
  EXPECT_EQ(close->error->rfind("Connection closed with an error.", 0), 0u) << *close->error;
  if (!detail.empty()) {
    EXPECT_NE(close->error->find(detail), std::string::npos) << *close->error;
  }
  EXPECT_TRUE(close->allow_reconnect);
  EXPECT_TRUE(c.ws.wait_closed(3s));
}

void expect_error(MsgpackConn& c, const std::string& id, const std::string& text) {
  auto r = c.completion(id);
  ASSERT_TRUE(r) << "no completion for " << id;
  EXPECT_EQ(r->error.value_or(""), text);
}

void expect_alive(MsgpackConn& c) {
  c.ws.send_binary(invocation("alive", "GetRound"));
  auto r = c.completion("alive");
  ASSERT_TRUE(r) << "no answer on a connection that should still be open";
  EXPECT_TRUE(r->result.has_value() && r->result->is_object());
}

MsgpackCase closes(std::string name, std::string payload, std::string detail = "") {
  return {std::move(name), [=](int port, const std::string& token) {
            MsgpackConn c;
            ASSERT_TRUE(c.open(port, token));
            c.ws.send_binary(payload);
            expect_error_close(c, detail);
          }};
}

}  // namespace

std::vector<MsgpackCase> msgpack_hub_cases() {
  std::vector<MsgpackCase> t;
  std::string deep(100, '\x91');
  t.push_back(closes("not an array", frame(bytes({0x06})), "InvalidDataException"));
  t.push_back(closes("empty message (length 0)", frame(""), "InvalidDataException"));
  t.push_back(closes("type is a string", frame(bytes({0x91, 0xa1, '1'}))));
  t.push_back(closes("invocation with 3 elements", frame(bytes({0x93, 0x01, 0x80, 0xc0}))));
  t.push_back(
      closes("headers are an array", frame(bytes({0x95, 0x01, 0x90, 0xc0, 0xa1, 'x', 0x90}))));
  t.push_back(closes("target is an integer", frame(bytes({0x95, 0x01, 0x80, 0xc0, 0x05, 0x90}))));
  t.push_back(closes("invalid UTF-8 in the target",
                     frame(bytes({0x95, 0x01, 0x80, 0xc0, 0xa2, 0xc3, 0x28, 0x90}))));
  t.push_back(closes("array32 announcing 4 G elements",
                     frame(bytes({0xdd, 0xff, 0xff, 0xff, 0xff, 0x01}))));
  t.push_back(closes("100 levels of nesting",
                     frame(bytes({0x95, 0x01, 0x80, 0xc0, 0xa1, 'x'}) + deep + bytes({0x90}))));
  t.push_back(closes("the never-used byte c1", frame(bytes({0xc1}))));
  t.push_back(closes("length prefix of 6 bytes", bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x01}),
                     "length prefix"));
  t.push_back(
      closes("a frame announcing 1 MB (limit 32 KB)", bytes({0x80, 0x80, 0x40}), "too large"));
  t.push_back({"unknown method gets the .NET error", [](int port, const std::string& token) {
                 MsgpackConn c;
                 ASSERT_TRUE(c.open(port, token));
                 c.ws.send_binary(invocation("1", "Nope"));
                 expect_error(c, "1", "Unknown hub method 'Nope'");
                 expect_alive(c);
               }});
  t.push_back({"Click with an argument", [](int port, const std::string& token) {
                 MsgpackConn c;
                 ASSERT_TRUE(c.open(port, token));
                 c.ws.send_binary(invocation("2", "Click", bytes({0x91, 0x2a})));
                 expect_error(c, "2", "Failed to invoke 'Click' due to an error on the server.");
                 expect_alive(c);
               }});
  t.push_back(
      {"a send of an unknown method is not answered", [](int port, const std::string& token) {
         MsgpackConn c;
         ASSERT_TRUE(c.open(port, token));
         c.ws.send_binary(frame(bytes({0x95, 0x01, 0x80, 0xc0, 0xa4, 'N', 'o', 'p', 'e', 0x90})));
         expect_alive(c);  // the next message is GetRound's answer, nothing before it
       }});
  t.push_back({"unknown message type 99 is ignored", [](int port, const std::string& token) {
                 MsgpackConn c;
                 ASSERT_TRUE(c.open(port, token));
                 c.ws.send_binary(frame(bytes({0x92, 0x63, 0xc0})));
                 expect_alive(c);
               }});
  t.push_back(
      {"a frame split over three WebSocket messages", [](int port, const std::string& token) {
         MsgpackConn c;
         ASSERT_TRUE(c.open(port, token));
         // GetRound, not Click: the suite's player clicks in many rows, and a Click here could
         // meet the player's fleet-wide click rate (an error answer, not a framing fault).
         std::string f = invocation("split", "GetRound");
         c.ws.send_binary(f.substr(0, 1));
         c.ws.send_binary(f.substr(1, 4));
         c.ws.send_binary(f.substr(5));
         auto r = c.completion("split");
         ASSERT_TRUE(r) << "the split invocation was not answered";
         ASSERT_TRUE(r->result) << "the split invocation got an error: " << r->error.value_or("");
         EXPECT_TRUE(r->result->is_object());
       }});
  t.push_back(
      {"a JSON record after a messagepack handshake", [](int port, const std::string& token) {
         MsgpackConn c;
         ASSERT_TRUE(c.open(port, token));
         // '{' reads as a 123-byte frame; the rest of the JSON and padding complete it.
         c.ws.send_text(std::string(R"({"type":1,"target":"Click","arguments":[]})") + "\x1e" +
                        std::string(100, ' '));
         expect_error_close(c);
       }});
  return t;
}

}  // namespace clickrace::test
