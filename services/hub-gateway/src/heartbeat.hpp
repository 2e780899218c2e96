#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "clickrace/redis/cluster_client.hpp"
#include "clickrace/redis/subscriber.hpp"
#include "metrics.hpp"

// End-to-end check of the event subscription. A connection whose peer vanished without a FIN (a
// partition) looks alive to us for as long as nothing is written to it, and a SUBSCRIBE-mode
// connection writes nothing. So every `period` we PUBLISH a heartbeat on a channel of our own
// (`P gateway:{instance}:heartbeat`) through the command connection, and the subscriber listens
// to it. When Redis has acknowledged a heartbeat (so the command path works and Redis has sent
// it to every subscriber) and it has not come back after two more periods, the subscription is
// dead: it is dropped and re-established (which catches up from the stream), and the gateway is
// not ready (/readyz 503) from the moment a heartbeat is late until it is back.
namespace clickrace::gateway {

class Heartbeat {
 public:
  using Clock = std::chrono::steady_clock;

  Heartbeat(asio::io_context& io, redis::ClusterClient& redis, redis::Subscriber& subscriber,
            std::string channel, std::chrono::milliseconds period, Metrics& metrics);
  ~Heartbeat();

  const std::string& channel() const { return channel_; }
  void start();
  void stop();
  // A message on channel().
  void on_message(const std::string& payload);
  // The subscription was (re-)established or lost: nothing is overdue.
  void reset() { awaited_since_.reset(); }
  // False while an acknowledged heartbeat is late.
  bool healthy() const;

 private:
  void tick();

  asio::io_context& io_;
  redis::ClusterClient& redis_;
  redis::Subscriber& subscriber_;
  std::string channel_;
  std::chrono::milliseconds period_;
  Metrics& metrics_;
  // Heartbeats carry a sequence number: the message may come back before the PUBLISH reply.
  std::uint64_t next_seq_ = 1;
  std::uint64_t received_seq_ = 0;  // the highest that came back
  // When Redis acknowledged the oldest heartbeat that has not come back yet, and its number.
  std::optional<Clock::time_point> awaited_since_;
  std::uint64_t awaited_seq_ = 0;
  asio::steady_timer timer_;
  bool stopped_ = false;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace clickrace::gateway
