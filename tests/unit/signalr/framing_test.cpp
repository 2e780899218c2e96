#include "clickrace/signalr/framing.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace clickrace::signalr {
namespace {

const std::string kRs(1, kRecordSeparator);

std::vector<std::string> feed_all(RecordReader& reader, std::string_view chunk) {
  auto records = reader.feed(chunk);
  EXPECT_TRUE(records.ok()) << (records.ok() ? "" : records.error().message);
  return records.ok() ? *records : std::vector<std::string>{};
}

TEST(RecordReader, OneRecordPerChunk) {
  RecordReader reader;
  EXPECT_EQ(feed_all(reader, "{\"type\":6}" + kRs), std::vector<std::string>{"{\"type\":6}"});
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(RecordReader, SeveralRecordsInOneChunk) {
  RecordReader reader;
  const auto records = feed_all(reader, "{\"a\":1}" + kRs + "{\"b\":2}" + kRs + "{\"c\"");
  EXPECT_EQ(records, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(reader.buffered(), 4u);
  EXPECT_EQ(feed_all(reader, ":3}" + kRs), std::vector<std::string>{"{\"c\":3}"});
}

TEST(RecordReader, PartialInputYieldsNothingUntilSeparator) {
  RecordReader reader;
  EXPECT_TRUE(feed_all(reader, "{\"protocol\":\"json\",").empty());
  EXPECT_TRUE(feed_all(reader, "").empty());
  EXPECT_TRUE(feed_all(reader, "\"version\":1}").empty());
  EXPECT_EQ(feed_all(reader, kRs),
            std::vector<std::string>{"{\"protocol\":\"json\",\"version\":1}"});
}

TEST(RecordReader, ByteByByteGivesSameRecordsAsWhole) {
  const std::string stream = "{\"protocol\":\"json\",\"version\":1}" + kRs + "{\"type\":6}" + kRs +
                             kRs + "{\"target\":\"Click\",\"arguments\":[],\"type\":1}" + kRs +
                             "{\"type\":7}" + kRs + "{\"partial\":";
  RecordReader whole_reader;
  const auto whole = feed_all(whole_reader, stream);
  ASSERT_EQ(whole.size(), 5u);
  EXPECT_EQ(whole[2], "");  // an empty record is passed on for the parser to reject

  RecordReader byte_reader;
  std::vector<std::string> bytewise;
  for (char c : stream) {
    for (auto& r : feed_all(byte_reader, std::string_view(&c, 1))) bytewise.push_back(r);
  }
  EXPECT_EQ(bytewise, whole);
  EXPECT_EQ(byte_reader.buffered(), whole_reader.buffered());
}

TEST(RecordReader, EveryTwoWaySplitGivesSameRecords) {
  const std::string stream = "{\"a\":\"x\"}" + kRs + "{\"b\":[1,2]}" + kRs;
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    RecordReader reader;
    auto first = feed_all(reader, std::string_view(stream).substr(0, cut));
    auto second = feed_all(reader, std::string_view(stream).substr(cut));
    first.insert(first.end(), second.begin(), second.end());
    EXPECT_EQ(first, (std::vector<std::string>{"{\"a\":\"x\"}", "{\"b\":[1,2]}"})) << cut;
  }
}

TEST(RecordReader, RecordOfExactlyTheLimitIsAccepted) {
  RecordReader reader(8);
  EXPECT_EQ(feed_all(reader, "12345678" + kRs), std::vector<std::string>{"12345678"});
  EXPECT_EQ(feed_all(reader, "1234" + kRs + "5678" + kRs),
            (std::vector<std::string>{"1234", "5678"}));
}

TEST(RecordReader, OversizedRecordFailsAndReaderStaysFailed) {
  RecordReader reader(8);
  auto r = reader.feed("123456789" + kRs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, kRecordTooLargeError);
  EXPECT_TRUE(reader.failed());
  EXPECT_EQ(reader.buffered(), 0u);
  EXPECT_FALSE(reader.feed("{}" + kRs).ok());  // refuses further input
}

TEST(RecordReader, OversizedWithoutSeparatorFailsBeforeBuffering) {
  RecordReader reader(16);
  EXPECT_TRUE(reader.feed("0123456789").ok());
  auto r = reader.feed("0123456789");  // 20 bytes pending, no separator yet
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(reader.failed());
}

TEST(RecordReader, OversizedAcrossManySmallChunks) {
  RecordReader reader;  // default 32 KB
  bool failed = false;
  for (int i = 0; i < 40 * 1024 && !failed; ++i) failed = !reader.feed("x").ok();
  EXPECT_TRUE(failed);
  EXPECT_LE(reader.buffered(), kDefaultMaxRecordSize);
}

TEST(RecordReader, DefaultLimitIs32KB) {
  RecordReader reader;
  EXPECT_EQ(reader.max_record_size(), 32u * 1024);
  EXPECT_TRUE(reader.feed(std::string(32 * 1024, 'a') + kRs).ok());
  EXPECT_FALSE(reader.feed(std::string(32 * 1024 + 1, 'a') + kRs).ok());
}

TEST(AppendRecord, AddsOneSeparator) {
  std::string out;
  append_record(out, "{}");
  append_record(out, "{\"type\":6}");
  EXPECT_EQ(out, "{}\x1e{\"type\":6}\x1e");
}

}  // namespace
}  // namespace clickrace::signalr
