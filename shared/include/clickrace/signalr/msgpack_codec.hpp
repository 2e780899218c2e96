#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "clickrace/core/result.hpp"
#include "clickrace/signalr/messages.hpp"

// The MessagePack hub protocol: one frame body (without its VarInt prefix) <-> one HubMessage.
// Array layouts as in HubProtocol.md and the official clients (H = headers map):
//   [1, H, id|nil, target, [args]]   or with a 6th element [streamIds]   Invocation
//   [2, H, id, item]                                                     StreamItem
//   [3, H, id, 1, error] / [3, H, id, 2] / [3, H, id, 3, result]         Completion
//   [4, H, id, target, [args], [streamIds]?]                             StreamInvocation
//   [5, H, id]  [6]  [7, error|nil, allowReconnect?]  [8, seq]  [9, seq]
// Parsing accepts trailing extra elements (as the clients do) and rejects short arrays, wrong
// types, map keys that are not str, invalid UTF-8 and nesting deeper than kMaxMsgpackDepth. Error
// texts are short, fixed and never echo the input. Writing follows .NET's MessagePack writer
// (smallest integer encodings, Close always with 3 elements).
namespace clickrace::signalr {

constexpr int kMaxMsgpackDepth = 32;  // as kMaxJsonDepth: the message array is level 1

Result<HubMessage> parse_msgpack_message(std::string_view body);

// The frame (VarInt prefix + body) of `message`, appended to `out`.
void serialize_msgpack_to(std::string& out, const HubMessage& message);
std::string serialize_msgpack(const HubMessage& message);

// ---- Hot-path frames, built directly (each appends a whole frame: prefix + body) ----
// Completion with a result given as MessagePack bytes (one value, written by the server).
void append_msgpack_completion_result(std::string& out, std::string_view invocation_id,
                                      std::string_view msgpack_result);
void append_msgpack_completion_error(std::string& out, std::string_view invocation_id,
                                     std::string_view text);
// Invocation without invocationId, one argument given as MessagePack bytes (events).
void append_msgpack_invocation(std::string& out, std::string_view target,
                               std::string_view msgpack_argument);
// [6]: always the bytes 02 91 06.
constexpr std::string_view kMsgpackPingFrame{"\x02\x91\x06", 3};
void append_msgpack_close(std::string& out, std::optional<std::string_view> error,
                          bool allow_reconnect);

// Recognizes a Click invocation without a DOM: [1, {}, id|nil, "click" (any case), [] ] with an
// optional empty 6th element []. On success `invocation_id` is set (nullopt for a send). Anything
// else (headers, arguments, stream ids, other targets) returns false and goes to the full parser.
bool parse_msgpack_fast_click(std::string_view body, std::optional<std::string>& invocation_id);

}  // namespace clickrace::signalr
