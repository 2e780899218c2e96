#include "hub.hpp"

#include <chrono>

#include "clickrace/core/clock.hpp"
#include "clickrace/core/log.hpp"
#include "clickrace/signalr/handshake.hpp"
#include "hub_dispatch.hpp"

namespace clickrace::gateway {
namespace {
constexpr std::string_view kHandshakeCanceled = "Handshake was canceled.";
constexpr std::string_view kClosedWithError = "Connection closed with an error.";
constexpr std::uint16_t kCloseNormal = 1000;
constexpr std::uint16_t kCloseProtocolError = 1002;
constexpr std::uint16_t kCloseTooBig = 1009;
constexpr int kMaxGetRoundInFlight = 4;
constexpr const char* kShuttingDownError = "server shutting down";
}  // namespace

Hub::Hub(asio::io_context& io, const Options& options, Metrics& metrics, Rounds& rounds)
    : io_(io), options_(options), metrics_(metrics), rounds_(rounds), timer_(io) {}

Hub::~Hub() = default;

void Hub::attach(WsServer* server, ClickBatcher* batcher, PlayerSessions* sessions) {
  server_ = server;
  batcher_ = batcher;
  sessions_ = sessions;
}

std::int64_t Hub::now() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

void Hub::reserve(ConnId id, std::string player, std::string connection_id, bool negotiated) {
  connection_ids_.insert(connection_id);
  reserved_[id] = Reserved{std::move(player), std::move(connection_id), negotiated, 0};
}

bool Hub::connection_id_in_use(const std::string& connection_id) const {
  return connection_ids_.count(connection_id) != 0;
}

Connection* Hub::find_socket(ConnId socket) {
  if (auto it = conns_.find(socket); it != conns_.end() && it->second->socket == socket) {
    return it->second.get();
  }
  if (auto r = resumed_sockets_.find(socket); r != resumed_sockets_.end()) {
    if (auto it = conns_.find(r->second); it != conns_.end()) return it->second.get();
  }
  return nullptr;
}

void Hub::on_open(ConnId id) {
  auto it = reserved_.find(id);
  if (it == reserved_.end()) return;
  Reserved r = std::move(it->second);
  reserved_.erase(it);
  if (r.resume != 0) {
    auto c = conns_.find(r.resume);
    if (c == conns_.end() || !c->second->resumable) return server_->abort(id);  // gone meanwhile
    return resume(*c->second, id);
  }
  auto c = std::make_unique<Connection>(id, std::move(r.player), std::move(r.connection_id),
                                        static_cast<std::size_t>(options_.max_message_bytes),
                                        static_cast<double>(options_.max_clicks_per_s), now());
  c->negotiated = r.negotiated;
  ++metrics_.connections;
  ++metrics_.connections_total;
  sessions_->opened(id, c->player, c->connection_id);
  conns_.emplace(id, std::move(c));
}

void Hub::on_close(ConnId id) {
  if (auto r = reserved_.find(id); r != reserved_.end()) {
    if (r->second.resume == 0) connection_ids_.erase(r->second.connection_id);
    reserved_.erase(r);
    return;
  }
  Connection* c = find_socket(id);
  if (c == nullptr) return;
  // A stateful connection whose socket dropped (no Close either way) waits for its client.
  if (c->resumable && !c->closing) return detach(*c);
  destroy(*c);
}

void Hub::destroy(Connection& c) {
  if (c.socket != 0) {
    --metrics_.connections;
    resumed_sockets_.erase(c.socket);
  }
  connection_ids_.erase(c.connection_id);
  if (c.resumable) {
    resumable_.erase(c.connection_id);
    remember_lost(c.connection_id);
  }
  const ConnId key = c.id;  // a copy: erasing destroys `c`
  sessions_->closed(key);
  conns_.erase(key);  // pending click outcomes for it are dropped in deliver()
}

void Hub::evict(ConnId id) {
  auto it = conns_.find(id);
  if (it == conns_.end() || it->second->evicted) return;
  Connection& c = *it->second;
  CR_LOG(info) << "closing " << c.connection_id
               << ": its account opened a newer connection beyond the cap";
  // No new clicks; the Close waits for the outcomes of the clicks already sent to Redis, so
  // every click that counts is acknowledged first (invariant 1).
  c.evicted = true;
  if (c.clicks_in_flight == 0) close_evicted(c);
}

std::string Hub::eviction_reason() const {
  return "this account opened a newer connection elsewhere (at most " +
         std::to_string(sessions_->cap()) + " at once)";
}

void Hub::close_evicted(Connection& c) {
  if (c.socket == 0) return destroy(c);  // detached: nobody to tell; its reconnect gets 404
  close_with(c, eviction_reason(), false, kCloseNormal);
}

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

void Hub::on_message(ConnId id, std::string_view payload) {
  Connection* found = find_socket(id);
  if (found == nullptr) return;
  Connection& c = *found;
  if (c.closing) return;
  std::int64_t t = now();
  // Past its client timeout the connection is dead by the protocol; tick() just has not run yet
  // (the gateway was stopped or starved, and what is read now was buffered meanwhile). Its client
  // has given up on what it sent and reconnected, so none of it is executed: counting those
  // clicks would store clicks nobody is ever told about.
  if (c.handshaken && t - c.last_received_ms >= options_.client_timeout_ms) {
    ++metrics_.clients_timed_out;
    close_with(c, kClosedWithError, true, kCloseNormal);
    return;
  }
  c.last_received_ms = t;
  auto framing_error = [&](const std::string& why) {
    ++metrics_.protocol_errors;
    if (!c.handshaken) {
      ++metrics_.handshakes_failed;
      send_text(c, signalr::handshake_error_frame(kHandshakeCanceled));
      c.closing = true;
      server_->close(c.socket, kCloseTooBig, "");
    } else {
      close_with(c, std::string(kClosedWithError) + " " + why, true, kCloseTooBig);
    }
  };
  // The handshake is a JSON record whatever the protocol; what follows it in the same message is
  // framed by the protocol it chose. Binary and text WebSocket messages are read as one byte
  // stream, as .NET does.
  if (!c.handshaken) {
    // A stateful reconnect of a connection this gateway does not hold: end the socket so the
    // client retries once more, which then gets 404 and starts a new connection.
    if (c.negotiated && std::get<signalr::RecordReader>(c.reader).buffered() == 0 &&
        is_resume_attempt(payload)) {
      ++metrics_.reconnects_refused;
      remember_lost(c.connection_id);
      c.closing = true;
      return server_->abort(c.socket);
    }
    auto handshake = read_handshake(c.reader, payload);
    if (!handshake) return framing_error(handshake.error().message);
    if (!*handshake) return;  // incomplete
    handle_handshake(c, (*handshake)->record);
    if (c.closing) return;
    payload.remove_prefix((*handshake)->used);
    if (payload.empty()) return;
  }
  auto each = [&](std::string_view body) {
    handle_message(c, body);
    return !c.closing;
  };
  auto framed = c.protocol->for_each_message(c.reader, payload, each);
  if (!framed) framing_error(framed.error().message);
}

void Hub::handle_handshake(Connection& c, std::string_view record) {
  auto negotiated = signalr::negotiate_handshake(record);
  if (!negotiated) {
    ++metrics_.handshakes_failed;
    send_text(c, signalr::handshake_error_frame(negotiated.error().message));
    c.closing = true;
    server_->close(c.socket, kCloseNormal, "");
    return;
  }
  ++metrics_.handshakes_ok;
  c.handshaken = true;
  c.protocol = &protocol_for(negotiated->protocol);
  c.reader = c.protocol->make_reader(static_cast<std::size_t>(options_.max_message_bytes));
  // Version 2 after a negotiate that offered it: the client numbers, acknowledges and replays.
  if (negotiated->version >= 2 && c.negotiated && options_.stateful_reconnect) {
    c.resumable = std::make_unique<Connection::Resumable>(
        static_cast<std::size_t>(options_.reconnect_buffer_bytes));
    resumable_[c.connection_id] = c.id;
  }
  send_text(c, signalr::kHandshakeSuccessFrame);
}

void Hub::handle_message(Connection& c, std::string_view body) {
  const HubProtocol& protocol = *c.protocol;
  Connection::Resumable* r = c.resumable.get();
  // Most messages are Click invocations: recognized without a DOM. One the client replays after a
  // reconnect was executed already (its completion is in our replay): skipped.
  if (auto click = protocol.fast_click(body)) {
    if (r != nullptr && !r->in.accept()) return;
    return on_click(c, click->invocation_id);
  }
  auto message = protocol.parse(body);
  if (!message) {
    ++metrics_.protocol_errors;
    // As .NET: an unparseable message ends the connection with an error Close.
    close_with(c,
               std::string(kClosedWithError) + " InvalidDataException: " + message.error().message,
               true, kCloseProtocolError);
    return;
  }
  if (r != nullptr) {
    if (trackable(*message) && !r->in.accept()) return;
    if (auto* ack = std::get_if<signalr::AckMessage>(&*message))
      return r->out.ack(ack->sequence_id);
    if (auto* seq = std::get_if<signalr::SequenceMessage>(&*message)) {
      if (r->in.reset(seq->sequence_id)) return;
      ++metrics_.protocol_errors;
      return close_with(c, "Sequence ID greater than amount of messages we've received.", false,
                        kCloseProtocolError);
    }
  }
  HubAction action = decide(*message);
  switch (action.kind) {
    case HubAction::Kind::ignore:
      return;
    case HubAction::Kind::close:
      c.closing = true;
      server_->close(c.socket, kCloseNormal, "");
      return;
    case HubAction::Kind::reply_error: {
      std::string out;
      protocol.completion_error(out, *action.invocation_id, action.error);
      return send_tracked(c, std::move(out));
    }
    case HubAction::Kind::call:
      if (action.method == HubMethod::click) return on_click(c, action.invocation_id);
      return on_get_round(c, *action.invocation_id);
  }
}

void Hub::on_click(Connection& c, const std::optional<std::string>& invocation_id) {
  auto reject = [&](const std::string& text) {
    ++metrics_.clicks_rejected;
    if (!invocation_id) return;
    std::string out;
    c.protocol->completion_error(out, *invocation_id, text);
    send_tracked(c, std::move(out));
  };
  if (clicks_stopped_) return reject(kShuttingDownError);
  if (c.evicted) return reject(eviction_reason());
  if (!c.clicks.try_take(now())) {  // monotonic, like the bucket's start
    return reject(rate_limit_error(options_.max_clicks_per_s));
  }
  if (auto err = batcher_->add(ClickRequest{c.id, c.player, invocation_id})) return reject(*err);
  ++c.clicks_in_flight;
}

void Hub::on_get_round(Connection& c, const std::string& invocation_id) {
  if (c.get_round_in_flight >= kMaxGetRoundInFlight) {
    std::string out;
    c.protocol->completion_error(out, invocation_id, "too many requests");
    return send_tracked(c, std::move(out));
  }
  ++c.get_round_in_flight;
  ConnId id = c.id;
  rounds_.current(
      core::SystemClock::instance().now_ms(), c.player,
      [this, id, invocation_id, alive = std::weak_ptr<char>(alive_)](Result<std::string> body) {
        if (alive.expired()) return;
        auto it = conns_.find(id);
        if (it == conns_.end()) return;
        Connection& conn = *it->second;
        --conn.get_round_in_flight;
        std::string out;
        if (body) {
          conn.protocol->completion_result(out, invocation_id, *body);
        } else {
          conn.protocol->completion_error(out, invocation_id, body.error().message);
        }
        send_tracked(conn, std::move(out));
      });
}

void Hub::deliver(std::vector<ClickOutcome>& outcomes) {
  // Group per connection so k completions for one client travel as one WebSocket message.
  struct Batch {
    std::string bytes;
    std::uint32_t count = 0;
  };
  std::unordered_map<ConnId, Batch> out;
  std::vector<ConnId> evicted_done;  // ids: sending may destroy a connection
  for (auto& o : outcomes) {
    if (auto it = conns_.find(o.caller); it != conns_.end()) {
      Connection& c = *it->second;
      if (--c.clicks_in_flight == 0 && c.evicted) evicted_done.push_back(c.id);
    }
    if (!o.invocation_id) continue;
    auto it = conns_.find(o.caller);
    if (it == conns_.end()) continue;  // gone: its outcomes are dropped
    const HubProtocol& protocol = *it->second->protocol;
    Batch& batch = out[o.caller];
    ++batch.count;
    std::string& buf = batch.bytes;
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
