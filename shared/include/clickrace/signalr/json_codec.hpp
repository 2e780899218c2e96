#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "clickrace/core/result.hpp"
#include "clickrace/signalr/messages.hpp"

// The JSON hub protocol: one record (without its 0x1E) <-> one HubMessage.
//
// Parsing follows the spec and the official clients: any property order (the JS client writes
// `type` last), unknown properties ignored, strict types. Every failure is an Error value whose
// text is short, fixed and safe to send to the client (it never echoes the input); no exception
// escapes. Input is bounded before any DOM is built: nesting deeper than kMaxJsonDepth is
// rejected by a linear pre-scan, and invalid UTF-8 fails the parse.
//
// Writing follows .NET (type first, optional properties omitted), so the bytes match what the
// official client is tested against.
namespace clickrace::signalr {

// Maximum nesting of arrays/objects in one record (the message object itself is level 1).
constexpr int kMaxJsonDepth = 32;

// Parses one record. Well-formed objects with an unknown integer `type` yield UnknownMessage
// (ignore it, as the spec says); everything malformed yields an Error.
Result<HubMessage> parse_message(std::string_view record);

// JSON text of `message` followed by 0x1E.
std::string serialize(const HubMessage& message);
// Same, appended to `out` (several records may share one WebSocket message).
void serialize_to(std::string& out, const HubMessage& message);

// ---- Hot-path frames, built without a JSON DOM. Each returns JSON + 0x1E. ----
// `raw_json*` arguments must be one valid JSON value produced by the server; they are copied
// verbatim, not checked. Strings are JSON-escaped; invalid UTF-8 becomes U+FFFD.

// {"type":3,"invocationId":"<id>","result":<raw_json_result>}  — use "null" for a void method.
std::string completion_result(std::string_view invocation_id, std::string_view raw_json_result);
// {"type":3,"invocationId":"<id>","error":"<text>"}
std::string completion_error(std::string_view invocation_id, std::string_view text);
// {"type":1,"target":"<target>","arguments":[<raw_json_argument>]} — one event frame, built once
// and broadcast to many connections.
std::string invocation_frame(std::string_view target, std::string_view raw_json_argument);
// {"type":6}
constexpr std::string_view kPingFrame{"{\"type\":6}\x1e", 11};
// {"type":7[,"error":"<text>"][,"allowReconnect":true]}
std::string close_frame(std::optional<std::string_view> error, bool allow_reconnect);

// Appends `s` as a quoted JSON string. Invalid UTF-8 sequences are replaced by U+FFFD so the
// output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

}  // namespace clickrace::signalr
