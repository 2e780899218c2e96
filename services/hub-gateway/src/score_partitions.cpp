#include "score_partitions.hpp"

#include "clickrace/bus/events.hpp"
#include "clickrace/bus/partitions.hpp"
#include "clickrace/core/clock.hpp"
#include "clickrace/core/config.hpp"
#include "clickrace/core/log.hpp"
#include "clickrace/core/round_math.hpp"

namespace clickrace::gateway {

ScorePartitions::ScorePartitions(redis::ClusterClient& redis, const bus::Keys& keys)
    : redis_(redis), global_(keys) {
  cache_.push_back(global_.partition(0, 1));
}

ScorePartitions::~ScorePartitions() = default;

int ScorePartitions::of(std::string_view player) const { return bus::partition_of(player, count_); }

bus::PartitionKeys ScorePartitions::keys(int k, int partitions) const {
  if (partitions == count_ && k >= 0 && k < static_cast<int>(cache_.size())) return cache_[k];
  return global_.partition(k, partitions);
}

bool ScorePartitions::adopt(int partitions) {
  if (partitions < 1 || partitions > bus::kMaxPartitions || partitions == count_) return false;
  CR_LOG(info) << "score partitions: " << count_ << " -> " << partitions;
  count_ = partitions;
  cache_.clear();
  // partition_tag() searches a tag per partition: done once per count, not per call.
  for (int k = 0; k < count_; ++k) cache_.push_back(global_.partition(k, count_));
  return true;
}

int ScorePartitions::parse(const std::vector<std::pair<std::string, std::string>>& schedule_hash) {
  for (const auto& [field, value] : schedule_hash) {
    if (field != "partitions") continue;
    auto n = core::parse_int(value);
    if (!n || *n < 1 || *n > bus::kMaxPartitions) return 1;
    return static_cast<int>(*n);
  }
  return 1;
}

void ScorePartitions::refresh() {
  if (refreshing_) {
    again_ = true;
    return;
  }
  refreshing_ = true;
  redis_.command({"HGETALL", global_.schedule()},
                 [this, alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> r) {
                   if (alive.expired()) return;
                   refreshing_ = false;
                   if (r && r->is_array() && r->size() > 0) {
                     auto fields = redis::hash_pairs(*r);
                     adopt(parse(fields));
                     auto schedule = bus::schedule_from_hash(fields);
                     if (round_hint_ == 0 && schedule && schedule->valid()) {
                       round_hint_ =
                           core::round_at(*schedule, core::SystemClock::instance().now_ms()).id;
                     }
                   }
                   if (again_) {
                     again_ = false;
                     refresh();
                   }
                 });
}

}  // namespace clickrace::gateway
