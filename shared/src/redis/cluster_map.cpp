#include "clickrace/redis/cluster_map.hpp"

#include <algorithm>

namespace clickrace::redis::cluster {
namespace {

// One node entry of CLUSTER SLOTS: [endpoint, port, id, {metadata}] (id and metadata optional).
Result<NodeAddress> parse_node(const Reply& r, const NodeAddress& asked) {
  if (!r.is_array() || r.size() < 2 || !r[1].is_integer()) {
    return make_error("redis cluster: malformed node in CLUSTER SLOTS");
  }
  long long port = r[1].integer();
  if (port < 1 || port > 65535) return make_error("redis cluster: bad port in CLUSTER SLOTS");
  NodeAddress node{r[0].str(), static_cast<int>(port)};
  if (!r[0].is_string() || node.host.empty() || node.host == "?") node.host = asked.host;
  return node;
}

}  // namespace

SlotMap::SlotMap() : owner_(kSlotCount, kNone) {}

Result<SlotMap> SlotMap::from_cluster_slots(const Reply& reply, const NodeAddress& asked) {
  if (!reply.is_array()) return make_error("redis cluster: CLUSTER SLOTS did not answer a list");
  SlotMap map;
  for (const Reply& entry : reply.elements()) {
    if (!entry.is_array() || entry.size() < 3 || !entry[0].is_integer() || !entry[1].is_integer()) {
      return make_error("redis cluster: malformed range in CLUSTER SLOTS");
    }
    long long first = entry[0].integer(), last = entry[1].integer();
    if (first < 0 || last >= kSlotCount || first > last) {
      return make_error("redis cluster: slot range out of bounds in CLUSTER SLOTS");
    }
    Shard shard;
    shard.first = static_cast<int>(first);
    shard.last = static_cast<int>(last);
    auto primary = parse_node(entry[2], asked);
    if (!primary) return primary.error();
    shard.primary = std::move(*primary);
    for (std::size_t i = 3; i < entry.size(); ++i) {
      auto replica = parse_node(entry[i], asked);
      if (!replica) return replica.error();
      shard.replicas.push_back(std::move(*replica));
    }
    std::uint16_t idx = map.index_of(shard.primary);
    std::fill(map.owner_.begin() + shard.first, map.owner_.begin() + shard.last + 1, idx);
    map.shards_.push_back(std::move(shard));
  }
  return map;
}

SlotMap SlotMap::single_node(const NodeAddress& node) {
  SlotMap map;
  std::fill(map.owner_.begin(), map.owner_.end(), map.index_of(node));
  map.shards_.push_back(Shard{0, kSlotCount - 1, node, {}});
  return map;
}

std::uint16_t SlotMap::index_of(const NodeAddress& node) {
  auto it = std::find(nodes_.begin(), nodes_.end(), node);
  if (it != nodes_.end()) return static_cast<std::uint16_t>(it - nodes_.begin());
  nodes_.push_back(node);
  return static_cast<std::uint16_t>(nodes_.size() - 1);
}

const NodeAddress* SlotMap::primary(int slot) const {
  if (slot < 0 || slot >= kSlotCount || owner_[slot] == kNone) return nullptr;
  return &nodes_[owner_[slot]];
}

void SlotMap::set_primary(int slot, const NodeAddress& node) {
  if (slot < 0 || slot >= kSlotCount) return;
  owner_[slot] = index_of(node);
}

int SlotMap::replica_count(int slot) const {
  const NodeAddress* p = primary(slot);
  const Shard* s = shard_of(slot);
  if (p == nullptr || s == nullptr || s->primary != *p) return -1;
  return static_cast<int>(s->replicas.size());
}

int SlotMap::unassigned_slots() const {
  return static_cast<int>(std::count(owner_.begin(), owner_.end(), kNone));
}

std::vector<NodeAddress> SlotMap::primaries() const {
  std::vector<bool> used(nodes_.size(), false);
  for (auto o : owner_) {
    if (o != kNone) used[o] = true;
  }
  std::vector<NodeAddress> out;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (used[i]) out.push_back(nodes_[i]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

const Shard* SlotMap::shard_of(int slot) const {
  for (const auto& s : shards_) {
    if (s.first <= slot && slot <= s.last) return &s;
  }
  return nullptr;
}

std::vector<NodeAddress> SlotMap::promotions_in(const SlotMap& next) const {
  std::vector<NodeAddress> out;
  for (const Shard& s : next.shards_) {
    for (int slot = s.first; slot <= s.last; ++slot) {
      const Shard* before = shard_of(slot);
      if (before == nullptr) continue;
      if (before->primary != s.primary &&
          std::find(before->replicas.begin(), before->replicas.end(), s.primary) !=
              before->replicas.end()) {
        out.push_back(s.primary);
        break;
      }
      slot = before->last;  // the rest of that old range has the same answer
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace clickrace::redis::cluster
