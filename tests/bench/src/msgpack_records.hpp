#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Just enough of the SignalR MessagePack hub protocol for the load generator (the gateway's side
// is shared/src/signalr/msgpack*.cpp; this stays lean and separate, like records.hpp for JSON):
// VarInt-length-prefixed frames, a Click invocation out, Completions / Invocations / Ping / Close
// in. Not a general MessagePack reader: it reads what the hub protocol's arrays hold.
namespace clickrace::bench {

// Appends one framed `[1, {}, "<id>", "Click", []]` (an Invocation).
void append_msgpack_click(std::string& out, std::uint64_t id);
// Appends one framed Ping `[6]`.
void append_msgpack_ping(std::string& out);

// Takes the next whole frame's body from `data` (advancing it); nullopt if it is incomplete,
// and `bad` is set when the length prefix is malformed.
std::optional<std::string_view> next_msgpack_frame(std::string_view& data, bool& bad);

struct MsgpackInfo {
  int type = -1;  // -1: unreadable
  std::uint64_t invocation_id = 0;
  bool has_id = false;      // Completion: the invocation id is a decimal string
  bool has_error = false;   // Completion with result kind 1
  std::string_view error;   // its text
  std::string_view target;  // Invocation
};
MsgpackInfo scan_msgpack(std::string_view body);

}  // namespace clickrace::bench
