// Stateful reconnect in the hub (signalr-protocol.md §9): a stateful connection whose socket drops
// without a Close is detached, not destroyed; a new socket presenting its connection token within
// the window resumes it (same player, rate limit, pending invocations): we announce our Sequence,
// replay what the client has not acknowledged, and skip what it replays that we already ran.
#include "clickrace/core/log.hpp"
#include "hub.hpp"

namespace clickrace::gateway {
namespace {
// Connection ids remembered as lost, for the 404 a late reconnect needs; beyond this the oldest
// are forgotten (their reconnect is then refused when it sends its Sequence, one retry later).
constexpr std::size_t kMaxLost = 65536;
constexpr std::string_view kBufferFull = "Connection closed with an error. Reconnect buffer full.";
}  // namespace

bool Hub::resumable(const std::string& connection_id, const std::string& player) const {
  auto it = resumable_.find(connection_id);
  if (it == resumable_.end()) return false;
  auto c = conns_.find(it->second);
  return c != conns_.end() && !c->second->closing && c->second->player == player;
}

void Hub::reserve_resume(ConnId socket, const std::string& connection_id) {
  Reserved r;
  r.resume = resumable_.at(connection_id);
  reserved_[socket] = std::move(r);
}

bool Hub::lost(const std::string& connection_id) {
  auto it = lost_.find(connection_id);
  if (it == lost_.end()) return false;
  if (it->second > now()) return true;
  lost_.erase(it);
  return false;
}

void Hub::remember_lost(const std::string& connection_id) {
  // The connection token is refused anyway once it expires (negotiate → upgrade window).
  lost_[connection_id] = now() + options_.connection_token_ttl_ms;
  lost_order_.push_back(connection_id);
  while (lost_order_.size() > kMaxLost) {
    lost_.erase(lost_order_.front());
    lost_order_.pop_front();
  }
}

void Hub::detach(Connection& c) {
  --metrics_.connections;
  resumed_sockets_.erase(c.socket);
  c.socket = 0;
  c.resumable->detached_ms = now();
  CR_LOG(debug) << "connection " << c.connection_id << " detached; waiting "
                << options_.reconnect_window_ms << " ms for its client";
}

void Hub::resume(Connection& c, ConnId socket) {
  if (c.socket != 0) {
    // The client saw the old socket die before we did (a half-open TCP connection): drop it.
    resumed_sockets_.erase(c.socket);
    server_->abort(c.socket);
  } else {
    ++metrics_.connections;
  }
  ++metrics_.reconnects_resumed;
  c.socket = socket;
  if (socket != c.id) resumed_sockets_[socket] = c.id;
  // A message half-read from the old socket is gone with it: the client replays it.
  c.reader = c.protocol->make_reader(static_cast<std::size_t>(options_.max_message_bytes));
  c.last_received_ms = c.last_sent_ms = now();
  Connection::Resumable& r = *c.resumable;
  r.in.ack_again();
  // The client ignores everything until our Sequence; then the replay, in one message.
  std::string out;
  c.protocol->sequence(out, r.out.resend_from());
  r.out.for_each([&](std::string_view bytes) { out.append(bytes); });
  send(c, out);
}

void Hub::send_tracked(Connection& c, std::string bytes, std::uint32_t count) {
  if (c.closing) return;
  if (c.resumable) {
    auto shared = std::make_shared<const std::string>(std::move(bytes));
    if (!c.resumable->out.record(shared, count)) return on_overflow(c);
    if (c.socket != 0) send(c, *shared);
    return;
  }
  send(c, bytes);
}

void Hub::on_overflow(Connection& c) {
  ++metrics_.reconnects_overflowed;
  CR_LOG(info) << "connection " << c.connection_id << ": replay buffer over "
               << options_.reconnect_buffer_bytes << " bytes; it can no longer be resumed";
  if (c.socket == 0) return destroy(c);  // its reconnect gets 404 and starts a new connection
  // Attached (the client is not acknowledging): Close, and the client reconnects anew.
  close_with(c, kBufferFull, true, 1000);
}

// Acks due, and detached connections whose window has passed (destroyed by the caller).
void Hub::tick_resumable(std::int64_t t, std::vector<Connection*>& expired) {
  if (resumable_.empty()) return;
  for (const auto& [cid, key] : resumable_) {
    auto it = conns_.find(key);
    if (it == conns_.end()) continue;
    Connection& c = *it->second;
    Connection::Resumable& r = *c.resumable;
    if (c.socket == 0) {
      if (t - r.detached_ms >= options_.reconnect_window_ms) expired.push_back(&c);
      continue;
    }
    if (!c.closing && r.in.ack_due()) {
      std::string out;
      c.protocol->ack(out, r.in.take_ack());
      send(c, out);
    }
  }
}

}  // namespace clickrace::gateway
