#pragma once
#include <string>
#include <string_view>

#include "clickrace/core/result.hpp"

// The SignalR handshake: the client's first record names the hub protocol; the server answers
// `{}` (success) or `{"error":"..."}` before sending anything else, then closes on error.
namespace clickrace::signalr {

// What the client asked for. Unknown properties are ignored; any property order.
struct HandshakeRequest {
  std::string protocol;
  long long version = 0;
};

// The hub protocols we speak, and the versions we accept for both (2 = stateful reconnect was
// negotiated; the encodings are the same).
constexpr std::string_view kJsonProtocolName = "json";
constexpr std::string_view kMessagePackProtocolName = "messagepack";
constexpr long long kMinJsonProtocolVersion = 1;
constexpr long long kMaxJsonProtocolVersion = 2;

enum class Protocol { json, messagepack };

struct NegotiatedHandshake {
  Protocol protocol = Protocol::json;
  long long version = 1;
};

// Exactly what .NET sends on success: `{}` + 0x1E.
constexpr std::string_view kHandshakeSuccessFrame{"{}\x1e", 3};

// Parses the handshake record (without its separator). Errors: malformed JSON, not an object,
// missing/mistyped `protocol` (string) or `version` (integer). The error text is safe to send.
Result<HandshakeRequest> parse_handshake_request(std::string_view record);

// Parses and checks the request; returns the protocol and version (1 or 2). Error texts are .NET's:
//   The protocol 'x' is not supported.
//   The server does not support version N of the 'x' protocol.
// (a very long protocol name is shortened in the text).
Result<NegotiatedHandshake> negotiate_handshake(std::string_view record);

// `{"error":"<text>"}` + 0x1E, with `text` JSON-escaped.
std::string handshake_error_frame(std::string_view text);

}  // namespace clickrace::signalr
