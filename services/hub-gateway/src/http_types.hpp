#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Transport-free HTTP request/response values: the websocketpp adapter fills them in, routes and
// tests use them without a socket.
namespace clickrace::gateway {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query
  std::string query;   // raw query text (may carry access_token: never log it, see redact_query)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;  // the peer's IP, for rate limits

  // Case-insensitive header lookup; "" when absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  // Case-insensitive query key, percent-decoded value; nullopt when absent.
  std::optional<std::string> query_param(std::string_view key) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static HttpResponse json(int status, std::string body);
  // {"error":"<message>"} with the message JSON-escaped.
  static HttpResponse error(int status, std::string_view message);
  static HttpResponse text(int status, std::string body);
};

// Splits "path?query" into its parts.
std::pair<std::string, std::string> split_target(std::string_view target);
// Percent-decoding ('+' becomes a space). Malformed escapes are kept literally.
std::string percent_decode(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

}  // namespace clickrace::gateway
