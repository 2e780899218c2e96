#include "clickrace/bus/partitions.hpp"

#include <algorithm>
#include <cstdint>

#include "clickrace/redis/cluster_slots.hpp"

namespace clickrace::bus {

int partition_of(std::string_view player, int partitions) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : player) {
    h ^= c;
    h *= 16777619u;
  }
  return partitions <= 1 ? 0 : static_cast<int>(h % static_cast<std::uint32_t>(partitions));
}

std::string partition_tag(int k, int partitions) {
  using redis::cluster::kSlotCount;
  long lo = static_cast<long>(k) * kSlotCount / partitions;
  long hi = static_cast<long>(k + 1) * kSlotCount / partitions;
  // A slice holds >= 64 slots (S <= 256): a matching j is found within a few thousand tries.
  for (int j = 0;; ++j) {
    std::string tag = "p" + std::to_string(k) + "." + std::to_string(j);
    int slot = redis::cluster::key_slot(tag);
    if (slot >= lo && slot < hi) return "{" + tag + "}";
  }
}

std::vector<TopEntry> merge_top(std::vector<std::vector<TopEntry>> parts, std::size_t n) {
  std::vector<TopEntry> all;
  for (auto& p : parts) {
    for (auto& e : p) all.push_back(std::move(e));
  }
  std::sort(all.begin(), all.end(), [](const TopEntry& a, const TopEntry& b) {
    if (a.clicks != b.clicks) return a.clicks > b.clicks;
    return a.name > b.name;
  });
  if (all.size() > n) all.resize(n);
  return all;
}

}  // namespace clickrace::bus

#include "clickrace/bus/keys.hpp"

namespace clickrace::bus {

PartitionKeys Keys::partition(int k, int partitions) const {
  if (partitions <= 1) return PartitionKeys(p_);
  std::string untagged;
  untagged.reserve(p_.size());
  for (char c : p_) {
    if (c != '{' && c != '}') untagged += c;
  }
  return PartitionKeys(untagged + partition_tag(k, partitions) + ":");
}

}  // namespace clickrace::bus
