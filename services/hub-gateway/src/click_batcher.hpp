#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "click_batch.hpp"
#include "clickrace/redis/cluster_client.hpp"
#include "clickrace/redis/script.hpp"
#include "metrics.hpp"
#include "score_partitions.hpp"

// Group commit of clicks: every click that arrives during one loop turn goes into ONE click.lua
// call (EVALSHA); several calls may be in flight, at most `max_in_flight`. Outcomes are delivered
// when Redis answers. Nothing queues without bound: when Redis is down, clicks fail at once;
// when too many wait for a batch slot, new clicks are refused.
//
// Exactly once (DESIGN §2 invariant 1): every batch carries an id `<instance>:<sequence>` and
// click.lua applies an id at most once, answering a repeat with the first run's reply. A call
// that may have run without us hearing the answer (connection lost, timeout) is therefore kept
// and resent with the same id as soon as the Redis client is connected — before any newer
// batch, so Redis applies batches in the order they were formed — and its callers are answered
// when it resolves. Only a batch still unresolved after `retry_window` fails with "service
// unavailable" (then, and only then, Redis may hold clicks nobody acknowledged).
//
// Partitions (DESIGN §3.1): a flush's clicks are grouped by the player's score partition, one
// click.lua call per partition that has clicks (each with its own id, deadline and WAIT), so
// each call touches one slot. click.lua's refusals write nothing and prove the id unused there:
// STALEROUND <id> (the round guess was off) is resent at once with that round, same id;
// PARTITIONS <S> (the partition count changed) is regrouped under S with fresh ids; a cluster
// redirection the client could not finish in time (TRYAGAIN during a slot migration...) and,
// with S > 1, NOROUND (a partition's schedule copy is missing for a moment) are resent within
// the batch's window.
namespace clickrace::gateway {

inline constexpr const char* kNoRoundError = "no round is running yet";
inline constexpr const char* kUnavailableError = "service unavailable";
inline constexpr const char* kOverloadedError = "server busy, try again";

// What a click.lua call's Result tells about the batch.
enum class CallOutcome {
  answered,   // Redis replied (a result or an error reply): resolved
  not_sent,   // failed before it was sent (not connected, overloaded): nothing was applied
  ambiguous,  // may or may not have run (connection lost, timeout), or ran but is not yet on
              // a replica (WAIT fell short): resend with the same id
  closed,     // the client was closed (shutdown): give up
};
CallOutcome classify(const Result<redis::Reply>& reply);
// The error a click beyond the player's rate gets (the same text locally and fleet-wide).
std::string rate_limit_error(int clicks_per_s);

class ClickBatcher {
 public:
  using Sink = std::function<void(std::vector<ClickOutcome>&)>;

  struct Limits {
    // Click.lua calls in flight or awaiting a resend; a new batch waits for a free slot.
    std::size_t max_in_flight = 64;
    std::size_t max_pending = 100000;  // clicks waiting for a slot
    std::chrono::milliseconds timeout{1000};
    // How long an ambiguous batch is resent before its callers get "service unavailable".
    // Must stay well below click.lua's 60 s memory of batch ids (Options caps it at 30 s).
    std::chrono::milliseconds retry_window{10000};
    // Each player's clicks per second over the whole fleet (click.lua's token bucket, with a
    // burst of as many); 0 = unlimited.
    int clicks_per_s = 0;
    // A bounded flush window: a batch smaller than `flush_min_clicks` waits up to
    // `flush_window` for more clicks instead of leaving at the end of the loop turn (one timer,
    // no spinning); it leaves at once when it reaches flush_min_clicks. One click.lua call then
    // serves several turns' clicks: Redis's per-call cost shrinks when arrivals are spread, for
    // at most `flush_window` more latency. 0 = off (every turn flushes).
    std::chrono::microseconds flush_window{0};
    std::size_t flush_min_clicks = 64;
    // On a Redis Cluster: `WAIT wait_replicas` pipelined behind each click.lua call, so a batch
    // is acknowledged only once a replica has it (a primary killed -9 right after loses no
    // acknowledged click). Fewer replicas in wait_timeout: the batch stays unresolved and is
    // resent (same id: counted once) until it is durable or its window ends. 0 = no WAIT.
    int wait_replicas = 0;
    std::chrono::milliseconds wait_timeout{500};
  };

  ClickBatcher(asio::io_context& io, redis::ClusterClient& redis, ScorePartitions& partitions,
               Limits limits, Metrics& metrics, Sink sink);
  ~ClickBatcher();

  // Queues a click for the next batch, or returns the error to answer right away.
  std::optional<std::string> add(ClickRequest request);
  // Resends unresolved batches, then sends whatever is pending now (also used at shutdown).
  void flush();
  std::size_t in_flight() const { return in_flight_; }
  std::size_t pending() const { return pending_.size(); }
  // Batches that may have run and wait to be resent.
  std::size_t unresolved() const { return unresolved_.size(); }

 private:
  // One click.lua call, kept until it resolves.
  struct Call {
    std::uint64_t seq = 0;
    std::string id;  // `<instance>:<seq>`
    ClickBatch batch;
    int partition = 0;  // of `partitions`: the layout its keys are in (kept for every resend)
    int partitions = 1;
    std::int64_t round = -1;  // the round guess to send; -1: the current hint at each send
    int stale_resends = 0;    // STALEROUND answers so far
    bool noround = false;     // the last answer was NOROUND (S > 1: the copy may come back)
    std::chrono::steady_clock::time_point noround_until{};
    bool ambiguous = false;  // a send of it may have run
    // First send + retry window: after it no resend goes out (options.hpp: the window plus one
    // timeout stays within click.lua's memory of the id, so a late resend cannot count twice).
    std::chrono::steady_clock::time_point give_up_at;
    // After an error reply to a resend, the next one waits a poll period (no hot loop against a
    // Redis answering OOM/READONLY).
    std::chrono::steady_clock::time_point resend_at;
  };
  using CallPtr = std::shared_ptr<Call>;

  void schedule_flush();
  CallPtr new_call(ClickBatch batch, int partition, int partitions,
                   std::chrono::steady_clock::time_point give_up_at);
  // Sends the call's clicks again grouped under the current partition count, with fresh ids
  // (only for a call proven not to have run: no send of it is ambiguous).
  void regroup(CallPtr call);
  bool on_refusal(CallPtr& call, const redis::Reply& reply);
  void send(CallPtr call);
  void on_reply(CallPtr call, Result<redis::Reply> reply);
  void keep_for_resend(CallPtr call);
  void poll_unresolved();
  void give_up(Call& call);
  void finish(ClickBatch& batch, Result<redis::Reply> reply);

  asio::io_context& io_;
  redis::ClusterClient& redis_;
  ScorePartitions& partitions_;
  Limits limits_;
  Metrics& metrics_;
  Sink sink_;
  redis::Script script_;
  std::string instance_;  // random per process: batch ids never collide across gateways
  std::string rate_error_;
  std::uint64_t next_seq_ = 1;
  ClickBatch pending_;
  bool flush_posted_ = false;
  asio::steady_timer flush_timer_;  // the bounded flush window (Limits::flush_window)
  bool flush_timer_armed_ = false;
  std::size_t in_flight_ = 0;
  std::deque<CallPtr> unresolved_;  // ambiguous calls not in flight, oldest (lowest seq) first
  asio::steady_timer poll_;
  bool polling_ = false;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace clickrace::gateway
