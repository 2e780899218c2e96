#include "click_batcher.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <cstdio>
#include <random>

#include "clickrace/bus/keys.hpp"
#include "clickrace/bus/lua_scripts.hpp"
#include "clickrace/bus/partitions.hpp"
#include "clickrace/core/config.hpp"
#include "clickrace/core/log.hpp"

namespace clickrace::gateway {
namespace {

using Clock = std::chrono::steady_clock;

// How often unresolved batches are looked at while they wait for the Redis client to reconnect.
constexpr std::chrono::milliseconds kPollPeriod{50};
// STALEROUND answers resent at once; beyond this a call waits a poll period between resends.
constexpr int kQuickStaleResends = 3;
// With S > 1, how long a call answered NOROUND is resent (a partition's schedule copy missing for
// a moment: written after the schedule, or lost with its node) before its clicks get "no round
// is running yet". The leader re-writes the copies at every lease renewal.
constexpr std::chrono::milliseconds kNoRoundGrace{3000};

// Cluster answers that prove the command did not run and that a later attempt may pass (the
// client's own retries ran out within the call's deadline): a slot migration, a failover.
bool cluster_retryable(const redis::Reply& r) {
  for (const char* code :
       {"TRYAGAIN", "ASK", "MOVED", "CLUSTERDOWN", "LOADING", "MASTERDOWN", "READONLY"}) {
    if (r.is_error_code(code)) return true;
  }
  return false;
}

// The number after "<CODE> " in an error reply, or -1.
std::int64_t error_number(const redis::Reply& r) {
  const std::string& text = r.str();
  auto space = text.find(' ');
  if (space == std::string::npos) return -1;
  auto n = core::parse_int(text.substr(space + 1));
  return n && *n >= 0 ? *n : -1;
}

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
                           ScorePartitions& partitions, Limits limits, Metrics& metrics, Sink sink)
    : io_(io),
      redis_(redis),
      partitions_(partitions),
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
      // Proven not to have run and grouped by a count that changed meanwhile: regroup.
      if (!call->ambiguous && call->partitions != partitions_.count()) {
        regroup(std::move(call));
      } else {
        send(std::move(call));
      }
    }
  }
  if (pending_.empty()) return;
  // All slots busy: the pending clicks wait (bounded by max_pending); a completion re-flushes.
  // (One flush may take up to S - 1 slots beyond the bound: one call per partition.)
  if (in_flight_ + unresolved_.size() >= limits_.max_in_flight) return;
  auto give_up_at = Clock::now() + limits_.retry_window;
  int count = partitions_.count();
  auto batches = pending_.split(count);
  pending_ = ClickBatch();
  for (int k = 0; k < count; ++k) {
    auto& batch = batches[static_cast<std::size_t>(k)];
    if (!batch.empty()) send(new_call(std::move(batch), k, count, give_up_at));
  }
}

ClickBatcher::CallPtr ClickBatcher::new_call(ClickBatch batch, int partition, int partitions,
                                             Clock::time_point give_up_at) {
  auto call = std::make_shared<Call>();
  call->seq = next_seq_++;
  call->id = instance_ + ':' + std::to_string(call->seq);
  call->give_up_at = give_up_at;
  call->batch = std::move(batch);
  call->partition = partition;
  call->partitions = partitions;
  ++metrics_.click_batches;
  metrics_.click_batch_size.observe(static_cast<double>(call->batch.size()));
  return call;
}

void ClickBatcher::regroup(CallPtr call) {
  ++metrics_.click_batches_regrouped;
  int count = partitions_.count();
  CR_LOG(info) << "click batch " << call->id << " grouped by " << call->partitions
               << " partitions: sent again by " << count;
  auto batches = call->batch.split(count);
  for (int k = 0; k < count; ++k) {
    auto& batch = batches[static_cast<std::size_t>(k)];
    if (!batch.empty()) send(new_call(std::move(batch), k, count, call->give_up_at));
  }
}

void ClickBatcher::send(CallPtr call) {
  ++in_flight_;
  std::int64_t round = call->round >= 0 ? call->round : partitions_.round_hint();
  auto keys =
      call->batch.script_keys(partitions_.keys(call->partition, call->partitions), call->id, round);
  auto args = call->batch.script_args(call->id, limits_.clicks_per_s, call->partitions, round);
  redis::CallOptions options;
  options.timeout = limits_.timeout;
  options.wait_replicas = limits_.wait_replicas;
  options.wait_timeout = limits_.wait_timeout;
  script_.call(
      redis_, std::move(keys), std::move(args),
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

// click.lua's refusals, which wrote nothing: true when the call was taken care of (resent,
// regrouped, or kept for a resend). They are answered after the batch-id check, so they also
// prove that no earlier send of this id ran here: the call is no longer ambiguous.
bool ClickBatcher::on_refusal(CallPtr& call, const redis::Reply& reply) {
  auto now = Clock::now();
  if (reply.is_error_code("STALEROUND")) {
    std::int64_t round = error_number(reply);
    if (round < 0) return false;
    ++metrics_.click_stale_rounds;
    partitions_.set_round_hint(round);
    call->round = round;
    call->ambiguous = false;
    call->noround = false;
    if (++call->stale_resends <= kQuickStaleResends && now < call->give_up_at) {
      send(std::move(call));
      return true;
    }
    call->resend_at = now + kPollPeriod;
    keep_for_resend(std::move(call));
    return true;
  }
  if (reply.is_error_code("PARTITIONS")) {
    std::int64_t count = error_number(reply);
    if (count < 1 || count > bus::kMaxPartitions) {
      CR_LOG(error) << "click script: unusable partition count in '" << reply.str() << "'";
      return false;
    }
    partitions_.adopt(static_cast<int>(count));
    partitions_.refresh();
    call->ambiguous = false;
    if (now >= call->give_up_at) return false;
    regroup(std::move(call));
    return true;
  }
  if (reply.is_error_code("NOROUND") && call->partitions > 1) {
    // A partition without its copy while the count says S > 1: the copy may be on its way (or
    // the schedule is gone, and the refresh brings S = 1 back).
    if (!call->noround) call->noround_until = now + kNoRoundGrace;
    call->noround = true;
    call->ambiguous = false;
    if (now >= call->noround_until || now >= call->give_up_at) return false;
    partitions_.refresh();
    call->resend_at = now + kPollPeriod;
    keep_for_resend(std::move(call));
    return true;
  }
  if (cluster_retryable(reply)) {
    // The cluster client's retries ran out (a slot migration or failover longer than one call's
    // deadline): nothing ran; try again within the batch's window.
    call->resend_at = now + kPollPeriod;
    keep_for_resend(std::move(call));
    return true;
  }
  return false;
}

void ClickBatcher::on_reply(CallPtr call, Result<redis::Reply> reply) {
  switch (classify(reply)) {
    case CallOutcome::answered:
      if (reply->is_error() && on_refusal(call, *reply)) return;
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
  if (call.noround) return finish(call.batch, redis::Reply::error("NOROUND no round is running"));
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
