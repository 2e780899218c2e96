// The load generator's pure pieces: client frames, server frame decoding byte by byte, record
// scanning and the histogram. The bench numbers are only as good as these.
#include <gtest/gtest.h>

#include <string>

#include "histogram.hpp"
#include "records.hpp"
#include "ws_codec.hpp"

using namespace clickrace::bench;

namespace {

std::string server_frame(Opcode op, const std::string& payload, bool fin = true) {
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | static_cast<int>(op)));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    f.push_back(126);
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    f.push_back(127);
    for (int s = 56; s >= 0; s -= 8) f.push_back(static_cast<char>((payload.size() >> s) & 0xFF));
  }
  return f + payload;
}

std::string unmask(const std::string& frame, std::size_t header) {
  std::string out = frame.substr(header + 4);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] ^= frame[header + (i & 3)];
  return out;
}

}  // namespace

TEST(ClientFrame, SmallMediumAndLargePayloadsAreMaskedWithTheRightLength) {
  for (std::size_t n : {0u, 5u, 125u, 126u, 65535u, 65536u}) {
    std::string payload(n, 'x');
    std::string out;
    append_client_frame(out, Opcode::text, payload, 0xA1B2C3D4u);
    std::size_t header = n < 126 ? 2 : n <= 0xFFFF ? 4 : 10;
    ASSERT_EQ(out.size(), header + 4 + n) << n;
    EXPECT_EQ(static_cast<unsigned char>(out[0]), 0x81);
    EXPECT_TRUE(static_cast<unsigned char>(out[1]) & 0x80) << "mask bit";
    EXPECT_EQ(unmask(out, header), payload);
  }
}

TEST(ServerFrame, DecodesOneByteAtATime) {
  const std::string payload = std::string(300, 'a') + "\x1e";
  const std::string wire = server_frame(Opcode::text, payload) + server_frame(Opcode::ping, "hi");
  std::string buf;
  std::vector<std::string> got;
  for (char c : wire) {
    buf.push_back(c);
    ServerFrame f;
    std::size_t used = 0;
    const char* err = nullptr;
    DecodeStatus st = decode_server_frame(buf, 1 << 20, f, used, err);
    ASSERT_NE(st, DecodeStatus::error) << err;
    if (st == DecodeStatus::frame) {
      got.emplace_back(f.payload);
      buf.erase(0, used);
    }
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], payload);
  EXPECT_EQ(got[1], "hi");
  EXPECT_TRUE(buf.empty());
}

TEST(ServerFrame, RejectsMaskedReservedOversizedAndFragmentedControl) {
  ServerFrame f;
  std::size_t used = 0;
  const char* err = nullptr;
  std::string masked = "\x81\x81\x00\x00\x00\x00x";
  EXPECT_EQ(decode_server_frame(masked, 100, f, used, err), DecodeStatus::error);
  std::string rsv = "\xC1\x01x";
  EXPECT_EQ(decode_server_frame(rsv, 100, f, used, err), DecodeStatus::error);
  EXPECT_EQ(
      decode_server_frame(server_frame(Opcode::text, std::string(200, 'x')), 100, f, used, err),
      DecodeStatus::error);
  EXPECT_EQ(decode_server_frame(server_frame(Opcode::ping, "x", false), 100, f, used, err),
            DecodeStatus::error);
  EXPECT_EQ(decode_server_frame(std::string("\x81"), 100, f, used, err), DecodeStatus::need_more);
}

TEST(Records, ScansCompletionsEventsAndTheHandshakeInAnyKeyOrder) {
  auto c = scan_record(R"({"type":3,"invocationId":"42","result":{"round":7,"clicks":3}})");
  EXPECT_EQ(c.type, 3);
  EXPECT_EQ(c.invocation_id, "42");
  EXPECT_FALSE(c.has_error);
  auto e = scan_record(R"({"invocationId":"5","error":"rate limit","type":3})");
  EXPECT_EQ(e.type, 3);
  EXPECT_EQ(e.invocation_id, "5");
  EXPECT_TRUE(e.has_error);
  auto ev =
      R"({"type":1,"target":"RoundEnded","arguments":[{"round":9,"endedAt":1700000000123,"winners":["type"]}]})";
  EXPECT_EQ(scan_record(ev).target, "RoundEnded");
  EXPECT_EQ(find_int(ev, "endedAt"), 1700000000123);
  EXPECT_EQ(find_int(ev, "round"), 9);
  EXPECT_EQ(scan_record("{}").type, -1);
  EXPECT_FALSE(scan_record("{}").has_error);
  EXPECT_TRUE(scan_record(R"({"error":"nope"})").has_error);
  EXPECT_EQ(parse_u64("18446744073709551615x"), std::nullopt);
  EXPECT_EQ(parse_u64("123"), 123u);
}

TEST(Histogram, QuantilesAreWithinThreePercent) {
  Histogram h;
  for (std::uint64_t v = 1; v <= 100000; ++v) h.record(v * 1000);
  EXPECT_EQ(h.count(), 100000u);
  for (double q : {0.5, 0.99, 0.999}) {
    double want = q * 100000 * 1000;
    EXPECT_NEAR(static_cast<double>(h.quantile(q)), want, want * 0.03) << q;
  }
  EXPECT_EQ(h.max(), 100000u * 1000);
  for (std::uint64_t v : {0ull, 1ull, 63ull, 64ull, 1000ull, 1ull << 40, ~0ull}) {
    std::size_t i = Histogram::index_of(v);
    EXPECT_LE(Histogram::lower_bound(i), v);
  }
}
