#include "click_batch.hpp"

#include <algorithm>

#include "clickrace/bus/partitions.hpp"

namespace clickrace::gateway {

void ClickBatch::add(ClickRequest request) {
  auto [it, inserted] = index_.emplace(request.player, players_.size());
  if (inserted) players_.push_back(Player{request.player, 0});
  ++players_[it->second].count;
  player_of_.push_back(it->second);
  requests_.push_back(std::move(request));
}

std::vector<std::string> ClickBatch::script_args(const std::string& batch_id, int clicks_per_s,
                                                 int partitions, std::int64_t round) const {
  std::vector<std::string> args;
  args.reserve(4 + 2 * players_.size());
  args.push_back(batch_id);
  args.push_back(std::to_string(clicks_per_s));
  args.push_back(std::to_string(partitions));
  args.push_back(std::to_string(round));
  for (const auto& p : players_) {
    args.push_back(p.name);
    args.push_back(std::to_string(p.count));
  }
  return args;
}

std::vector<std::string> ClickBatch::script_keys(const bus::PartitionKeys& pk,
                                                 const std::string& batch_id,
                                                 std::int64_t round) const {
  std::vector<std::string> keys;
  keys.reserve(11);
  keys.push_back(pk.schedule());
  keys.push_back(pk.sealed());
  keys.push_back(pk.click_batch(batch_id));
  keys.push_back(pk.scores(round));
  keys.push_back(pk.total(round));
  keys.push_back(pk.scores(round + 1));
  keys.push_back(pk.total(round + 1));
  // The players' token buckets: one hash per round, whatever the player count.
  keys.push_back(pk.rate(round - 1));
  keys.push_back(pk.rate(round));
  keys.push_back(pk.rate(round + 1));
  keys.push_back(pk.rate(round + 2));
  return keys;
}

std::vector<ClickBatch> ClickBatch::split(int partitions) {
  std::vector<ClickBatch> out(static_cast<std::size_t>(std::max(partitions, 1)));
  if (out.size() == 1) {
    out[0] = std::move(*this);
  } else {
    for (auto& r : requests_) {
      int k = bus::partition_of(r.player, partitions);
      out[static_cast<std::size_t>(k)].add(std::move(r));
    }
  }
  *this = ClickBatch();
  return out;
}

std::vector<ClickOutcome> ClickBatch::complete(std::int64_t round,
                                               const std::vector<PlayerGrant>& grants,
                                               const std::string& rate_error) {
  if (grants.size() != players_.size()) return fail("service unavailable");
  // Per player: the first `granted` clicks in arrival order are counted and get T-g+1 … T; the
  // rest exceeded the player's rate and were not stored.
  std::vector<std::int64_t> next(players_.size());
  std::vector<std::int64_t> left(players_.size());
  for (std::size_t p = 0; p < players_.size(); ++p) {
    std::int64_t g = std::clamp<std::int64_t>(grants[p].granted, 0, players_[p].count);
    next[p] = grants[p].total - g + 1;
    left[p] = g;
  }
  std::vector<ClickOutcome> out;
  out.reserve(requests_.size());
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    std::size_t p = player_of_[i];
    Result<ClickAck> r = Error{rate_error};
    if (left[p] > 0) {
      --left[p];
      r = ClickAck{round, next[p]++};
    }
    out.push_back(
        ClickOutcome{requests_[i].caller, std::move(requests_[i].invocation_id), std::move(r)});
  }
  return out;
}

std::vector<ClickOutcome> ClickBatch::fail(const std::string& message) {
  std::vector<ClickOutcome> out;
  out.reserve(requests_.size());
  for (auto& r : requests_) {
    out.push_back(ClickOutcome{r.caller, std::move(r.invocation_id), Error{message}});
  }
  return out;
}

}  // namespace clickrace::gateway
