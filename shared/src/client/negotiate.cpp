#include "clickrace/client/negotiate.hpp"

#include <nlohmann/json.hpp>

#include "clickrace/client/http_request.hpp"

namespace clickrace::client {
namespace {

// Bodies end up in error texts: keep them short.
std::string clip(std::string_view s) {
  constexpr std::size_t kMax = 200;
  return std::string(s.substr(0, kMax)) + (s.size() > kMax ? "..." : "");
}

std::string string_field(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<NegotiateResult> parse_negotiate_reply(int status, std::string_view body) {
  if (status < 200 || status > 299) {
    return make_error("Failed to complete negotiation with the server: " + clip(body) +
                      ": Status code '" + std::to_string(status) + "'");
  }
  if (status != 200) {
    return make_error("Unexpected status code returned from negotiate '" + std::to_string(status) +
                      "'");
  }
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return make_error("The negotiate answer is not a JSON object.");
  if (j.contains("error")) {
    std::string error = string_field(j, "error");
    return make_error(error.empty() ? "The server refused the negotiation." : error);
  }
  if (j.contains("url")) return make_error("Negotiate redirects are not supported.");
  if (j.contains("ProtocolVersion")) {
    return make_error("Detected a connection attempt to an ASP.NET SignalR Server.");
  }
  NegotiateResult out;
  out.connection_id = string_field(j, "connectionId");
  out.connection_token = string_field(j, "connectionToken");
  if (out.connection_token.empty()) out.connection_token = out.connection_id;  // version 0
  if (out.connection_token.empty()) return make_error("The negotiate answer has no connection.");

  bool websockets = false;
  auto transports = j.find("availableTransports");
  if (transports != j.end() && transports->is_array()) {
    for (const auto& t : *transports) {
      if (t.is_object() && string_field(t, "transport") == "WebSockets") websockets = true;
    }
  }
  if (!websockets) return make_error("The server does not offer the WebSockets transport.");
  return out;
}

Result<NegotiateResult> negotiate(const HttpUrl& hub, const std::string& access_token,
                                  std::chrono::milliseconds timeout) {
  HttpHeaders headers;
  if (!access_token.empty()) headers.emplace_back("Authorization", "Bearer " + access_token);
  HttpTimeouts timeouts{timeout, timeout};
  HttpReply reply = http_request(hub, "POST", negotiate_target(hub), headers, "", timeouts);
  if (reply.status == 0) {
    return make_error("Failed to complete negotiation with the server: " + reply.transport_error);
  }
  return parse_negotiate_reply(reply.status, reply.body);
}

}  // namespace clickrace::client
