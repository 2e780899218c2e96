#include "clickrace/client/url.hpp"

#include <cctype>

#include "clickrace/core/config.hpp"

namespace clickrace::client {
namespace {

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

std::string with_param(const std::string& query, std::string_view param) {
  if (query.empty()) return std::string(param);
  return query + "&" + std::string(param);
}

}  // namespace

std::string HttpUrl::origin() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return std::string(tls ? "https://" : "http://") + h + ":" + std::to_string(port);
}

std::string HttpUrl::target() const { return query.empty() ? path : path + "?" + query; }

Result<HttpUrl> parse_url(std::string_view url) {
  HttpUrl out;
  std::string_view rest;
  if (iequals_prefix(url, "https://")) {
    out.tls = true, rest = url.substr(8);
  } else if (iequals_prefix(url, "http://")) {
    rest = url.substr(7);
  } else if (iequals_prefix(url, "wss://")) {
    out.tls = true, rest = url.substr(6);
  } else if (iequals_prefix(url, "ws://")) {
    rest = url.substr(5);
  } else {
    return make_error("URL must start with http://, https://, ws:// or wss://");
  }
  out.port = out.tls ? 443 : 80;

  std::size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) {
    return make_error("URL must not carry credentials");
  }

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return make_error("URL has a bad IPv6 host");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return make_error("URL has a bad host");
      port_text = after.substr(1);
    }
  } else {
    std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return make_error("URL has no host");
  if (!port_text.empty()) {
    auto port = core::parse_int(std::string(port_text));
    if (!port || *port < 1 || *port > 65535) return make_error("URL has a bad port");
    out.port = static_cast<int>(*port);
  }

  std::size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  std::size_t q = rest.find('?');
  out.path = std::string(rest.substr(0, q));
  if (q != std::string_view::npos) out.query = std::string(rest.substr(q + 1));
  if (out.path.empty()) out.path = "/";
  return out;
}

std::string negotiate_target(const HttpUrl& hub) {
  std::string path = hub.path;
  if (path.back() != '/') path += '/';
  return path + "negotiate?" + with_param(hub.query, "negotiateVersion=1");
}

std::string websocket_url(const HttpUrl& hub, std::string_view connection_token) {
  std::string h = hub.host.find(':') != std::string::npos ? "[" + hub.host + "]" : hub.host;
  std::string url =
      std::string(hub.tls ? "wss://" : "ws://") + h + ":" + std::to_string(hub.port) + hub.path;
  std::string query = hub.query;
  if (!connection_token.empty()) {
    // Tokens are URL-safe by contract (the JS client does not encode them either).
    query = with_param(query, "id=" + std::string(connection_token));
  }
  if (!query.empty()) url += "?" + query;
  return url;
}

}  // namespace clickrace::client
