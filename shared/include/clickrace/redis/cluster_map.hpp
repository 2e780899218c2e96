#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "clickrace/core/result.hpp"
#include "clickrace/redis/cluster_slots.hpp"
#include "clickrace/redis/reply.hpp"

namespace clickrace::redis::cluster {

// One contiguous slot range with the nodes serving it, as CLUSTER SLOTS reports it.
struct Shard {
  int first = 0;
  int last = 0;
  NodeAddress primary;
  std::vector<NodeAddress> replicas;
};

// Which primary serves each of the 16384 slots. Pure value: built from a CLUSTER SLOTS reply,
// patched by MOVED redirections, compared with its successor to notice failovers.
class SlotMap {
 public:
  SlotMap();  // no slot assigned

  // Parses a CLUSTER SLOTS reply received from `asked`. A node whose endpoint is unknown
  // (nil, "" or "?") is reached on `asked`'s host with its own port, as the command's
  // documentation prescribes. Slots missing from the reply stay unassigned.
  static Result<SlotMap> from_cluster_slots(const Reply& reply, const NodeAddress& asked);
  // One node serving every slot: a plain (non-cluster) Redis.
  static SlotMap single_node(const NodeAddress& node);

  // The primary serving `slot`, or nullptr if the slot is unassigned (or out of range).
  const NodeAddress* primary(int slot) const;
  // A MOVED redirection: `slot` is now served by `node`. (Replica lists are left as they were.)
  void set_primary(int slot, const NodeAddress& node);

  // Replicas listed for the primary serving `slot`; -1 when unknown (a MOVED since the refresh).
  int replica_count(int slot) const;
  int unassigned_slots() const;
  bool complete() const { return unassigned_slots() == 0; }
  bool empty() const { return unassigned_slots() == kSlotCount; }
  // The distinct primaries that serve at least one slot, sorted.
  std::vector<NodeAddress> primaries() const;
  // The ranges as parsed (not updated by set_primary).
  const std::vector<Shard>& shards() const { return shards_; }

  // Failovers from this map to `next`: every primary of `next` that this map listed as a
  // replica of the node then serving (some of) the same slots. Sorted, distinct.
  std::vector<NodeAddress> promotions_in(const SlotMap& next) const;

 private:
  static constexpr std::uint16_t kNone = 0xffff;
  std::uint16_t index_of(const NodeAddress& node);  // adds the node if new
  const Shard* shard_of(int slot) const;

  std::vector<std::uint16_t> owner_;  // per slot: index into nodes_, or kNone
  std::vector<NodeAddress> nodes_;
  std::vector<Shard> shards_;
};

}  // namespace clickrace::redis::cluster
