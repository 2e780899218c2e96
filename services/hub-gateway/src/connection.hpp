#pragma once
#include <cstdint>
#include <string>

#include "clickrace/core/rate_limiter.hpp"
#include "clickrace/signalr/framing.hpp"
#include "ws_server.hpp"

// The state of one hub connection, owned by the Hub on the event-loop thread.
namespace clickrace::gateway {

struct Connection {
  Connection(ConnId id_, std::string player_, std::string connection_id_, std::size_t max_record,
             double clicks_per_s, std::int64_t now_ms)
      : id(id_),
        player(std::move(player_)),
        connection_id(std::move(connection_id_)),
        reader(max_record),
        clicks(clicks_per_s, clicks_per_s, now_ms),
        opened_ms(now_ms),
        last_received_ms(now_ms),
        last_sent_ms(now_ms) {}

  ConnId id;
  std::string player;         // display name from the login token
  std::string connection_id;  // public id (from negotiate, or fresh for skipNegotiation)
  signalr::RecordReader reader;
  core::TokenBucket clicks;  // CLICKRACE_MAX_CLICKS_PER_S, burst of one second
  bool handshaken = false;
  bool closing = false;  // a Close was sent or the socket is going: send nothing more
  int get_round_in_flight = 0;
  int clicks_in_flight = 0;  // handed to the batcher, outcome not delivered yet
  bool evicted = false;      // closed for a newer connection once clicks_in_flight is 0
  std::int64_t opened_ms;
  std::int64_t last_received_ms;
  std::int64_t last_sent_ms;
};

}  // namespace clickrace::gateway
