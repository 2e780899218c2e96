#pragma once
#include <chrono>
#include <string>
#include <string_view>

#include "clickrace/client/url.hpp"
#include "clickrace/core/result.hpp"

// The SignalR negotiate step (signalr-protocol.md §2): POST <hub>/negotiate?negotiateVersion=1.
namespace clickrace::client {

struct NegotiateResult {
  std::string connection_id;     // public id
  std::string connection_token;  // goes into ?id= of the WebSocket URL
};

// Interprets a negotiate answer (pure). Errors use the official client's wording:
//   Failed to complete negotiation with the server: <body>: Status code '<code>'
//   <error> (the {"error":...} form), or a short text for malformed bodies.
// Redirects (Azure SignalR) are not supported and yield an Error.
Result<NegotiateResult> parse_negotiate_reply(int status, std::string_view body);

// Sends the request (blocking) with `Authorization: Bearer <access_token>` when not empty.
Result<NegotiateResult> negotiate(const HttpUrl& hub, const std::string& access_token,
                                  std::chrono::milliseconds timeout);

}  // namespace clickrace::client
