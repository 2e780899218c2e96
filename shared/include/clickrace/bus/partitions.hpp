#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "clickrace/bus/events.hpp"

// Score partitions (DESIGN §3.1): players are split into S partitions; every key of partition k
// carries one hash tag, so a click script call on a Redis Cluster touches one slot. Pure.
namespace clickrace::bus {

inline constexpr int kMaxPartitions = 256;

// The partition of a player (0..partitions-1): 32-bit FNV-1a of `player` mod partitions.
// Callers pass the same spelling everywhere (the gateway's name key).
int partition_of(std::string_view player, int partitions);

// The hash tag of partition k of S, braces included, e.g. "{p0.12}": the first "p<k>.<j>"
// (j = 0, 1, ...) whose slot lies in the k-th of S equal slices of the 16384 slots. A cluster
// whose primaries hold equal contiguous slot ranges (what `redis-cli --cluster create` and
// rebalance produce) therefore serves the S partitions S/primaries each (±1).
std::string partition_tag(int k, int partitions);

// The first `n` of the partitions' tops (each a ZREVRANGE ... WITHSCORES of its own players)
// together: most clicks first, equal clicks in reverse name order — ZREVRANGE's order, so one
// partition comes out as it went in. Exact, as partitions hold disjoint players.
std::vector<TopEntry> merge_top(std::vector<std::vector<TopEntry>> parts, std::size_t n);

}  // namespace clickrace::bus
