#include "status.hpp"

#include <nlohmann/json.hpp>

namespace clickrace::scheduler {

std::string status_json(const StatusSnapshot& s) {
  nlohmann::json j = {
      {"role", s.role == Role::leader ? "leader" : "follower"},
      {"id", s.id},
      {"leaseHolder",
       s.lease_holder.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.lease_holder)},
      {"currentRound", s.current_round},
      {"lastClosedRound", s.last_closed_round},
      {"roundMs", s.round_ms},
      {"term", s.term},
      {"scorePartitions", s.partitions},
  };
  return j.dump();
}

bool is_ready(const StatusSnapshot& s, int64_t mono_now, int64_t stale_after_ms) {
  return s.redis_ok_at > 0 && mono_now - s.redis_ok_at <= stale_after_ms;
}

}  // namespace clickrace::scheduler
