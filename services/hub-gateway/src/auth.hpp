#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clickrace/core/result.hpp"
#include "clickrace/core/token.hpp"
#include "http_types.hpp"

// Who may call: login tokens from `Authorization: Bearer` or `access_token`, negotiate's signed
// connection tokens, the Origin check of the upgrade and CORS. Pure functions over
// HttpRequest values and an injected time.
namespace clickrace::gateway {

// The login token of a request: the Bearer header first, else (hub paths only) the
// `access_token` query parameter, as browsers cannot set headers on a WebSocket.
std::optional<std::string> request_token(const HttpRequest& request, bool allow_query);

// 16 random bytes, base64url: 22 URL-safe characters (as .NET's connection ids).
std::string new_connection_id();

// The negotiate v1 body (signalr-protocol.md §2.2): WebSockets with Text and Binary;
// `useStatefulReconnect: true` only when `stateful` (the client asked and we offer it).
std::string negotiate_body(const std::string& connection_id, const std::string& connection_token,
                           bool stateful = false);

// An upgrade's Origin is acceptable when absent (not a browser), same-origin with Host, or listed.
bool origin_allowed(const HttpRequest& request, const std::vector<std::string>& allowed);
// CORS headers for a request whose Origin is listed (exact origin + credentials); none otherwise.
std::vector<std::pair<std::string, std::string>> cors_headers(
    const HttpRequest& request, const std::vector<std::string>& allowed);
// The answer to an OPTIONS preflight.
HttpResponse preflight_response(const HttpRequest& request,
                                const std::vector<std::string>& allowed);

struct UpgradeGrant {
  std::string player;
  std::string connection_id;
};

// Checks the upgrade on the hub path: 401 without a valid login token, 403 for a foreign
// Origin, 404 "No Connection with that ID" when `id` is not a valid connection token of the same
// player. No `id` (skipNegotiation) gets a fresh connection id.
Result<UpgradeGrant> check_upgrade(const HttpRequest& request, const core::TokenSigner& signer,
                                   const std::vector<std::string>& allowed_origins,
                                   std::int64_t now_ms, int* status);

}  // namespace clickrace::gateway
