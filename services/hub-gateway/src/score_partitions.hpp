#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "clickrace/bus/keys.hpp"
#include "clickrace/redis/cluster_client.hpp"

// What the gateway knows of the score partitions (DESIGN §3.1, docs/bus.md "Partitions"): their
// count S, read from the schedule's `partitions` field (absent = 1) and kept fresh, and a guess of
// the running round, which click.lua needs to declare the round's keys. Both are hints: click.lua
// checks them against the partition's schedule copy and answers PARTITIONS / STALEROUND with the
// true values (nothing written), which the batcher adopts. Shared by the batcher and round reads.
namespace clickrace::gateway {

class ScorePartitions {
 public:
  ScorePartitions(redis::ClusterClient& redis, const bus::Keys& keys);
  ~ScorePartitions();

  int count() const { return count_; }
  int of(std::string_view player) const;
  // Partition k's keys under `partitions` (cached for the current count).
  bus::PartitionKeys keys(int k, int partitions) const;
  bus::PartitionKeys keys(int k) const { return keys(k, count_); }
  // Adopts a count read from Redis (a schedule, a PARTITIONS answer). True if it changed.
  bool adopt(int partitions);

  // 0 until known.
  std::int64_t round_hint() const { return round_hint_; }
  void set_round_hint(std::int64_t round) { round_hint_ = round; }

  // Reads the schedule again (coalesced): the count, and the round by this host's clock while no
  // better guess is known. A failure is left to the next trigger (reconnect, RoundStarted, a
  // PARTITIONS or NOROUND answer).
  void refresh();
  // The schedule hash's `partitions` (HGETALL pairs): absent or malformed = 1, at most
  // bus::kMaxPartitions.
  static int parse(const std::vector<std::pair<std::string, std::string>>& schedule_hash);

 private:
  redis::ClusterClient& redis_;
  bus::Keys global_;
  int count_ = 1;
  std::vector<bus::PartitionKeys> cache_;  // keys(k) for count_
  std::int64_t round_hint_ = 0;
  bool refreshing_ = false;
  bool again_ = false;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace clickrace::gateway
