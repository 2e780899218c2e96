#pragma once
#include <string>
#include <string_view>

#include "clickrace/core/result.hpp"

// Hub URLs as the official client treats them: the user gives the http(s) URL of the hub; the
// negotiate request goes to <path>/negotiate and the WebSocket to the same path with ws(s).
namespace clickrace::client {

struct HttpUrl {
  bool tls = false;  // https / wss
  std::string host;  // without brackets
  int port = 80;
  std::string path;   // starts with '/', never empty
  std::string query;  // without '?', may be empty

  // "http://host:port" — what an HTTP client is pointed at.
  std::string origin() const;
  // path[?query]
  std::string target() const;
};

// Accepts http, https, ws and wss URLs. Errors: no scheme, unknown scheme, no host, bad port.
Result<HttpUrl> parse_url(std::string_view url);

// POST target of the negotiate request: <path>/negotiate?<query>&negotiateVersion=1.
std::string negotiate_target(const HttpUrl& hub);
// ws(s)://host:port<path>?<query>&id=<connection_token> (no id when the token is empty).
std::string websocket_url(const HttpUrl& hub, std::string_view connection_token);

}  // namespace clickrace::client
