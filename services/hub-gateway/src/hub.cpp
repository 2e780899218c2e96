#include "hub.hpp"

#include <chrono>

#include "clickrace/core/clock.hpp"
#include "clickrace/core/log.hpp"
#include "clickrace/signalr/handshake.hpp"
#include "hub_constants.hpp"
#include "hub_dispatch.hpp"

namespace clickrace::gateway {
using namespace hub_constants;

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
    // Gone or closing meanwhile (a Close started after the upgrade was accepted): cut the
    // socket, so the client falls back at once instead of waiting out its server timeout.
    if (c == conns_.end() || !c->second->resumable || c->second->closing) {
      return server_->abort(id);
    }
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

}  // namespace clickrace::gateway
