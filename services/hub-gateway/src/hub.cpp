#include "hub.hpp"

#include <chrono>

#include "click_codec.hpp"
#include "clickrace/core/clock.hpp"
#include "clickrace/core/log.hpp"
#include "clickrace/signalr/handshake.hpp"
#include "clickrace/signalr/json_codec.hpp"
#include "hub_dispatch.hpp"
#include "inbound_records.hpp"

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

void Hub::reserve(ConnId id, std::string player, std::string connection_id) {
  connection_ids_.insert(connection_id);
  reserved_[id] = Reserved{std::move(player), std::move(connection_id)};
}

bool Hub::connection_id_in_use(const std::string& connection_id) const {
  return connection_ids_.count(connection_id) != 0;
}

void Hub::on_open(ConnId id) {
  auto it = reserved_.find(id);
  if (it == reserved_.end()) return;
  auto c = std::make_unique<Connection>(id, std::move(it->second.player),
                                        std::move(it->second.connection_id),
                                        static_cast<std::size_t>(options_.max_message_bytes),
                                        static_cast<double>(options_.max_clicks_per_s), now());
  reserved_.erase(it);
  ++metrics_.connections;
  ++metrics_.connections_total;
  sessions_->opened(id, c->player, c->connection_id);
  conns_.emplace(id, std::move(c));
}

void Hub::on_close(ConnId id) {
  if (auto r = reserved_.find(id); r != reserved_.end()) {
    connection_ids_.erase(r->second.connection_id);
    reserved_.erase(r);
    return;
  }
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  connection_ids_.erase(it->second->connection_id);
  --metrics_.connections;
  sessions_->closed(id);
  conns_.erase(it);  // pending click outcomes for it are dropped in deliver()
}

void Hub::evict(ConnId id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  CR_LOG(info) << "closing " << it->second->connection_id
               << ": its account opened a newer connection beyond the cap";
  close_with(*it->second,
             "this account opened a newer connection elsewhere (at most " +
                 std::to_string(sessions_->cap()) + " at once)",
             false, kCloseNormal);
}

void Hub::send(Connection& c, std::string_view text) {
  if (c.closing) return;
  c.last_sent_ms = now();
  if (server_->send(c.id, text) == SendResult::dropped_slow) {
    c.closing = true;
    ++metrics_.slow_clients_dropped;
    CR_LOG(info) << "dropped slow client " << c.connection_id;
  }
}

void Hub::close_with(Connection& c, std::optional<std::string_view> error, bool allow_reconnect,
                     std::uint16_t code) {
  if (c.closing) return;
  send(c, signalr::close_frame(error, allow_reconnect));
  c.closing = true;
  server_->close(c.id, code, "");
}

void Hub::on_message(ConnId id, std::string_view payload) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Connection& c = *it->second;
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
  // Binary frames are read as the same byte stream as text ones, as .NET does.
  if (c.reader.buffered() == 0 && !c.reader.failed() &&
      whole_records(payload, c.reader.max_record_size())) {
    for_each_record(payload, [&](std::string_view record) {
      handle_record(c, record);
      return !c.closing;
    });
    return;
  }
  auto records = c.reader.feed(payload);
  if (!records) {
    ++metrics_.protocol_errors;
    if (!c.handshaken) {
      ++metrics_.handshakes_failed;
      send(c, signalr::handshake_error_frame(kHandshakeCanceled));
      c.closing = true;
      server_->close(c.id, kCloseTooBig, "");
    } else {
      close_with(c, std::string(kClosedWithError) + " " + records.error().message, true,
                 kCloseTooBig);
    }
    return;
  }
  for (const auto& record : *records) {
    if (c.closing) break;
    handle_record(c, record);
  }
}

void Hub::handle_record(Connection& c, std::string_view record) {
  if (!c.handshaken) {
    auto version = signalr::negotiate_handshake(record);
    if (!version) {
      ++metrics_.handshakes_failed;
      send(c, signalr::handshake_error_frame(version.error().message));
      c.closing = true;
      server_->close(c.id, kCloseNormal, "");
      return;
    }
    ++metrics_.handshakes_ok;
    c.handshaken = true;
    send(c, signalr::kHandshakeSuccessFrame);
    return;
  }
  // Most records are Click invocations: recognized without a JSON DOM.
  if (auto click = parse_fast_click(record)) return on_click(c, click->invocation_id);
  auto message = signalr::parse_message(record);
  if (!message) {
    ++metrics_.protocol_errors;
    // As .NET: an unparseable message ends the connection with an error Close.
    close_with(c,
               std::string(kClosedWithError) + " InvalidDataException: " + message.error().message,
               true, kCloseProtocolError);
    return;
  }
  HubAction action = decide(*message);
  switch (action.kind) {
    case HubAction::Kind::ignore:
      return;
    case HubAction::Kind::close:
      c.closing = true;
      server_->close(c.id, kCloseNormal, "");
      return;
    case HubAction::Kind::reply_error:
      send(c, signalr::completion_error(*action.invocation_id, action.error));
      return;
    case HubAction::Kind::call:
      if (action.method == HubMethod::click) return on_click(c, action.invocation_id);
      return on_get_round(c, *action.invocation_id);
  }
}

void Hub::on_click(Connection& c, const std::optional<std::string>& invocation_id) {
  auto reject = [&](const std::string& text) {
    ++metrics_.clicks_rejected;
    if (invocation_id) send(c, signalr::completion_error(*invocation_id, text));
  };
  if (clicks_stopped_) return reject(kShuttingDownError);
  if (!c.clicks.try_take(now())) {  // monotonic, like the bucket's start
    return reject(rate_limit_error(options_.max_clicks_per_s));
  }
  if (auto err = batcher_->add(ClickRequest{c.id, c.player, invocation_id})) reject(*err);
}

void Hub::on_get_round(Connection& c, const std::string& invocation_id) {
  if (c.get_round_in_flight >= kMaxGetRoundInFlight) {
    return send(c, signalr::completion_error(invocation_id, "too many requests"));
  }
  ++c.get_round_in_flight;
  ConnId id = c.id;
  rounds_.current(
      core::SystemClock::instance().now_ms(), c.player,
      [this, id, invocation_id, alive = std::weak_ptr<char>(alive_)](Result<std::string> body) {
        if (alive.expired()) return;
        auto it = conns_.find(id);
        if (it == conns_.end()) return;
        --it->second->get_round_in_flight;
        send(*it->second, body ? signalr::completion_result(invocation_id, *body)
                               : signalr::completion_error(invocation_id, body.error().message));
      });
}

void Hub::deliver(std::vector<ClickOutcome>& outcomes) {
  // Group per connection so k completions for one client travel as one WebSocket message.
  std::unordered_map<ConnId, std::string> out;
  for (auto& o : outcomes) {
    if (!o.invocation_id) continue;
    std::string& buf = out[o.caller];
    if (o.result) {
      append_click_completion(buf, *o.invocation_id, *o.result);
    } else {
      buf += signalr::completion_error(*o.invocation_id, o.result.error().message);
    }
  }
  for (auto& [id, text] : out) {
    auto it = conns_.find(id);
    if (it != conns_.end()) send(*it->second, text);
  }
}

void Hub::broadcast(const std::string& frame) {
  PreparedFrame prepared = WsServer::prepare(frame);
  std::int64_t t = now();
  std::vector<Connection*> slow;
  for (auto& [id, c] : conns_) {
    if (!c->handshaken || c->closing) continue;
    c->last_sent_ms = t;
    SendResult r = server_->send(id, prepared);
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
  std::vector<Connection*> expired_handshake, silent, idle;
  for (auto& [id, c] : conns_) {
    if (c->closing) continue;
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
    send(*c, signalr::handshake_error_frame(kHandshakeCanceled));
    c->closing = true;
    server_->close(c->id, kCloseNormal, "");
  }
  for (Connection* c : silent) {
    ++metrics_.clients_timed_out;
    close_with(*c, kClosedWithError, true, kCloseNormal);
  }
  for (Connection* c : idle) send(*c, signalr::kPingFrame);
}

void Hub::close_all_for_shutdown() {
  std::string frame = signalr::close_frame(std::nullopt, true);
  for (auto& [id, c] : conns_) {
    if (c->closing) continue;
    if (c->handshaken) {
      send(*c, frame);
    }
    c->closing = true;
    server_->close(id, kCloseNormal, "server shutting down");
  }
  timer_.cancel();
}

}  // namespace clickrace::gateway
