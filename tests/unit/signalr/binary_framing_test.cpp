#include "clickrace/signalr/binary_framing.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace clickrace::signalr {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

std::string varint(std::uint32_t n) {
  std::string s;
  append_varint(s, n);
  return s;
}

TEST(VarInt, SpecEncodings) {
  EXPECT_EQ(varint(0), bytes({0x00}));
  EXPECT_EQ(varint(0x0B), bytes({0x0B}));
  EXPECT_EQ(varint(127), bytes({0x7F}));
  EXPECT_EQ(varint(128), bytes({0x80, 0x01}));
  EXPECT_EQ(varint(16383), bytes({0xFF, 0x7F}));
  EXPECT_EQ(varint(16384), bytes({0x80, 0x80, 0x01}));
  EXPECT_EQ(varint(0x7FFFFFFF), bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x07}));
}

TEST(VarInt, ReadsBackAndRejectsBadPrefixes) {
  for (std::uint32_t n : {0u, 1u, 127u, 128u, 300u, 16384u, 2097151u, 2097152u, 0x7FFFFFFFu}) {
    auto p = read_varint(varint(n) + "rest");
    ASSERT_TRUE(p.ok());
    ASSERT_TRUE(p->has_value());
    EXPECT_EQ((*p)->body_size, n);
    EXPECT_EQ((*p)->prefix_bytes, varint(n).size());
  }
  // Incomplete: more bytes needed, not an error.
  auto partial = read_varint(bytes({0x80, 0x80}));
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE(partial->has_value());
  // 2 GB and above, and a sixth byte, are errors.
  EXPECT_FALSE(read_varint(bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x08})).ok());
  EXPECT_FALSE(read_varint(bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x01})).ok());
}

TEST(BinaryFrameReader, SpecExampleAndSeveralFramesPerChunk) {
  BinaryFrameReader reader(1024);
  std::string input = "\x0bHello\nWorld";
  append_binary_frame(input, bytes({0x91, 0x06}));
  auto bodies = reader.feed(input);
  ASSERT_TRUE(bodies.ok());
  EXPECT_EQ(*bodies, (std::vector<std::string>{"Hello\nWorld", bytes({0x91, 0x06})}));
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(BinaryFrameReader, ByteAtATime) {
  std::string input;
  std::vector<std::string> expected = {"a", std::string(200, 'b'), bytes({0x91, 0x06}), ""};
  for (const auto& body : expected) append_binary_frame(input, body);
  BinaryFrameReader reader(1024);
  std::vector<std::string> got;
  for (char c : input) {
    auto bodies = reader.feed(std::string_view(&c, 1));
    ASSERT_TRUE(bodies.ok());
    for (auto& b : *bodies) got.push_back(b);
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(BinaryFrameReader, EveryTwoWaySplitYieldsTheSameFrames) {
  std::string input;
  std::vector<std::string> expected = {"xyz", std::string(130, 'q'), "1"};
  for (const auto& body : expected) append_binary_frame(input, body);
  for (std::size_t split = 0; split <= input.size(); ++split) {
    BinaryFrameReader reader(1024);
    std::vector<std::string> got;
    for (auto chunk : {input.substr(0, split), input.substr(split)}) {
      auto bodies = reader.feed(chunk);
      ASSERT_TRUE(bodies.ok());
      for (auto& b : *bodies) got.push_back(b);
    }
    EXPECT_EQ(got, expected) << "split at " << split;
  }
}

TEST(BinaryFrameReader, OverLimitFailsOnThePrefixAndStaysFailed) {
  BinaryFrameReader reader(100);
  // Only the prefix of a 101-byte body: refused before any body byte is buffered.
  auto r = reader.feed(varint(101));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, kFrameTooLargeError);
  EXPECT_TRUE(reader.failed());
  EXPECT_FALSE(reader.feed(bytes({0x01, 0x00})).ok());
  // Exactly the limit is fine.
  BinaryFrameReader ok(100);
  std::string frame;
  append_binary_frame(frame, std::string(100, 'x'));
  auto bodies = ok.feed(frame);
  ASSERT_TRUE(bodies.ok());
  EXPECT_EQ(bodies->size(), 1u);
}

TEST(BinaryFrameReader, BadPrefixFails) {
  BinaryFrameReader reader(1 << 30);
  auto r = reader.feed(bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x01}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, kBadLengthPrefixError);
}

TEST(WholeFrames, FastPathAgreesWithTheReader) {
  std::string two;
  append_binary_frame(two, "ab");
  append_binary_frame(two, "c");
  EXPECT_TRUE(whole_frames(two, 10));
  std::vector<std::string> got;
  for_each_frame(two, [&](std::string_view b) {
    got.emplace_back(b);
    return true;
  });
  EXPECT_EQ(got, (std::vector<std::string>{"ab", "c"}));
  EXPECT_FALSE(whole_frames(two.substr(0, two.size() - 1), 10));  // incomplete
  EXPECT_FALSE(whole_frames(two, 1));                             // a body over the limit
  EXPECT_FALSE(whole_frames("", 10));
  EXPECT_FALSE(whole_frames(bytes({0x80}), 10));
}

}  // namespace
}  // namespace clickrace::signalr
