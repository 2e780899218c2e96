#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "clickrace/client/http_api.hpp"
#include "clickrace/client/hub_client.hpp"

// A steady click load for fault tests: N players, each one shared-library HubClient (automatic
// reconnect, short server timeout) connected through the load balancer, invoking Click at a
// fixed pace. Every invocation's outcome is classified, so a checker can bound what Redis must
// hold; every RoundEnded is recorded per connection ("session").
namespace clickrace::test {

struct LoadOptions {
  int players = 200;
  int clicks_per_s = 5;    // per player
  int max_in_flight = 10;  // per player; a player whose clicks go unanswered stops adding more
  std::string base_url;    // the load balancer
};

// One connection of one player, from (re)connect until the connection was lost.
struct SessionLog {
  long long started_ms = 0;        // wall clock
  long long last_activity_ms = 0;  // last message received on it (event or completion)
  bool open = true;
  std::vector<long long> rounds;  // RoundEnded ids, in arrival order
};

struct PlayerCounts {
  long long acked = 0;       // a Completion with a result: must be in Redis
  long long rejected = 0;    // a Completion error that means "not counted" (rate limit, no round)
  long long maybe = 0;       // a Completion error after which the click may still count
  long long unresolved = 0;  // sent, then the connection dropped before an answer
  long long not_sent = 0;    // refused by the client itself (not connected)
  long long ambiguous() const { return maybe + unresolved; }
};

class Player {
 public:
  Player(std::string name, client::Session session, const LoadOptions& options);
  ~Player();
  const std::string& name() const { return name_; }
  client::HubClient& hub() { return *hub_; }

  void click();  // one invoke("Click") unless too many are in flight
  int in_flight() const { return in_flight_; }

  PlayerCounts counts() const;
  std::vector<SessionLog> sessions() const;
  // Wall-clock times of connection losses and of the reconnects that followed.
  std::vector<long long> lost_at() const;
  std::vector<long long> reconnected_at() const;
  // Wall-clock time of the first acknowledged click at or after `t` (0 = none yet).
  long long first_ack_after(long long t) const;

 private:
  void on_event(long long round);
  void touch();

  std::string name_;
  int max_in_flight_;
  std::unique_ptr<client::HubClient> hub_;
  std::atomic<int> in_flight_{0};
  mutable std::mutex mu_;
  PlayerCounts counts_;
  std::vector<SessionLog> sessions_;
  std::vector<long long> lost_at_, reconnected_at_;
  std::vector<long long> ack_times_;  // acknowledged clicks, wall clock, ascending
};

class ClickLoad {
 public:
  explicit ClickLoad(LoadOptions options);  // registers, logs in and connects every player
  ~ClickLoad();                             // stops pacing and every client

  bool all_connected() const;
  void start();  // starts pacing clicks
  // Stops pacing and waits (bounded) until no click is in flight.
  void stop();

  std::vector<std::unique_ptr<Player>>& players() { return players_; }
  PlayerCounts totals() const;
  // Players whose connection was lost at or after `t`.
  std::vector<Player*> lost_since(long long t);
  // Waits until every player in `who` has an acknowledged click after `t`; false on timeout.
  bool wait_served(const std::vector<Player*>& who, long long t, std::chrono::milliseconds timeout);

 private:
  void pace();
  LoadOptions options_;
  std::vector<std::unique_ptr<Player>> players_;
  std::atomic<bool> pacing_{false};
  std::thread pacer_;
};

}  // namespace clickrace::test
