#include "click_batch.hpp"

namespace clickrace::gateway {

void ClickBatch::add(ClickRequest request) {
  auto [it, inserted] = index_.emplace(request.player, players_.size());
  if (inserted) players_.push_back(Player{request.player, 0});
  ++players_[it->second].count;
  player_of_.push_back(it->second);
  requests_.push_back(std::move(request));
}

std::vector<std::string> ClickBatch::script_args(const std::string& prefix,
                                                 const std::string& batch_id) const {
  std::vector<std::string> args;
  args.reserve(2 + 2 * players_.size());
  args.push_back(prefix);
  args.push_back(batch_id);
  for (const auto& p : players_) {
    args.push_back(p.name);
    args.push_back(std::to_string(p.count));
  }
  return args;
}

std::vector<ClickOutcome> ClickBatch::complete(std::int64_t round,
                                               const std::vector<std::int64_t>& totals) {
  if (totals.size() != players_.size()) return fail("service unavailable");
  // next[p]: the total to give the player's next click, starting at T-k+1.
  std::vector<std::int64_t> next(players_.size());
  for (std::size_t p = 0; p < players_.size(); ++p) next[p] = totals[p] - players_[p].count + 1;
  std::vector<ClickOutcome> out;
  out.reserve(requests_.size());
  for (std::size_t i = 0; i < requests_.size(); ++i) {
    std::size_t p = player_of_[i];
    out.push_back(ClickOutcome{requests_[i].caller, std::move(requests_[i].invocation_id),
                               ClickAck{round, next[p]++}});
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
