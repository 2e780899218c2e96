// The DOM-free Click path against the general codec: whatever the fast path recognizes, the
// full parser + decide() must treat the same way; the completion bytes must be identical.
#include <gtest/gtest.h>

#include "click_codec.hpp"
#include "clickrace/signalr/json_codec.hpp"
#include "hub_dispatch.hpp"
#include "inbound_records.hpp"

namespace clickrace::gateway {
namespace {

// What the hub does with a record through the general path, as comparable text.
std::string full_path(const std::string& record) {
  auto m = signalr::parse_message(record);
  if (!m) return "parse error";
  HubAction a = decide(*m);
  if (a.kind != HubAction::Kind::call || a.method != HubMethod::click) return "not a click call";
  return "click " + a.invocation_id.value_or("<send>");
}

std::string fast_path(const std::string& record) {
  auto f = parse_fast_click(record);
  if (!f) return "fallback";
  return "click " + f->invocation_id.value_or("<send>");
}

TEST(ClickFastPath, RecognizesTheHotFormsAsTheFullParserDoes) {
  const std::vector<std::string> hot = {
      R"({"type":1,"invocationId":"0","target":"Click","arguments":[]})",   // loadgen, .NET
      R"({"arguments":[],"invocationId":"12","target":"Click","type":1})",  // JS client order
      R"({"arguments":[],"target":"Click","type":1})",                      // a send
      R"({"type":1,"target":"click","arguments":[]})",                      // any case
      R"({"type":1,"target":"CLICK","arguments":[],"invocationId":"a-b_c.9"})",
      " {\n\t\"type\" : 1 ,\r\"target\":\"Click\" , \"arguments\" : [ ] } ",
      R"({"invocationId":"x y","type":1,"arguments":[],"target":"Click"})",
  };
  for (const auto& r : hot) {
    EXPECT_NE(fast_path(r), "fallback") << r;
    EXPECT_EQ(fast_path(r), full_path(r)) << r;
  }
}

TEST(ClickFastPath, FallsBackForEverythingElse) {
  const std::vector<std::string> other = {
      "",
      "{}",
      "[]",
      R"({"type":1,"target":"Click","arguments":[1]})",
      R"({"type":1,"target":"Click"})",
      R"({"type":1,"arguments":[]})",
      R"({"target":"Click","arguments":[]})",
      R"({"type":4,"invocationId":"1","target":"Click","arguments":[]})",
      R"({"type":1.0,"target":"Click","arguments":[]})",
      R"({"type":10,"target":"Click","arguments":[]})",
      R"({"type":1e0,"target":"Click","arguments":[]})",
      R"({"type":"1","target":"Click","arguments":[]})",
      R"({"type":1,"target":"GetRound","arguments":[]})",
      R"({"type":1,"target":"Clicks","arguments":[]})",
      R"({"type":1,"target":"Cl\u0069ck","arguments":[]})",
      R"({"type":1,"target":"Click","arguments":[],"invocationId":"a\"b"})",
      R"({"type":1,"target":"Click","arguments":[],"invocationId":""})",
      R"({"type":1,"target":"Click","arguments":[],"invocationId":5})",
      R"({"type":1,"target":"Click","arguments":[],"headers":{"a":"b"}})",
      R"({"type":1,"target":"Click","arguments":[],"streamIds":[]})",
      R"({"type":1,"target":"Click","arguments":[],"type":1})",
      R"({"type":1,"target":"Click","arguments":[],"invocationId":"1","invocationId":"2"})",
      R"({"type":1,"target":"Click","arguments":[]}x)",
      R"({"type":1,"target":"Click","arguments":[]})"
      "}",
      R"({"type":1,"target":"Click","arguments":[],})",
      R"({"type":1,"target":"Click","arguments":[])",
      R"({"type":1,"target":"Click","arguments":[]},{})",
      "{\"type\":1,\"target\":\"Click\",\"arguments\":[],\"invocationId\":\"\xc3\xa9\"}",
      "{\"type\":1,\"target\":\"Click\",\"arguments\":[],\"invocationId\":\"\x01\"}",
  };
  for (const auto& r : other) EXPECT_EQ(fast_path(r), "fallback") << r;
}

TEST(ClickFastPath, CompletionBytesMatchTheGeneralCodec) {
  const std::vector<std::string> ids = {"0", "12345", "a\"b\\c", "\xc3\xa9",
                                        std::string("\x01\xff", 2)};
  for (const std::string& id : ids) {
    for (auto [round, clicks] :
         {std::pair<std::int64_t, std::int64_t>{1, 1}, {987654321, 1234567890123}, {0, 0}}) {
      std::string fast = "prefix";
      append_click_completion(fast, id, ClickAck{round, clicks});
      std::string json =
          "{\"round\":" + std::to_string(round) + ",\"clicks\":" + std::to_string(clicks) + "}";
      EXPECT_EQ(fast, "prefix" + signalr::completion_result(id, json));
    }
  }
}

// In-place record splitting must give what a fresh RecordReader gives, and refuse (leave to the
// reader) every payload it cannot handle the same way.
TEST(InboundRecords, WholeRecordsMatchTheReader) {
  const std::string rs(1, signalr::kRecordSeparator);
  struct Case {
    std::string payload;
    bool whole;
  };
  const std::vector<Case> cases = {
      {"a" + rs, true},
      {"a" + rs + "bc" + rs + "d" + rs, true},
      {rs, true},               // one empty record (the hub rejects it like the reader's "")
      {"a" + rs + rs, true},    // an empty record after one
      {"", false},              // nothing
      {"a", false},             // partial
      {"a" + rs + "b", false},  // a partial tail
      {std::string(8, 'x') + rs, true},
      {std::string(9, 'x') + rs, false},  // over the limit of 8
      {"a" + rs + std::string(9, 'x') + rs, false},
  };
  for (const auto& c : cases) {
    ASSERT_EQ(whole_records(c.payload, 8), c.whole) << c.payload;
    if (!c.whole) continue;
    std::vector<std::string> in_place;
    for_each_record(c.payload, [&](std::string_view r) {
      in_place.emplace_back(r);
      return true;
    });
    signalr::RecordReader reader(8);
    auto via_reader = reader.feed(c.payload);
    ASSERT_TRUE(via_reader);
    EXPECT_EQ(in_place, *via_reader) << c.payload;
    EXPECT_EQ(reader.buffered(), 0u);
  }
  std::vector<std::string> first;
  for_each_record("a" + rs + "b" + rs, [&](std::string_view r) {
    first.emplace_back(r);
    return false;  // stop after the first
  });
  EXPECT_EQ(first, std::vector<std::string>{"a"});
}

}  // namespace
}  // namespace clickrace::gateway
