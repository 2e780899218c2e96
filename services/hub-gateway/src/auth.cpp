#include "auth.hpp"

#include <sodium.h>

#include <nlohmann/json.hpp>

namespace clickrace::gateway {

std::optional<std::string> request_token(const HttpRequest& request, bool allow_query) {
  std::string auth = request.header("Authorization");
  if (auth.size() > 7 && iequals(std::string_view(auth).substr(0, 7), "Bearer ")) {
    std::string token = auth.substr(7);
    while (!token.empty() && token.front() == ' ') token.erase(0, 1);
    while (!token.empty() && token.back() == ' ') token.pop_back();
    if (!token.empty()) return token;
  }
  if (allow_query) {
    auto token = request.query_param("access_token");
    if (token && !token->empty()) return token;
  }
  return std::nullopt;
}

std::string new_connection_id() {
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  char out[sodium_base64_ENCODED_LEN(16, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(out, sizeof out, bytes, sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return out;
}

std::string negotiate_body(const std::string& connection_id, const std::string& connection_token,
                           bool stateful) {
  nlohmann::json j = {
      {"negotiateVersion", 1},
      {"connectionId", connection_id},
      {"connectionToken", connection_token},
      {"availableTransports",
       nlohmann::json::array({{{"transport", "WebSockets"},
                               {"transferFormats", nlohmann::json::array({"Text", "Binary"})}}})},
  };
  // Never unasked: the client fails with "Client didn't negotiate Stateful Reconnect but the
  // server did."
  if (stateful) j["useStatefulReconnect"] = true;
  return j.dump();
}

namespace {

// "https://Host:1" → "host:1" (scheme dropped, lowercased); "" when not http(s).
std::string origin_authority(std::string_view origin) {
  std::string_view rest;
  if (origin.substr(0, 7) == "http://") {
    rest = origin.substr(7);
  } else if (origin.substr(0, 8) == "https://") {
    rest = origin.substr(8);
  } else {
    return {};
  }
  std::string out(rest.substr(0, rest.find('/')));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool listed(const std::string& origin, const std::vector<std::string>& allowed) {
  for (const auto& a : allowed) {
    if (a == "*" || iequals(a, origin)) return true;
  }
  return false;
}

}  // namespace

bool origin_allowed(const HttpRequest& request, const std::vector<std::string>& allowed) {
  if (!request.has_header("Origin")) return true;
  std::string origin = request.header("Origin");
  if (listed(origin, allowed)) return true;
  std::string host = request.header("Host");
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string authority = origin_authority(origin);
  if (authority.empty() || host.empty()) return false;
  if (authority == host) return true;
  // Default ports may be implicit on one side only.
  auto strip = [](const std::string& a, std::string_view port) {
    return a.size() > port.size() && a.compare(a.size() - port.size(), port.size(), port) == 0
               ? a.substr(0, a.size() - port.size())
               : a;
  };
  bool https = origin.rfind("https://", 0) == 0;
  std::string_view port = https ? ":443" : ":80";
  return strip(authority, port) == strip(host, port);
}

std::vector<std::pair<std::string, std::string>> cors_headers(
    const HttpRequest& request, const std::vector<std::string>& allowed) {
  std::string origin = request.header("Origin");
  if (origin.empty() || !listed(origin, allowed)) return {};
  // Never "*": the SignalR browser client sends credentials.
  return {{"Access-Control-Allow-Origin", origin},
          {"Access-Control-Allow-Credentials", "true"},
          {"Vary", "Origin"}};
}

HttpResponse preflight_response(const HttpRequest& request,
                                const std::vector<std::string>& allowed) {
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  r.headers = cors_headers(request, allowed);
  if (r.headers.empty()) return r;  // not allowed: no CORS headers, the browser refuses
  r.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
  std::string asked = request.header("Access-Control-Request-Headers");
  r.headers.emplace_back("Access-Control-Allow-Headers",
                         asked.empty() ? "authorization, content-type, x-requested-with, "
                                         "x-signalr-user-agent"
                                       : asked);
  r.headers.emplace_back("Access-Control-Max-Age", "600");
  return r;
}

Result<UpgradeGrant> check_upgrade(const HttpRequest& request, const core::TokenSigner& signer,
                                   const std::vector<std::string>& allowed_origins,
                                   std::int64_t now_ms, int* status) {
  auto token = request_token(request, true);
  if (!token) {
    *status = 401;
    return make_error("Unauthorized");
  }
  auto login = signer.verify(*token, core::TokenKind::login, now_ms);
  if (!login) {
    *status = 401;
    return make_error("Unauthorized");
  }
  if (!origin_allowed(request, allowed_origins)) {
    *status = 403;
    return make_error("Origin not allowed");
  }
  UpgradeGrant grant;
  grant.player = login->name;
  auto id = request.query_param("id");
  if (!id) {
    grant.connection_id = new_connection_id();  // skipNegotiation
    return grant;
  }
  auto conn = signer.verify(*id, core::TokenKind::connection, now_ms);
  if (!conn || conn->name != login->name) {
    *status = 404;
    return make_error("No Connection with that ID");
  }
  grant.connection_id = conn->connection_id;
  return grant;
}

}  // namespace clickrace::gateway
