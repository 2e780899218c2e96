#include "clickrace/redis/cluster_redirect.hpp"

#include <charconv>
#include <string_view>

#include "clickrace/redis/errors.hpp"

namespace clickrace::redis::cluster {

std::optional<Redirect> parse_redirect(const Reply& reply, const NodeAddress& from) {
  Redirect r;
  if (reply.is_error_code("MOVED")) {
    r.ask = false;
  } else if (reply.is_error_code("ASK")) {
    r.ask = true;
  } else {
    return std::nullopt;
  }
  std::string_view text = reply.str();
  auto sp1 = text.find(' ');
  auto sp2 = text.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return std::nullopt;
  std::string_view slot = text.substr(sp1 + 1, sp2 - sp1 - 1);
  auto [end, ec] = std::from_chars(slot.data(), slot.data() + slot.size(), r.slot);
  if (slot.empty() || ec != std::errc() || end != slot.data() + slot.size() || r.slot < 0 ||
      r.slot >= kSlotCount) {
    return std::nullopt;
  }
  auto to = parse_address(text.substr(sp2 + 1));
  if (!to) return std::nullopt;
  r.to = std::move(*to);
  if (r.to.host.empty()) r.to.host = from.host;
  return r;
}

Decision decide(const Result<Reply>& outcome, const NodeAddress& from, bool idempotent) {
  Decision d;
  if (!outcome.ok()) {
    const std::string& m = outcome.error().message;
    if (m == kErrNotConnected) {
      d.next = Next::retry;
      d.refresh = true;
    } else if (m == kErrConnectionLost || m == kErrTimeout) {
      d.next = idempotent ? Next::retry : Next::deliver;
      d.refresh = true;
    }
    return d;
  }
  const Reply& reply = *outcome;
  if (!reply.is_error()) return d;
  if (auto r = parse_redirect(reply, from)) {
    d.next = r->ask ? Next::ask : Next::moved;
    d.refresh = !r->ask;
    d.redirect = std::move(r);
  } else if (reply.is_error_code("TRYAGAIN") || reply.is_error_code("LOADING")) {
    d.next = Next::retry;
  } else if (reply.is_error_code("CLUSTERDOWN") || reply.is_error_code("READONLY") ||
             reply.is_error_code("MASTERDOWN")) {
    d.next = Next::retry;
    d.refresh = true;
  }
  return d;
}

}  // namespace clickrace::redis::cluster
