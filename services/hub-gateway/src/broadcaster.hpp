#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "clickrace/bus/keys.hpp"
#include "clickrace/redis/client.hpp"
#include "clickrace/redis/subscriber.hpp"
#include "metrics.hpp"

// Round events out: `P events` pub/sub → one SignalR invocation frame per event, built once and
// handed to the fan-out. RoundEnded is announced exactly once per round (docs/bus.md "Gateway
// catch-up"): a mark of the highest round announced drops duplicates, and after every
// (re)subscription the `rounds` stream is read to announce, oldest first, what was missed.
namespace clickrace::gateway {

// The pure dedupe rule, apart from Redis.
class RoundMark {
 public:
  // True when round `id` is new (and remembers it); false for a duplicate or an older round.
  bool advance(std::int64_t id);
  void raise_to(std::int64_t id) {
    if (id > mark_) mark_ = id;
  }
  std::int64_t value() const { return mark_; }

 private:
  std::int64_t mark_ = 0;
};

class Broadcaster {
 public:
  // Receives the complete frame text (JSON + 0x1E) of an event for every connection.
  using Fanout = std::function<void(std::string_view event, const std::string& frame)>;

  Broadcaster(asio::io_context& io, redis::Client& redis, redis::Subscriber& subscriber,
              const bus::Keys& keys, Metrics& metrics, Fanout fanout);
  ~Broadcaster();

  void start();
  // Handles one envelope text (from pub/sub); public for tests.
  void on_envelope(std::string_view payload);
  std::int64_t mark() const { return mark_.value(); }
  bool caught_up() const { return initialized_; }

 private:
  void catch_up();
  void announce_result(std::int64_t round, const std::string& data);

  asio::io_context& io_;
  redis::Client& redis_;
  redis::Subscriber& subscriber_;
  bus::Keys keys_;
  Metrics& metrics_;
  Fanout fanout_;
  RoundMark mark_;
  bool initialized_ = false;      // the mark was taken from the stream once
  std::uint64_t generation_ = 0;  // bumps per subscription; stale catch-ups stop
  asio::steady_timer retry_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace clickrace::gateway
