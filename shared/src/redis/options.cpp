#include "clickrace/redis/options.hpp"

#include <charconv>

namespace clickrace::redis {
namespace {

bool parse_int(std::string_view s, int min, int max, int& out) {
  if (s.empty()) return false;
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < min || v > max) return false;
  out = v;
  return true;
}

}  // namespace

Result<Options> parse_url(std::string_view url) { return parse_url(url, Options{}); }

Result<Options> parse_url(std::string_view url, Options o) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return make_error("redis url must start with redis://");
  }
  std::string_view rest = url.substr(kScheme.size());

  // The password may contain '@' or '/': the userinfo ends at the last '@'.
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) return make_error("redis url: userinfo needs ':password'");
    o.username = std::string(userinfo.substr(0, colon));
    o.password = std::string(userinfo.substr(colon + 1));
  }

  std::string_view hostport = rest;
  std::string_view path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }

  std::string_view host = hostport;
  std::string_view port;
  if (!hostport.empty() && hostport.front() == '[') {  // [IPv6]:port
    auto close = hostport.find(']');
    if (close == std::string_view::npos) return make_error("redis url: unterminated [ipv6]");
    host = hostport.substr(1, close - 1);
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return make_error("redis url: junk after ]");
      port = after.substr(1);
      if (port.empty()) return make_error("redis url: empty port");
    }
  } else if (auto colon = hostport.rfind(':'); colon != std::string_view::npos) {
    host = hostport.substr(0, colon);
    port = hostport.substr(colon + 1);
    if (port.empty()) return make_error("redis url: empty port");
  }
  if (host.empty()) return make_error("redis url: missing host");
  o.host = std::string(host);
  o.port = 6379;
  if (!port.empty() && !parse_int(port, 1, 65535, o.port)) {
    return make_error("redis url: bad port");
  }
  o.db = 0;
  if (!path.empty() && !parse_int(path, 0, 1 << 20, o.db)) {
    return make_error("redis url: bad database number");
  }
  return o;
}

}  // namespace clickrace::redis
