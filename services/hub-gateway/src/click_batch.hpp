#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "clickrace/bus/keys.hpp"
#include "clickrace/core/result.hpp"

// Assembly of one click.lua call from the clicks of one loop turn, and the distribution of its
// reply back to the callers. Pure: no Redis, no sockets.
//
// Clicks of the same player are merged into one (name, k) pair. The script grants g <= k of them
// (the player's rate over the whole fleet) and returns the player's final total T; the player's
// first g clicks, in arrival order, are acknowledged T-g+1 … T, so every caller sees its own,
// strictly increasing total, and the other k-g get the rate-limit error (they were not stored).
namespace clickrace::gateway {

using CallerId = std::uint64_t;  // the connection id

struct ClickRequest {
  CallerId caller = 0;
  std::string player;
  std::optional<std::string> invocation_id;  // nullopt: a non-blocking send, no reply
};

struct ClickAck {
  std::int64_t round = 0;
  std::int64_t clicks = 0;  // the caller's total in `round` after this click
};

struct ClickOutcome {
  CallerId caller = 0;
  std::optional<std::string> invocation_id;
  Result<ClickAck> result = Error{};
};

class ClickBatch {
 public:
  void add(ClickRequest request);
  std::size_t size() const { return requests_.size(); }
  bool empty() const { return requests_.empty(); }
  std::size_t players() const { return players_.size(); }

  // click.lua's ARGV: batch id, the per-player rate (clicks/s, 0 = unlimited), the partition
  // count S the batch was grouped by, the guess r of the running round, then (name, count) per
  // distinct player, in first-seen order. The batch id makes the call idempotent (a resend gets
  // the first run's reply).
  std::vector<std::string> script_args(const std::string& batch_id, int clicks_per_s,
                                       int partitions, std::int64_t round) const;
  // click.lua's KEYS on partition `pk` (docs/bus.md "Scripts"): its schedule copy, sealed mark,
  // the batch id, scores and total of rounds r and r+1, then the rate hashes (the players' token
  // buckets) of rounds r-1 to r+2: eleven keys, whatever the player count.
  std::vector<std::string> script_keys(const bus::PartitionKeys& pk, const std::string& batch_id,
                                       std::int64_t round) const;
  // The requests by partition (bus::partition_of(player, partitions)): `partitions` batches,
  // each in arrival order, so each player's clicks keep their order. Empties this batch.
  std::vector<ClickBatch> split(int partitions);

  struct PlayerGrant {
    std::int64_t total = 0;    // the player's score after the batch
    std::int64_t granted = 0;  // how many of its clicks were counted
  };
  // The script answered {round, total_1, granted_1, …}: one outcome per request, in arrival
  // order; clicks beyond a player's grant fail with `rate_error`. A reply of the wrong shape
  // fails every click with "service unavailable".
  std::vector<ClickOutcome> complete(std::int64_t round, const std::vector<PlayerGrant>& grants,
                                     const std::string& rate_error);
  // The call failed: every click gets `message`.
  std::vector<ClickOutcome> fail(const std::string& message);

 private:
  struct Player {
    std::string name;
    std::int64_t count = 0;
  };
  std::vector<ClickRequest> requests_;
  std::vector<std::size_t> player_of_;  // per request: index into players_
  std::vector<Player> players_;
  std::unordered_map<std::string, std::size_t> index_;
};

}  // namespace clickrace::gateway
