// The server side of RFC 6455 framing, bytes in / events out: whole buffers, every split point,
// fragmentation, control frames, limits and violations.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "ws_frames.hpp"

namespace clickrace::gateway::ws {
namespace {

// A masked client frame, as a browser sends it.
std::string client_frame(std::uint8_t op, const std::string& payload, bool fin = true,
                         std::uint32_t key = 0x37fa213d, int force_len_bytes = 0) {
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | op));
  const std::size_t n = payload.size();
  if ((n < 126 && force_len_bytes == 0) || force_len_bytes == 1) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if ((n <= 0xFFFF && force_len_bytes == 0) || force_len_bytes == 2) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xFF));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int s = 56; s >= 0; s -= 8) f.push_back(static_cast<char>((std::uint64_t(n) >> s) & 0xFF));
  }
  unsigned char k[4] = {static_cast<unsigned char>(key >> 24),
                        static_cast<unsigned char>(key >> 16), static_cast<unsigned char>(key >> 8),
                        static_cast<unsigned char>(key)};
  f.append(reinterpret_cast<char*>(k), 4);
  for (std::size_t i = 0; i < n; ++i) f.push_back(static_cast<char>(payload[i] ^ k[i & 3]));
  return f;
}

std::string close_payload(std::uint16_t code, const std::string& reason = "") {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  return p + reason;
}

// Events as comparable text.
std::string describe(const Event& e) {
  switch (e.kind) {
    case Event::Kind::message:
      return std::string(e.text ? "text:" : "binary:") + std::string(e.payload);
    case Event::Kind::ping:
      return "ping:" + std::string(e.payload);
    case Event::Kind::pong:
      return "pong:" + std::string(e.payload);
    case Event::Kind::close:
      return "close:" + std::to_string(e.code) + ":" + std::string(e.payload);
    case Event::Kind::fail:
      return "fail:" + std::to_string(e.code);
  }
  return "?";
}

// Feeds `bytes` in pieces of the given sizes (the rest in one piece).
std::vector<std::string> feed(const std::string& bytes, std::vector<std::size_t> pieces = {},
                              std::size_t limit = 32 * 1024) {
  FrameReader r(limit);
  std::vector<std::string> out;
  std::size_t at = 0;
  auto give = [&](std::size_t n) {
    std::string chunk = bytes.substr(at, n);  // the reader writes into its input
    r.feed(chunk.data(), chunk.size(), [&](const Event& e) { out.push_back(describe(e)); });
    at += n;
  };
  for (std::size_t p : pieces) give(std::min(p, bytes.size() - at));
  if (at < bytes.size()) give(bytes.size() - at);
  return out;
}

TEST(WsFrames, ManyFramesInOneBufferComeOutInOrder) {
  std::string all;
  std::vector<std::string> want;
  for (int i = 0; i < 50; ++i) {
    std::string rec =
        R"({"type":1,"invocationId":")" + std::to_string(i) + R"(","target":"Click"})";
    all += client_frame(i % 2 ? 0x1 : 0x2, rec, true, 0x01020304u * (i + 1));
    want.push_back(std::string(i % 2 ? "text:" : "binary:") + rec);
  }
  EXPECT_EQ(feed(all), want);
}

TEST(WsFrames, EverySplitPointGivesTheSameEvents) {
  const std::string bytes = client_frame(0x1, "hello") + client_frame(0x9, "pi") +
                            client_frame(0x1, std::string(300, 'x')) +
                            client_frame(0x2, std::string(70000 % 32768, 'y')) +
                            client_frame(0x8, close_payload(1000, "bye"));
  const auto whole = feed(bytes);
  ASSERT_EQ(whole.size(), 5u);
  EXPECT_EQ(whole.back(), "close:1000:bye");
  for (std::size_t cut = 1; cut < bytes.size(); cut += 7) {
    EXPECT_EQ(feed(bytes, {cut}), whole) << "cut at " << cut;
  }
  std::vector<std::size_t> ones(bytes.size(), 1);
  EXPECT_EQ(feed(bytes, ones), whole);
}

TEST(WsFrames, RandomSplitsAndKeysRoundTrip) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string payload(rng() % 2000, '\0');
    for (auto& c : payload) c = static_cast<char>('a' + rng() % 26);
    std::string bytes = client_frame(0x1, payload, true, rng());
    std::vector<std::size_t> pieces;
    for (std::size_t left = bytes.size(); left > 0;) {
      std::size_t n = 1 + rng() % std::min<std::size_t>(left, 97);
      pieces.push_back(n);
      left -= n;
    }
    EXPECT_EQ(feed(bytes, pieces), std::vector<std::string>{"text:" + payload});
  }
}

TEST(WsFrames, LengthEncodings) {
  EXPECT_EQ(feed(client_frame(0x1, std::string(200, 'a'))),
            std::vector<std::string>{"text:" + std::string(200, 'a')});
  // The 64-bit form (a reader with a limit above 64 KB).
  const std::string big(70000, 'b');
  EXPECT_TRUE(feed(client_frame(0x1, big), {}, 100000) == std::vector<std::string>{"text:" + big});
  // Lengths not in their shortest form are refused (RFC 6455 §5.2; websocketpp too).
  EXPECT_EQ(feed(client_frame(0x1, "five!", true, 9, 2)), std::vector<std::string>{"fail:1002"});
  EXPECT_EQ(feed(client_frame(0x1, std::string(20000, 'b'), true, 1, 8)),
            std::vector<std::string>{"fail:1002"});
  // A 64-bit length with the top bit set.
  std::string huge("\x81\xff\x80\x00\x00\x00\x00\x00\x00\x01", 10);
  EXPECT_EQ(feed(huge), std::vector<std::string>{"fail:1002"});
}

TEST(WsFrames, FragmentsWithAPingBetweenThem) {
  std::string bytes = client_frame(0x1, "{\"type\":", false) + client_frame(0x9, "mid") +
                      client_frame(0x0, "6", false) + client_frame(0x0, "}\x1e", true) +
                      client_frame(0x2, "b1", false) + client_frame(0x0, "b2", true);
  EXPECT_EQ(feed(bytes),
            (std::vector<std::string>{"ping:mid", "text:{\"type\":6}\x1e", "binary:b1b2"}));
  std::vector<std::size_t> ones(bytes.size(), 1);
  EXPECT_EQ(feed(bytes, ones).size(), 3u);
}

TEST(WsFrames, ViolationsFailWithTheirCodes) {
  auto first = [](const std::string& bytes) { return feed(bytes).at(0); };
  std::string unmasked = "\x81\x02hi";
  EXPECT_EQ(first(unmasked), "fail:1002");
  EXPECT_EQ(first(client_frame(0x3, "")), "fail:1002");         // reserved opcode
  EXPECT_EQ(first("\xc1\x80\x00\x00\x00\x00"), "fail:1002");    // RSV1
  EXPECT_EQ(first(client_frame(0x0, "x")), "fail:1002");        // continuation, no start
  EXPECT_EQ(first(client_frame(0x9, "", false)), "fail:1002");  // fragmented ping
  EXPECT_EQ(first(client_frame(0x9, std::string(126, 'p'))), "fail:1002");
  EXPECT_EQ(first(client_frame(0x1, "a", false) + client_frame(0x1, "b")), "fail:1002");
  EXPECT_EQ(first(client_frame(0x8, "x")), "fail:1002");  // 1-byte close
  EXPECT_EQ(first(client_frame(0x8, close_payload(999))), "fail:1002");
  EXPECT_EQ(first(client_frame(0x8, close_payload(1005))), "fail:1002");
  EXPECT_EQ(first(client_frame(0x8, close_payload(2000))), "fail:1002");
  EXPECT_EQ(first(client_frame(0x8, close_payload(1000, "\xff"))), "fail:1007");
  EXPECT_EQ(first(client_frame(0x1, "Cl\xff\xfeick")), "fail:1007");
  EXPECT_EQ(first(client_frame(0x1, "\xe2\x82", false) + client_frame(0x0, "\xac")),
            "text:\xe2\x82\xac");  // a code point split over fragments is fine
  EXPECT_EQ(first(client_frame(0x2, "\xff\xfe")), "binary:\xff\xfe");  // binary is not checked
  EXPECT_EQ(first(client_frame(0x8, "")), "close:0:");
  EXPECT_EQ(first(client_frame(0x8, close_payload(4000, "ok"))), "close:4000:ok");
}

TEST(WsFrames, TooBigIsRefusedFromTheHeaderAndHoldsLittle) {
  FrameReader r(32 * 1024);
  std::string head = client_frame(0x1, std::string(1 << 20, 'x')).substr(0, 14);
  std::vector<std::string> out;
  r.feed(head.data(), head.size(), [&](const Event& e) { out.push_back(describe(e)); });
  EXPECT_EQ(out, std::vector<std::string>{"fail:1009"});
  EXPECT_EQ(r.held(), 0u);
  // Fragments adding up past the limit.
  std::string parts;
  for (int i = 0; i < 6; ++i) parts += client_frame(i ? 0x0 : 0x1, std::string(10240, 'x'), false);
  EXPECT_EQ(feed(parts).back(), "fail:1009");
  // Exactly the limit is fine.
  EXPECT_EQ(feed(client_frame(0x2, std::string(32 * 1024, 'z'))).size(), 1u);
}

TEST(WsFrames, NothingAfterCloseOrFail) {
  EXPECT_EQ(feed(client_frame(0x8, close_payload(1000)) + client_frame(0x1, "late")),
            std::vector<std::string>{"close:1000:"});
  EXPECT_EQ(feed(std::string("\x81\x01x") + client_frame(0x1, "late")),
            std::vector<std::string>{"fail:1002"});
}

TEST(WsFrames, ServerHeadersAndCloseFrames) {
  EXPECT_EQ(frame_header(Opcode::text, 5), std::string("\x81\x05", 2));
  EXPECT_EQ(frame_header(Opcode::binary, 126), std::string("\x82\x7e\x00\x7e", 4));
  EXPECT_EQ(frame_header(Opcode::text, 70000), std::string("\x81\x7f\0\0\0\0\0\x01\x11\x70", 10));
  EXPECT_EQ(close_frame(1000, "bye"), std::string("\x88\x05\x03\xe8"
                                                  "bye",
                                                  7));
  EXPECT_EQ(close_frame(0, "ignored"), std::string("\x88\x00", 2));
  EXPECT_EQ(close_frame(1002, std::string(200, 'r')).size(), 2u + 125u);
}

}  // namespace
}  // namespace clickrace::gateway::ws
