// What the hub sends: single frames and Close, click completions, broadcasts built once per
// protocol, and the one keep-alive timer (handshake deadline, idle ping, silent-client drop).
// The other half of Hub (hub.cpp: connections, inbound messages, calls).
#include <chrono>

#include "clickrace/core/log.hpp"
#include "hub.hpp"
#include "hub_constants.hpp"

namespace clickrace::gateway {
using namespace hub_constants;
void Hub::send(Connection& c, std::string_view bytes) {
  if (c.closing) return;
  c.last_sent_ms = now();
  if (c.socket == 0) return;
  if (server_->send(c.socket, bytes, c.protocol->binary()) == SendResult::dropped_slow) {
    c.closing = true;
    ++metrics_.slow_clients_dropped;
    CR_LOG(info) << "dropped slow client " << c.connection_id;
  }
}

void Hub::send_text(Connection& c, std::string_view text) {
  if (c.closing || c.socket == 0) return;
  c.last_sent_ms = now();
  server_->send(c.socket, text, false);
}

void Hub::close_with(Connection& c, std::optional<std::string_view> error, bool allow_reconnect,
                     std::uint16_t code) {
  if (c.closing) return;
  std::string frame;
  c.protocol->close(frame, error, allow_reconnect);
  send(c, frame);
  c.closing = true;
  if (c.socket != 0) server_->close(c.socket, code, "");
}

namespace {
constexpr std::size_t kCompletionBytes = 128;
}  // namespace

void Hub::deliver(std::vector<ClickOutcome>& outcomes) {
  // Group per connection so k completions for one client travel as one WebSocket message.
  struct Batch {
    std::string bytes;
    std::uint32_t count = 0;
  };
  std::unordered_map<ConnId, Batch> out;
  out.reserve(outcomes.size());
  std::vector<ConnId> evicted_done;  // ids: sending may destroy a connection
  for (auto& o : outcomes) {
    auto it = conns_.find(o.caller);
    if (it == conns_.end()) continue;  // gone: its outcomes are dropped
    Connection& c = *it->second;
    if (--c.clicks_in_flight == 0 && c.evicted) evicted_done.push_back(c.id);
    if (!o.invocation_id) continue;
    const HubProtocol& protocol = *c.protocol;
    Batch& batch = out[o.caller];
    ++batch.count;
    std::string& buf = batch.bytes;
    // One allocation for a connection's completions, not one per append as the string grows
    // (a Click completion is ~70 bytes; most connections get one per batch).
    if (buf.empty()) buf.reserve(kCompletionBytes);
    if (o.result) {
      protocol.click_completion(buf, *o.invocation_id, *o.result);
    } else {
      protocol.completion_error(buf, *o.invocation_id, o.result.error().message);
    }
  }
  for (auto& [id, batch] : out) {
    auto it = conns_.find(id);
    if (it != conns_.end()) send_tracked(*it->second, std::move(batch.bytes), batch.count);
  }
  for (ConnId id : evicted_done) {
    if (auto it = conns_.find(id); it != conns_.end()) close_evicted(*it->second);
  }
}

void Hub::broadcast(std::string_view target, std::string_view json_argument) {
  // One frame per protocol, built on first use: no MessagePack work without MessagePack clients.
  // Stateful connections keep the same bytes (shared) until the client acknowledges them.
  struct Built {
    std::shared_ptr<const std::string> bytes;
    PreparedFrame frame;
  };
  Built built[2];
  auto build = [&](const HubProtocol& protocol) -> const Built& {
    Built& b = built[protocol.binary() ? 1 : 0];
    if (!b.bytes) {
      auto bytes = std::make_shared<std::string>();
      protocol.event(*bytes, target, json_argument);
      b.frame = WsServer::prepare(*bytes, protocol.binary());
      b.bytes = std::move(bytes);
    }
    return b;
  };
  std::int64_t t = now();
  std::vector<Connection*> slow, overflowed;
  for (auto& [id, c] : conns_) {
    if (!c->handshaken || c->closing) continue;
    const Built& b = build(*c->protocol);
    if (c->resumable && !c->resumable->out.record(b.bytes, 1)) {
      overflowed.push_back(c.get());
      continue;
    }
    if (c->socket == 0) continue;  // detached: replayed when its client is back
    c->last_sent_ms = t;
    SendResult r = server_->send(c->socket, b.frame);
    if (r == SendResult::ok) {
      ++metrics_.events_broadcast;
    } else if (r == SendResult::dropped_slow) {
      slow.push_back(c.get());
    }
  }
  for (Connection* c : slow) {
    c->closing = true;
    ++metrics_.slow_clients_dropped;
  }
  for (Connection* c : overflowed) on_overflow(*c);
}

void Hub::start_keepalive() {
  auto smallest =
      std::min({options_.keepalive_ms, options_.client_timeout_ms, options_.handshake_timeout_ms});
  auto period = std::max<std::int64_t>(20, std::min<std::int64_t>(1000, smallest / 4));
  timer_.expires_after(std::chrono::milliseconds(period));
  timer_.async_wait([this, alive = std::weak_ptr<char>(alive_)](const asio::error_code& ec) {
    if (ec || alive.expired()) return;
    tick();
    start_keepalive();
  });
}

// One timer for all connections (not one per connection): handshake deadline, idle ping,
// silent-client drop.
void Hub::tick() {
  std::int64_t t = now();
  std::vector<Connection*> expired_handshake, silent, idle, detached_expired;
  tick_resumable(t, detached_expired);
  for (auto& [id, c] : conns_) {
    if (c->closing || c->socket == 0) continue;
    if (!c->handshaken) {
      if (t - c->opened_ms >= options_.handshake_timeout_ms) expired_handshake.push_back(c.get());
    } else if (t - c->last_received_ms >= options_.client_timeout_ms) {
      silent.push_back(c.get());
    } else if (t - c->last_sent_ms >= options_.keepalive_ms) {
      idle.push_back(c.get());
    }
  }
  for (Connection* c : expired_handshake) {
    ++metrics_.handshakes_failed;
    ++metrics_.clients_timed_out;
    send_text(*c, signalr::handshake_error_frame(kHandshakeCanceled));
    c->closing = true;
    server_->close(c->socket, kCloseNormal, "");
  }
  for (Connection* c : silent) {
    ++metrics_.clients_timed_out;
    close_with(*c, kClosedWithError, true, kCloseNormal);
  }
  for (Connection* c : idle) send(*c, c->protocol->ping());
  for (Connection* c : detached_expired) {
    ++metrics_.reconnects_expired;
    destroy(*c);
  }
}

void Hub::close_all_for_shutdown() {
  std::vector<Connection*> detached;
  for (auto& [id, c] : conns_) {
    if (c->closing) continue;
    if (c->socket == 0) {  // its client's reconnect will find no gateway here: a new connection
      detached.push_back(c.get());
      continue;
    }
    if (c->handshaken) {
      std::string frame;
      c->protocol->close(frame, std::nullopt, true);
      send(*c, frame);
    }
    c->closing = true;
    server_->close(c->socket, kCloseNormal, "server shutting down");
  }
  for (Connection* c : detached) destroy(*c);
  timer_.cancel();
}

}  // namespace clickrace::gateway
