#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

// Just enough of the SignalR JSON hub protocol for a load generator, without a JSON DOM: the
// fields it needs are found by key. Good for what our gateway sends (keys are unique per message,
// names are [A-Za-z0-9_-]); not a general JSON parser.
namespace clickrace::bench {

inline constexpr char kRecordSeparator = '\x1e';

struct RecordInfo {
  int type = -1;                   // -1: no "type" (the handshake reply)
  std::string_view invocation_id;  // Completion
  std::string_view target;         // Invocation
  bool has_error = false;          // "error" key present
};

RecordInfo scan_record(std::string_view json);

// The integer value of the first `"key":<int>` in `json`.
std::optional<std::int64_t> find_int(std::string_view json, std::string_view key);
// The value of the first `"key":"<text>"` (no escapes inside).
std::optional<std::string_view> find_string(std::string_view json, std::string_view key);
// Decimal string → integer; nullopt if not all digits.
std::optional<std::uint64_t> parse_u64(std::string_view digits);

}  // namespace clickrace::bench
