#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "clickrace/bus/keys.hpp"
#include "clickrace/redis/cluster_client.hpp"
#include "metrics.hpp"
#include "round_ledger.hpp"

// Round events out: `P events` pub/sub → one event (target + its JSON argument) handed to the
// fan-out, which builds its frame once per hub protocol. RoundEnded is announced exactly once per
// round and in order (docs/bus.md "Gateway catch-up"; the rule itself is RoundLedger): from every
// (re)subscription until the `rounds` stream has been read back, live results are held; the
// catch-up pages the stream back to the mark, merges, and announces what was missed, oldest first.
// The Gateway feeds it the subscriber's events (it owns the subscriber's callbacks).
namespace clickrace::gateway {

class Broadcaster {
 public:
  // Receives each event to send to every connection: its target and its argument (JSON text).
  using Fanout = std::function<void(std::string_view event, std::string_view data)>;

  Broadcaster(asio::io_context& io, redis::ClusterClient& redis, const bus::Keys& keys,
              Metrics& metrics, Fanout fanout);
  ~Broadcaster();

  // The subscription is gone: hold RoundEnded results until the next catch-up.
  void on_subscription_lost();
  // The subscription is (re-)established: catch up from the stream (retried until it succeeds).
  void on_subscribed();
  // Handles one envelope text (from pub/sub).
  void on_envelope(std::string_view payload);
  // Called with the round of every RoundStarted received (before it is fanned out).
  void on_round_started(std::function<void(std::int64_t round)> cb) {
    on_round_started_ = std::move(cb);
  }
  std::int64_t mark() const { return ledger_.mark(); }
  bool caught_up() const { return ledger_.initialized() && !ledger_.holding(); }

 private:
  void catch_up();
  void read_page(std::uint64_t gen, std::string before, std::vector<RoundEntry> so_far);
  void retry_later(std::uint64_t gen);
  void fan_out_result(const std::string& data);

  asio::io_context& io_;
  redis::ClusterClient& redis_;
  bus::Keys keys_;
  Metrics& metrics_;
  Fanout fanout_;
  std::function<void(std::int64_t)> on_round_started_;
  RoundLedger ledger_;
  bool catching_up_ = false;      // a catch-up is running (or waiting to retry)
  std::uint64_t generation_ = 0;  // bumps per catch-up; stale replies stop
  asio::steady_timer retry_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace clickrace::gateway
