#pragma once
#include <cstdint>
#include <string>
#include <string_view>

// Blocking helpers for the set-up and measurement side channels (accounts, /metrics, Redis INFO):
// one short TCP exchange each, with socket timeouts. Never used on the hot path.
namespace clickrace::bench {

struct Endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string url() const { return "http://" + host + ":" + std::to_string(port); }
};

// "http://127.0.0.1:8080[/...]" → host and port. Returns false on anything else.
bool parse_http_url(std::string_view url, Endpoint& out);

struct HttpResponse {
  int status = 0;  // 0: transport failure, see `error`
  std::string body;
  std::string error;
};

// One request with `Connection: close`; `body` sent as application/json when not empty.
HttpResponse http_request(const Endpoint& ep, std::string_view method, std::string_view target,
                          std::string_view body, std::string_view bearer_token = {},
                          int timeout_ms = 10000);

// Sends one RESP command (space-separated words, no quoting) and returns the raw bulk string
// reply, or an empty string on failure.
std::string redis_command(const Endpoint& ep, std::string_view words, int timeout_ms = 5000);

// Parses an HTTP/1.1 response head: status code and Content-Length (-1 if absent).
// Returns the offset of the body, or npos while the head is incomplete.
std::size_t parse_response_head(std::string_view data, int& status, long& content_length);

}  // namespace clickrace::bench
