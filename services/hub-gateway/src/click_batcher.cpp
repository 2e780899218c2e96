#include "click_batcher.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <cstdio>
#include <random>

#include "clickrace/bus/keys.hpp"
#include "clickrace/bus/lua_scripts.hpp"
#include "clickrace/core/log.hpp"

namespace clickrace::gateway {
namespace {

using Clock = std::chrono::steady_clock;

// How often unresolved batches are looked at while they wait for the Redis client to reconnect.
constexpr std::chrono::milliseconds kPollPeriod{50};

// 64 random bits as hex: a gateway's batch ids differ from every other gateway's (and from its
// own previous runs'), so click.lua never mistakes one batch for another.
std::string random_instance_id() {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

std::string rate_limit_error(int clicks_per_s) {
  return "rate limit exceeded: at most " + std::to_string(clicks_per_s) + " clicks per second";
}

CallOutcome classify(const Result<redis::Reply>& reply) {
  if (reply) return CallOutcome::answered;
  const std::string& m = reply.error().message;
  if (m == redis::kErrTimeout || m == redis::kErrConnectionLost || m == redis::kErrNotReplicated) {
    return CallOutcome::ambiguous;
  }
  if (m == redis::kErrClosed) return CallOutcome::closed;
  return CallOutcome::not_sent;
}

ClickBatcher::ClickBatcher(asio::io_context& io, redis::ClusterClient& redis,
                           std::string key_prefix, Limits limits, Metrics& metrics, Sink sink)
    : io_(io),
      redis_(redis),
      prefix_(std::move(key_prefix)),
      schedule_key_(bus::Keys(prefix_).schedule()),
      limits_(limits),
      metrics_(metrics),
      sink_(std::move(sink)),
      script_(bus::lua::click),
      instance_(random_instance_id()),
      rate_error_(rate_limit_error(limits_.clicks_per_s)),
      flush_timer_(io),
      poll_(io) {
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
  // Bounded flush window: a small batch waits (at most the window) for more clicks; resends and
  // a batch that reached the threshold go at the end of this turn as usual.
  if (limits_.flush_window.count() > 0 && unresolved_.empty() && !pending_.empty() &&
      pending_.size() < limits_.flush_min_clicks) {
    if (flush_timer_armed_) return;
    flush_timer_armed_ = true;
    flush_timer_.expires_after(limits_.flush_window);
    flush_timer_.async_wait(
        [this, alive = std::weak_ptr<char>(alive_)](const asio::error_code& ec) {
          if (ec || alive.expired()) return;
          flush_timer_armed_ = false;
          flush();
        });
    return;
  }
  if (flush_timer_armed_) {  // the batch grew past the threshold: no more waiting
    flush_timer_armed_ = false;
    flush_timer_.cancel();
  }
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
  // Unresolved batches first, oldest first, on the one pipelined connection: Redis applies every
  // batch in the order it was formed, resent or not (except a resend held back a poll period after
  // an error reply, which newer batches may pass).
  if (redis_.connected()) {
    auto now = Clock::now();
    while (!unresolved_.empty() && unresolved_.front()->resend_at <= now) {
      CallPtr call = std::move(unresolved_.front());
      unresolved_.pop_front();
      ++metrics_.click_batches_resent;
      send(std::move(call));
    }
  }
  if (pending_.empty()) return;
  // All slots busy: the pending clicks wait (bounded by max_pending); a completion re-flushes.
  if (in_flight_ + unresolved_.size() >= limits_.max_in_flight) return;
  auto call = std::make_shared<Call>();
  call->seq = next_seq_++;
  call->id = instance_ + ':' + std::to_string(call->seq);
  call->give_up_at = Clock::now() + limits_.retry_window;
  call->batch = std::move(pending_);
  pending_ = ClickBatch();
  ++metrics_.click_batches;
  metrics_.click_batch_size.observe(static_cast<double>(call->batch.size()));
  send(std::move(call));
}

void ClickBatcher::send(CallPtr call) {
  ++in_flight_;
  auto args = call->batch.script_args(prefix_, call->id, limits_.clicks_per_s);
  redis::CallOptions options;
  options.timeout = limits_.timeout;
  options.wait_replicas = limits_.wait_replicas;
  options.wait_timeout = limits_.wait_timeout;
  script_.call(
      redis_, {schedule_key_}, std::move(args),
      [this, call, alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> reply) mutable {
        if (alive.expired()) return;
        --in_flight_;
        on_reply(std::move(call), std::move(reply));
        // Posted, not called: a lost connection fails every call from inside hiredis, and the
        // client only reports disconnected once that is over.
        schedule_flush();
      },
      options);
}

void ClickBatcher::on_reply(CallPtr call, Result<redis::Reply> reply) {
  switch (classify(reply)) {
    case CallOutcome::answered:
      // An error reply to a resend (OOM, MISCONF, READONLY during a failover…) says nothing
      // about the earlier send, which may have run: keep resending within the window. NOROUND
      // and BADARG are final (no schedule / a batch Redis will never accept).
      if (call->ambiguous && reply->is_error() && !reply->is_error_code("NOROUND") &&
          !reply->is_error_code("BADARG")) {
        CR_LOG(warn) << "resent click batch " << call->id << " got " << reply->str()
                     << "; resending it again";
        call->resend_at = Clock::now() + kPollPeriod;
        return keep_for_resend(std::move(call));
      }
      return finish(call->batch, std::move(reply));
    case CallOutcome::closed:
      return finish(call->batch, std::move(reply));
    case CallOutcome::not_sent:
      // Nothing was sent this time, but an earlier send of it may have run.
      if (call->ambiguous) return keep_for_resend(std::move(call));
      return finish(call->batch, std::move(reply));
    case CallOutcome::ambiguous:
      if (!call->ambiguous) {
        call->ambiguous = true;
        CR_LOG(warn) << "click batch " << call->id << " (" << call->batch.size()
                     << " clicks) unanswered: " << reply.error().message
                     << "; resending it when Redis is back";
      }
      return keep_for_resend(std::move(call));
  }
}

void ClickBatcher::keep_for_resend(CallPtr call) {
  if (Clock::now() >= call->give_up_at) return give_up(*call);
  // Calls fail in send order, but a resend's failure may come after a newer call's: keep the
  // queue ordered by sequence.
  auto pos = std::upper_bound(unresolved_.begin(), unresolved_.end(), call->seq,
                              [](std::uint64_t seq, const CallPtr& c) { return seq < c->seq; });
  unresolved_.insert(pos, std::move(call));
  if (!polling_) poll_unresolved();
}

// While batches wait for a resend: give up on those past their window, resend the others as
// soon as the client is connected (flush() does both the resends and the ordering).
void ClickBatcher::poll_unresolved() {
  polling_ = true;
  poll_.expires_after(kPollPeriod);
  poll_.async_wait([this, alive = std::weak_ptr<char>(alive_)](const asio::error_code& ec) {
    if (ec || alive.expired()) return;
    polling_ = false;
    auto now = Clock::now();
    for (auto it = unresolved_.begin(); it != unresolved_.end();) {
      if ((*it)->give_up_at > now) {
        ++it;
        continue;
      }
      CallPtr call = std::move(*it);
      it = unresolved_.erase(it);
      give_up(*call);
    }
    flush();
    if (!unresolved_.empty() && !polling_) poll_unresolved();
  });
}

void ClickBatcher::give_up(Call& call) {
  ++metrics_.click_batches_given_up;
  CR_LOG(error) << "click batch " << call.id << " still unresolved after "
                << limits_.retry_window.count() << " ms: its " << call.batch.size()
                << " clicks are answered '" << kUnavailableError
                << "' (Redis may hold them nonetheless)";
  finish(call.batch, make_error(kUnavailableError));
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
    std::vector<ClickBatch::PlayerGrant> grants;
    grants.reserve(reply->size() / 2);
    for (std::size_t i = 1; i + 1 < reply->size(); i += 2) {
      grants.push_back({(*reply)[i].integer(), (*reply)[i + 1].integer()});
    }
    if (reply->size() % 2 == 0) grants.clear();  // {round, then pairs}: a stray element
    outcomes = batch.complete((*reply)[0].integer(), grants, rate_error_);
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
