#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "clickrace/core/result.hpp"
#include "http_types.hpp"

// Which address a request comes from, for per-client limits (login attempts). Behind a load
// balancer the peer is always the balancer, so a limit keyed on it is site-wide. Only when the
// peer is a trusted proxy (CLICKRACE_TRUSTED_PROXIES) is the client taken from `X-Real-IP`, or
// else from the last hop of `X-Forwarded-For` (the one the proxy itself appended); from anyone
// else those headers are ignored, since a client can send them itself.
namespace clickrace::gateway {

class TrustedProxies {
 public:
  // Comma-separated addresses or CIDR blocks (IPv4 or IPv6): "127.0.0.1,::1,172.16.0.0/12".
  // Empty trusts nobody. Errors name the bad entry.
  static Result<TrustedProxies> parse(std::string_view list);
  bool contains(std::string_view address) const;
  bool empty() const { return nets_.empty(); }

 private:
  struct Net {
    std::array<std::uint8_t, 16> bytes{};  // IPv4 as IPv4-mapped IPv6
    int prefix = 128;
  };
  std::vector<Net> nets_;
};

// The client address for `request`: its peer, or what a trusted proxy says the client is.
std::string client_address(const HttpRequest& request, const TrustedProxies& trusted);

// Who a per-client limit counts: an IPv4 address itself ("203.0.113.5", also when written
// IPv4-mapped), an IPv6 address by its /64 ("2001:db8:1:2::/64"). A /64 is one subscriber's
// network (RFC 6177), and any host in it can pick fresh addresses at will: counted one by one,
// they would buy an attacker unlimited attempts. Text that is no address (never the case for a
// socket peer or a validated header) is kept, cut to 64 bytes, so a key is always small.
std::string client_limit_key(std::string_view address);

}  // namespace clickrace::gateway
