#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

// The nine messages of the SignalR hub protocol as plain values (names as in HubProtocol.md).
// No encoding here: see json_codec.hpp. Headers are carried on types 1-5 only.
namespace clickrace::signalr {

using Headers = std::map<std::string, std::string>;

enum class MessageType : int {
  kInvocation = 1,
  kStreamItem = 2,
  kCompletion = 3,
  kStreamInvocation = 4,
  kCancelInvocation = 5,
  kPing = 6,
  kClose = 7,
  kAck = 8,
  kSequence = 9,
};

// Type 1. No invocation_id means "send": the receiver must not answer at all.
struct InvocationMessage {
  std::optional<std::string> invocation_id;
  std::string target;
  nlohmann::json arguments = nlohmann::json::array();  // always an array
  std::vector<std::string> stream_ids;                 // written only when non-empty
  Headers headers;                                     // written only when non-empty
};

// Type 2. `item` is always present on the wire (null allowed).
struct StreamItemMessage {
  std::string invocation_id;
  nlohmann::json item;
  Headers headers;
};

// Type 3. At most one of `result` and `error` is set. `result` engaged with a null json value is
// `"result":null` (invoke() resolves to null); disengaged means no result property (void
// completion / stream end; invoke() resolves to undefined).
struct CompletionMessage {
  std::string invocation_id;
  std::optional<nlohmann::json> result;
  std::optional<std::string> error;
  Headers headers;
};

// Type 4.
struct StreamInvocationMessage {
  std::string invocation_id;
  std::string target;
  nlohmann::json arguments = nlohmann::json::array();
  std::vector<std::string> stream_ids;
  Headers headers;
};

// Type 5.
struct CancelInvocationMessage {
  std::string invocation_id;
  Headers headers;
};

// Type 6.
struct PingMessage {};

// Type 7. The JS client reconnects only when allowReconnect is exactly `true`, so absent and
// false are the same value here; it is written only when true (as .NET does).
struct CloseMessage {
  std::optional<std::string> error;
  bool allow_reconnect = false;
};

// Type 8 (stateful reconnect): highest trackable message id processed.
struct AckMessage {
  std::uint64_t sequence_id = 0;
};

// Type 9 (stateful reconnect): id of the first message about to be (re)sent.
struct SequenceMessage {
  std::uint64_t sequence_id = 0;
};

// A well-formed object whose integer `type` is none of the above. The spec says receivers ignore
// such messages, so parsing succeeds with this alternative rather than an Error; the caller
// decides (the gateway ignores it). Its other properties are not kept.
struct UnknownMessage {
  std::int64_t type = 0;
};

using HubMessage = std::variant<InvocationMessage, StreamItemMessage, CompletionMessage,
                                StreamInvocationMessage, CancelInvocationMessage, PingMessage,
                                CloseMessage, AckMessage, SequenceMessage, UnknownMessage>;

// Value equality (json compared by value), mostly for tests.
bool operator==(const InvocationMessage& a, const InvocationMessage& b);
bool operator==(const StreamItemMessage& a, const StreamItemMessage& b);
bool operator==(const CompletionMessage& a, const CompletionMessage& b);
bool operator==(const StreamInvocationMessage& a, const StreamInvocationMessage& b);
bool operator==(const CancelInvocationMessage& a, const CancelInvocationMessage& b);
bool operator==(const PingMessage& a, const PingMessage& b);
bool operator==(const CloseMessage& a, const CloseMessage& b);
bool operator==(const AckMessage& a, const AckMessage& b);
bool operator==(const SequenceMessage& a, const SequenceMessage& b);
bool operator==(const UnknownMessage& a, const UnknownMessage& b);

}  // namespace clickrace::signalr
