#include "click_batcher.hpp"

#include <asio/post.hpp>

#include "clickrace/bus/keys.hpp"
#include "clickrace/bus/lua_scripts.hpp"
#include "clickrace/core/log.hpp"

namespace clickrace::gateway {

ClickBatcher::ClickBatcher(asio::io_context& io, redis::Client& redis, std::string key_prefix,
                           Limits limits, Metrics& metrics, Sink sink)
    : io_(io),
      redis_(redis),
      prefix_(std::move(key_prefix)),
      schedule_key_(bus::Keys(prefix_).schedule()),
      limits_(limits),
      metrics_(metrics),
      sink_(std::move(sink)),
      script_(bus::lua::click) {
  // Loaded on every Redis connect, before the client reports connected: EVALSHA never meets
  // NOSCRIPT, whose EVAL retry would let a later batch overtake an earlier one.
  script_.preload(redis_);
}

ClickBatcher::~ClickBatcher() = default;

std::optional<std::string> ClickBatcher::add(ClickRequest request) {
  // Fail fast: while Redis is down nothing is queued (DESIGN §5).
  if (!redis_.connected()) return std::string(kUnavailableError);
  if (pending_.size() >= limits_.max_pending) return std::string(kOverloadedError);
  pending_.add(std::move(request));
  schedule_flush();
  return std::nullopt;
}

void ClickBatcher::schedule_flush() {
  if (flush_posted_) return;
  flush_posted_ = true;
  // Posted: runs after every handler already ready in this loop turn, so all the clicks read
  // from all sockets in this turn share one script call.
  asio::post(io_, [this, alive = std::weak_ptr<char>(alive_)] {
    if (alive.expired()) return;
    flush_posted_ = false;
    flush();
  });
}

void ClickBatcher::flush() {
  if (pending_.empty()) return;
  // All slots busy: the pending clicks wait (bounded by max_pending); a completion re-flushes.
  if (in_flight_ >= limits_.max_in_flight) return;
  auto batch = std::make_shared<ClickBatch>(std::move(pending_));
  pending_ = ClickBatch();
  ++in_flight_;
  ++metrics_.click_batches;
  metrics_.click_batch_size.observe(static_cast<double>(batch->size()));
  script_.call(
      redis_, {schedule_key_}, batch->script_args(prefix_),
      [this, batch, alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> reply) {
        if (alive.expired()) return;
        --in_flight_;
        finish(*batch, std::move(reply));
        flush();
      },
      limits_.timeout);
}

void ClickBatcher::finish(ClickBatch& batch, Result<redis::Reply> reply) {
  std::vector<ClickOutcome> outcomes;
  if (!reply) {
    CR_LOG(warn) << "click batch of " << batch.size() << " failed: " << reply.error().message;
    outcomes = batch.fail(kUnavailableError);
  } else if (reply->is_error()) {
    if (reply->is_error_code("NOROUND")) {
      outcomes = batch.fail(kNoRoundError);
    } else {
      CR_LOG(error) << "click script error: " << reply->str();
      outcomes = batch.fail(kUnavailableError);
    }
  } else if (!reply->is_array() || reply->size() < 1 || !(*reply)[0].is_integer()) {
    CR_LOG(error) << "click script: unexpected reply " << reply->debug_string();
    outcomes = batch.fail(kUnavailableError);
  } else {
    std::vector<std::int64_t> totals;
    totals.reserve(reply->size() - 1);
    for (std::size_t i = 1; i < reply->size(); ++i) totals.push_back((*reply)[i].integer());
    outcomes = batch.complete((*reply)[0].integer(), totals);
  }
  for (const auto& o : outcomes) {
    if (o.result.ok()) {
      ++metrics_.clicks_accepted;
    } else {
      ++metrics_.clicks_rejected;
    }
  }
  sink_(outcomes);
}

}  // namespace clickrace::gateway
