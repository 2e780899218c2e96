#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "clickrace/bus/keys.hpp"
#include "clickrace/core/result.hpp"
#include "clickrace/redis/cluster_client.hpp"
#include "score_partitions.hpp"

// Round reads for the HTTP API and GetRound(): the running round (from the schedule and
// Redis-side scores, merged over the score partitions), history from the `rounds` stream, one
// result by id.
namespace clickrace::gateway {

class Rounds {
 public:
  // Bodies are JSON text; an Error means Redis could not answer ("service unavailable").
  using Done = std::function<void(Result<std::string>)>;
  // For get(): the result JSON, nullopt when there is no such round.
  using DoneOpt = std::function<void(Result<std::optional<std::string>>)>;

  Rounds(redis::ClusterClient& redis, const bus::Keys& keys, ScorePartitions& partitions);
  ~Rounds();

  // {"round","startsAt","endsAt","serverTime","top":[{"name","clicks"}]} (+ "myClicks" when
  // `player` is set). Before any schedule exists: round 0, zero times, empty top. With S score
  // partitions (the schedule's `partitions`), `top` merges each partition's top 10 (exact: the
  // partitions hold disjoint players) and `myClicks` is read from the player's partition.
  void current(std::int64_t now_ms, std::optional<std::string> player, Done done);
  // [RoundResult...] newest first.
  void list(int limit, Done done);
  void get(std::int64_t id, DoneOpt done);

 private:
  redis::ClusterClient& redis_;
  bus::Keys keys_;
  ScorePartitions& partitions_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace clickrace::gateway
