#pragma once
#include <cstdint>
#include <string>
#include <string_view>

// Every Redis key and channel of docs/bus.md, built from the prefix (CLICKRACE_KEY_PREFIX).
namespace clickrace::bus {

// The keys of one score partition (DESIGN §3.1, docs/bus.md "Partitions"). Every key carries the
// partition's hash tag, so a script call on one partition touches one slot of a Redis Cluster.
// With one partition (S = 1) the partition prefix IS the global prefix: schedule() is the global
// schedule and the keys are those a single Redis always had.
class PartitionKeys {
 public:
  explicit PartitionKeys(std::string prefix) : p_(std::move(prefix)) {}

  const std::string& prefix() const { return p_; }
  // The partition's copy of the schedule hash (the leader writes it; S = 1: the schedule itself).
  std::string schedule() const { return p_ + "schedule"; }
  std::string scores(int64_t round) const { return round_key(round, ":scores"); }
  std::string total(int64_t round) const { return round_key(round, ":total"); }
  // The partition's closing summary of a round (seal.lua), written once.
  std::string summary(int64_t round) const { return round_key(round, ":summary"); }
  // The highest round this partition has sealed: click.lua never counts into it or below.
  std::string sealed() const { return p_ + "sealed"; }
  // The highest leader term this partition has seen: seals from an older term are refused.
  std::string term() const { return p_ + "term"; }
  std::string click_batch(std::string_view batch_id) const {
    return p_ + "clickbatch:" + std::string(batch_id);
  }
  // The click token buckets of the players who clicked in a round (click.lua): one hash, field =
  // name, value "<millitokens>,<ms>"; it expires one round after the round ends.
  std::string rate(int64_t round) const { return round_key(round, ":rate"); }

 private:
  std::string round_key(int64_t round, const char* suffix) const {
    return p_ + "round:" + std::to_string(round) + suffix;
  }
  std::string p_;
};

class Keys {
 public:
  explicit Keys(std::string prefix = "clickrace:") : p_(std::move(prefix)) {}

  const std::string& prefix() const { return p_; }
  std::string schedule() const { return p_ + "schedule"; }
  std::string scores(int64_t round) const { return round_key(round, ":scores"); }
  std::string total(int64_t round) const { return round_key(round, ":total"); }
  std::string result(int64_t round) const { return round_key(round, ":result"); }
  // Set by close_round.lua when it announced the round's result (a new leader that finds the
  // result written but not announced announces it).
  std::string announced(int64_t round) const { return round_key(round, ":announced"); }
  std::string closed() const { return p_ + "closed"; }
  std::string rounds() const { return p_ + "rounds"; }  // stream
  std::string events() const { return p_ + "events"; }  // pub/sub channel
  std::string leader() const { return p_ + "scheduler:leader"; }
  // The leader term: lease.lua increments it whenever a new holder takes the lease.
  std::string term() const { return p_ + "scheduler:term"; }
  // Partition k of `partitions` (S): S = 1 -> the global prefix itself; S > 1 -> the prefix with
  // its hash-tag braces removed plus the partition's tag, e.g. "{clickrace}:" ->
  // "clickrace:{p3.7}:" (bus/partitions.hpp partition_tag()).
  PartitionKeys partition(int k, int partitions) const;
  // `name_key` is core::name_key(name) (lowercased).
  std::string user(std::string_view name_key) const { return p_ + "user:" + std::string(name_key); }
  std::string token_secret() const { return p_ + "token_secret"; }
  // The hub connections of one account over the fleet (sessions.lua); `name` as in the token.
  std::string player_connections(std::string_view name) const {
    return p_ + "player:" + std::string(name) + ":conns";
  }
  // Members of player_connections() evicted for the cap (sessions.lua).
  std::string player_evicted(std::string_view name) const {
    return p_ + "player:" + std::string(name) + ":evicted";
  }
  // A gateway's own channels (instance: its random id).
  std::string gateway_heartbeat(std::string_view instance) const {
    return p_ + "gateway:" + std::string(instance) + ":heartbeat";
  }
  std::string gateway_kick(std::string_view instance) const {
    return p_ + "gateway:" + std::string(instance) + ":kick";
  }

 private:
  std::string round_key(int64_t round, const char* suffix) const {
    return p_ + "round:" + std::to_string(round) + suffix;
  }
  std::string p_;
};

}  // namespace clickrace::bus
