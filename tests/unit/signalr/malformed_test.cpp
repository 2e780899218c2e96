// Hostile and broken input: every case must come back as an Error value (never an exception,
// never a crash), with a short text that does not echo the input.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "clickrace/signalr/framing.hpp"
#include "clickrace/signalr/handshake.hpp"
#include "clickrace/signalr/json_codec.hpp"

namespace clickrace::signalr {
namespace {

using nlohmann::json;

struct Case {
  std::string name;
  std::string input;  // one record, without separator
};

std::string nest(const std::string& open, const std::string& close, int n,
                 const std::string& inner = "1") {
  std::string s;
  for (int i = 0; i < n; ++i) s += open;
  s += inner;
  for (int i = 0; i < n; ++i) s += close;
  return s;
}

std::vector<Case> literal_cases() {
  const std::string ok_prefix = R"({"type":1,"target":"A","arguments":)";
  return {
      // empty and truncated
      {"empty", ""},
      {"space", " "},
      {"whitespace", "\n\t\r "},
      {"open_brace", "{"},
      {"close_brace", "}"},
      {"trunc_key", R"({"type")"},
      {"trunc_colon", R"({"type":)"},
      {"trunc_value", R"({"type":1)"},
      {"trunc_comma", R"({"type":1,)"},
      {"trunc_string", R"({"type":1,"target":"A)"},
      {"trunc_array", R"({"type":1,"target":"A","arguments":[1,2)"},
      {"trunc_object_end", R"({"type":1,"target":"A","arguments":[1,2])"},
      {"lone_quote", "\""},
      {"lone_bracket", "["},
      {"partial_true", "tr"},
      {"trunc_escape", R"({"type":1,"target":"A\)"},
      // not an object
      {"array", "[]"},
      {"array_of_message", R"([{"type":6}])"},
      {"null", "null"},
      {"true", "true"},
      {"number", "6"},
      {"string", R"("type")"},
      // trailing data
      {"trailing_garbage", R"({"type":6}x)"},
      {"two_objects", R"({"type":6}{"type":6})"},
      {"trailing_comma_after", R"({"type":6},)"},
      // not JSON: NaN-like and JS-isms
      {"nan_type", R"({"type":NaN})"},
      {"infinity_type", R"({"type":Infinity})"},
      {"neg_infinity_type", R"({"type":-Infinity})"},
      {"nan_extra", R"({"type":6,"x":NaN})"},
      {"nan_argument", ok_prefix + "[NaN]}"},
      {"undefined_type", R"({"type":undefined})"},
      {"block_comment", R"({"type":6 /* c */})"},
      {"line_comment", "// x\n{\"type\":6}"},
      {"single_quotes", "{'type':6}"},
      {"unquoted_key", "{type:6}"},
      {"trailing_comma_object", R"({"type":6,})"},
      {"trailing_comma_array", ok_prefix + "[1,]}"},
      {"hex_number", R"({"type":0x6})"},
      {"leading_zero", R"({"type":06})"},
      {"plus_sign", R"({"type":+6})"},
      {"bare_fraction", R"({"type":.5})"},
      {"missing_value", R"({"type":})"},
      {"missing_colon", R"({"type" 6})"},
      {"bad_escape", R"({"type":1,"target":"\q","arguments":[]})"},
      {"short_unicode_escape", R"({"type":1,"target":"\u12","arguments":[]})"},
      {"lone_high_surrogate", R"({"type":1,"target":"\ud800","arguments":[]})"},
      {"lone_low_surrogate", R"({"type":1,"target":"\udc00","arguments":[]})"},
      {"raw_newline_in_string", "{\"type\":1,\"target\":\"A\nB\",\"arguments\":[]}"},
      {"raw_nul_in_string", std::string("{\"type\":1,\"target\":\"A\0B\",\"arguments\":[]}", 38)},
      {"raw_rs_in_string", "{\"type\":1,\"target\":\"A\x1e\",\"arguments\":[]}"},
      // bad `type`
      {"no_type", "{}"},
      {"no_type_with_fields", R"({"target":"A","arguments":[]})"},
      {"type_string", R"({"type":"6"})"},
      {"type_float_whole", R"({"type":6.0})"},
      {"type_float", R"({"type":6.5})"},
      {"type_exponent", R"({"type":1e0})"},
      {"type_null", R"({"type":null})"},
      {"type_bool", R"({"type":true})"},
      {"type_array", R"({"type":[6]})"},
      {"type_object", R"({"type":{}})"},
      {"type_overflow_double", R"({"type":1e400})"},
      {"type_above_uint64", R"({"type":18446744073709551616})"},
      {"type_above_int64", R"({"type":18446744073709551615})"},
      {"type_below_int64", R"({"type":-9223372036854775809})"},
      {"type_duplicate_last_wins_bad", R"({"type":6,"type":"x"})"},
      // huge numbers
      {"seq_1e999", R"({"type":8,"sequenceId":1e999})"},
      {"seq_neg_1e999", R"({"type":8,"sequenceId":-1e999})"},
      {"arg_1e400", ok_prefix + "[1e400]}"},
      {"seq_400_digits", R"({"type":9,"sequenceId":)" + std::string(400, '9') + "}"},
      {"seq_300_digits", R"({"type":9,"sequenceId":)" + std::string(300, '9') + "}"},
      {"type_5000_digits", R"({"type":)" + std::string(5000, '7') + "}"},
      // invalid UTF-8 (raw bytes)
      {"utf8_ff_in_target", "{\"type\":1,\"target\":\"A\xff\",\"arguments\":[]}"},
      {"utf8_truncated_in_arg", ok_prefix + "[\"\xc3\"]}"},
      {"utf8_surrogate_cesu", ok_prefix + "[\"\xed\xa0\x80\"]}"},
      {"utf8_overlong_slash", ok_prefix + "[\"\xc0\xaf\"]}"},
      {"utf8_above_max", ok_prefix + "[\"\xf5\x80\x80\x80\"]}"},
      {"utf8_in_key", "{\"type\":6,\"\xfe\":1}"},
      {"utf8_lone_continuation", "{\"type\":7,\"error\":\"\x80\"}"},
      {"latin1_text", "{\"type\":7,\"error\":\"caf\xe9\"}"},
      // binary garbage
      {"nul_bytes", std::string("\0\0\0\0", 4)},
      {"control_bytes", "\x01\x02\x03\x04"},
      {"png_header", "\x89PNG\r\n\x1a\n"},
      {"msgpack_ping", "\x91\x06"},
      {"high_bytes", "\xff\xfe\xfd\xfc\xfb"},
      {"utf16_le_json", std::string("{\0\"\0t\0\"\0:\0"
                                    "6\0}\0",
                                    14)},
      // deep nesting (10k levels) and near the limit
      {"deep_arrays_10k", nest("[", "]", 10000)},
      {"deep_objects_10k", nest("{\"a\":", "}", 10000)},
      {"deep_args_10k", ok_prefix + nest("[", "]", 10000) + "}"},
      {"deep_unclosed_10k", R"({"type":6,"x":)" + std::string(10000, '[')},
      {"deep_headers", R"({"type":1,"target":"A","arguments":[],"headers":)" +
                           nest("{\"a\":", "}", 100, "\"v\"") + "}"},
      {"depth_33", ok_prefix + nest("[", "]", 32) + "}"},
      {"unbalanced_close", R"({"type":6}]]]]])"},
      // field-level problems that the generated table does not cover
      {"completion_result_and_error", R"({"type":3,"invocationId":"1","result":1,"error":"e"})"},
      {"completion_null_result_and_error",
       R"({"type":3,"invocationId":"1","result":null,"error":"e"})"},
      {"huge_invalid_echo", R"({"type":1,"target":)" + std::string(20000, 'x') + "}"},
  };
}

// For each message type: a valid base, and for each field the wrong values (and whether the field
// is required). `null` stands for "remove the field" when listed as kMissing.
const char* const kMissing = "<missing>";

struct FieldRule {
  int type;
  std::string base;  // valid message without the field's problem
  std::string field;
  std::vector<std::string> bad_values;  // JSON literals, or kMissing
};

std::vector<FieldRule> field_rules() {
  const std::vector<std::string> bad_id = {"1", "null", "true", "[]", "{}", "\"\"", "1.5"};
  const std::vector<std::string> bad_string = {"1", "null", "true", "[]", "{}", "1.5"};
  const std::vector<std::string> bad_array = {"\"x\"", "1", "null", "{}", "true"};
  const std::vector<std::string> bad_stream_ids = {"\"0\"", "1",      "null",     "{}",
                                                   "[1]",   "[\"\"]", "[null]",   "[[\"0\"]]",
                                                   "[{}]",  "true",   "[\"0\",2]"};
  const std::vector<std::string> bad_headers = {
      "1",          "\"x\"",         "[]",          "null",           "true",
      R"({"a":1})", R"({"a":null})", R"({"a":{}})", R"({"a":["b"]})", R"({"a":"b","c":false})"};
  const std::vector<std::string> bad_seq = {"-1",  "1.5",   "\"1\"", "null", "true",
                                            "[]",  "{}",    "1.0",   "1e3",  "-9223372036854775808",
                                            "[1]", kMissing};
  auto with_missing = [](std::vector<std::string> v) {
    v.push_back(kMissing);
    return v;
  };
  const std::string inv =
      R"({"type":1,"invocationId":"1","target":"A","arguments":[],"streamIds":["0"],"headers":{"a":"b"}})";
  const std::string sinv =
      R"({"type":4,"invocationId":"1","target":"A","arguments":[],"streamIds":["0"],"headers":{"a":"b"}})";
  const std::string item = R"({"type":2,"invocationId":"1","item":1,"headers":{}})";
  const std::string done = R"({"type":3,"invocationId":"1","headers":{}})";
  const std::string cancel = R"({"type":5,"invocationId":"1","headers":{}})";
  const std::string close = R"({"type":7,"error":"x","allowReconnect":true})";
  return {
      {1, inv, "invocationId", bad_id},
      {1, inv, "target", with_missing(bad_id)},
      {1, inv, "arguments", with_missing(bad_array)},
      {1, inv, "streamIds", bad_stream_ids},
      {1, inv, "headers", bad_headers},
      {4, sinv, "invocationId", with_missing(bad_id)},
      {4, sinv, "target", with_missing(bad_id)},
      {4, sinv, "arguments", with_missing(bad_array)},
      {4, sinv, "streamIds", bad_stream_ids},
      {4, sinv, "headers", bad_headers},
      {2, item, "invocationId", with_missing(bad_id)},
      {2, item, "item", {kMissing}},
      {2, item, "headers", bad_headers},
      {3, done, "invocationId", with_missing(bad_id)},
      {3, done, "error", bad_string},
      {3, done, "headers", bad_headers},
      {5, cancel, "invocationId", with_missing(bad_id)},
      {5, cancel, "headers", bad_headers},
      {7, close, "error", bad_string},
      {7, close, "allowReconnect", {"\"true\"", "1", "0", "null", "{}", "[]", "\"\""}},
      {8, R"({"type":8,"sequenceId":1})", "sequenceId", bad_seq},
      {9, R"({"type":9,"sequenceId":1})", "sequenceId", bad_seq},
  };
}

std::vector<Case> generated_cases() {
  std::vector<Case> cases;
  for (const auto& rule : field_rules()) {
    int n = 0;
    for (const auto& bad : rule.bad_values) {
      json msg = json::parse(rule.base);
      if (bad == kMissing) {
        msg.erase(rule.field);
      } else {
        msg[rule.field] = json::parse(bad);
      }
      cases.push_back({"type" + std::to_string(rule.type) + "_" + rule.field + "_" +
                           (bad == kMissing ? std::string("missing") : std::to_string(n++)),
                       msg.dump()});
    }
  }
  return cases;
}

std::vector<Case> all_cases() {
  auto cases = literal_cases();
  auto generated = generated_cases();
  cases.insert(cases.end(), generated.begin(), generated.end());
  return cases;
}

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class Malformed : public ::testing::TestWithParam<Case> {};

TEST_P(Malformed, ParseMessageReturnsShortError) {
  Result<HubMessage> r = HubMessage(PingMessage{});
  ASSERT_NO_THROW(r = parse_message(GetParam().input));
  ASSERT_FALSE(r.ok()) << "accepted: " << GetParam().input.substr(0, 200);
  EXPECT_FALSE(r.error().message.empty());
  EXPECT_LT(r.error().message.size(), 120u) << r.error().message.substr(0, 200);
}

TEST_P(Malformed, HandshakeReturnsError) {
  Result<NegotiatedHandshake> r = Error{};
  ASSERT_NO_THROW(r = negotiate_handshake(GetParam().input));
  EXPECT_FALSE(r.ok());
}

TEST_P(Malformed, ThroughRecordReaderStillAnError) {
  // The framed form: the reader either refuses the record or yields it unchanged for the parser.
  RecordReader reader;
  auto records = reader.feed(GetParam().input + std::string(1, kRecordSeparator));
  if (!records.ok()) return;  // e.g. over the size limit
  // A raw 0x1E inside the input splits it; then at least one piece must still be rejected.
  ASSERT_GE(records->size(), 1u);
  bool any_error = false;
  for (const auto& record : *records) any_error |= !parse_message(record).ok();
  EXPECT_TRUE(any_error);
}

INSTANTIATE_TEST_SUITE_P(Table, Malformed, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

TEST(MalformedTable, HasAtLeastOneHundredCases) { EXPECT_GE(all_cases().size(), 100u); }

TEST(MalformedTable, BasesOfGeneratedCasesAreValid) {
  // Guards against a table that "passes" only because its base messages were already broken.
  for (const auto& rule : field_rules()) {
    auto r = parse_message(rule.base);
    EXPECT_TRUE(r.ok()) << rule.base << " -> " << (r.ok() ? "" : r.error().message);
  }
}

TEST(MalformedStream, OnlySeparatorsYieldEmptyRecordsThatFailToParse) {
  RecordReader reader;
  auto records = reader.feed("\x1e\x1e\x1e");
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 3u);
  for (const auto& record : *records) EXPECT_FALSE(parse_message(record).ok());
}

TEST(MalformedStream, MissingSeparatorYieldsNoRecord) {
  RecordReader reader;
  auto records = reader.feed(R"({"type":6})");
  ASSERT_TRUE(records.ok());
  EXPECT_TRUE(records->empty());
  EXPECT_EQ(reader.buffered(), 10u);
}

TEST(MalformedStream, OversizedRecordIsAnError) {
  RecordReader reader;
  const std::string big = R"({"type":1,"target":"A","arguments":[")" +
                          std::string(kDefaultMaxRecordSize, 'a') + "\"]}\x1e";
  auto records = reader.feed(big);
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.error().message, kRecordTooLargeError);
}

TEST(MalformedStream, RandomGarbageNeverCrashes) {
  // Deterministic pseudo-random bytes, fed in odd-sized chunks; every record must parse or fail
  // cleanly.
  std::uint32_t state = 12345;
  auto next = [&state]() {
    state = state * 1664525u + 1013904223u;
    return static_cast<char>(state >> 24);
  };
  for (int round = 0; round < 200; ++round) {
    RecordReader reader(4096);
    std::string garbage;
    for (int i = 0; i < 1000; ++i) garbage += next();
    for (std::size_t pos = 0; pos < garbage.size(); pos += 37) {
      auto records = reader.feed(std::string_view(garbage).substr(pos, 37));
      if (!records.ok()) break;
      for (const auto& record : *records) {
        EXPECT_NO_THROW((void)parse_message(record));
        EXPECT_NO_THROW((void)negotiate_handshake(record));
      }
    }
  }
}

TEST(MalformedStream, MutatedValidMessagesNeverCrash) {
  // Flip, drop and truncate bytes of valid frames: results may be ok or errors, never a crash.
  const std::vector<std::string> valid = {
      R"({"target":"Add","arguments":[40,2],"invocationId":"0","type":1})",
      R"({"invocationId":"0","item":{"v":[1,"x"]},"type":2})",
      R"({"invocationId":"s-1","result":{"a":null},"headers":{"k":"v"},"type":3})",
      R"({"error":"x","allowReconnect":true,"type":7})",
      R"({"sequenceId":2,"type":8})",
  };
  for (const auto& base : valid) {
    for (std::size_t i = 0; i < base.size(); ++i) {
      std::string flipped = base;
      flipped[i] = static_cast<char>(flipped[i] ^ 0x80);
      std::string dropped = base;
      dropped.erase(i, 1);
      for (const auto& input : {flipped, dropped, base.substr(0, i)}) {
        Result<HubMessage> r = HubMessage(PingMessage{});
        EXPECT_NO_THROW(r = parse_message(input));
        if (r.ok()) {
          EXPECT_NO_THROW((void)serialize(*r));
        }
      }
    }
  }
}

}  // namespace
}  // namespace clickrace::signalr
