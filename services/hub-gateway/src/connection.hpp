#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "clickrace/core/rate_limiter.hpp"
#include "hub_protocol.hpp"
#include "stateful_reconnect.hpp"
#include "ws_server.hpp"

// The state of one hub connection, owned by the Hub on the event-loop thread.
namespace clickrace::gateway {

struct Connection {
  Connection(ConnId id_, std::string player_, std::string connection_id_, std::size_t max_record,
             double clicks_per_s, std::int64_t now_ms)
      : id(id_),
        socket(id_),
        player(std::move(player_)),
        connection_id(std::move(connection_id_)),
        reader(signalr::RecordReader(max_record)),
        clicks(clicks_per_s, clicks_per_s, now_ms),
        opened_ms(now_ms),
        last_received_ms(now_ms),
        last_sent_ms(now_ms) {}

  // Names the connection for its whole life (its first WebSocket's id: ids are never reused).
  ConnId id;
  // The WebSocket carrying it now: `id` at first, another after a stateful reconnect, 0 while
  // detached (the socket dropped; the client has the reconnect window to come back).
  ConnId socket;
  std::string player;         // display name from the login token
  std::string connection_id;  // public id (from negotiate, or fresh for skipNegotiation)
  InboundReader reader;       // the handshake's records, then the negotiated protocol's framing
  // The hub protocol chosen by the handshake: every message after it is parsed and written by it.
  const HubProtocol* protocol = &json_protocol();
  core::TokenBucket clicks;  // CLICKRACE_MAX_CLICKS_PER_S, burst of one second
  bool handshaken = false;
  bool closing = false;  // a Close was sent or the socket is going: send nothing more
  int get_round_in_flight = 0;
  int clicks_in_flight = 0;  // handed to the batcher, outcome not delivered yet
  bool evicted = false;      // closed for a newer connection once clicks_in_flight is 0
  std::int64_t opened_ms;
  std::int64_t last_received_ms;
  std::int64_t last_sent_ms;

  // Stateful reconnect, when the handshake negotiated it (version 2 after a negotiate).
  struct Resumable {
    explicit Resumable(std::size_t limit) : out(limit) {}
    OutboundLog out;     // our trackable messages the client has not acknowledged
    InboundSequence in;  // the client's, for deduplication and our Acks
    std::int64_t detached_ms = 0;
  };
  bool negotiated = false;  // came with a connection token (not skipNegotiation)
  std::unique_ptr<Resumable> resumable;
};

}  // namespace clickrace::gateway
