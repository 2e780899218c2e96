#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <asio/io_context.hpp>

#include "click_batch.hpp"
#include "clickrace/redis/client.hpp"
#include "clickrace/redis/script.hpp"
#include "metrics.hpp"

// Group commit of clicks: every click that arrives during one loop turn goes into ONE click.lua
// call (EVALSHA); several calls may be in flight, at most `max_in_flight`. Outcomes are delivered
// when Redis answers. Nothing queues without bound: when Redis is down, clicks fail at once;
// when too many wait for a batch slot, new clicks are refused.
namespace clickrace::gateway {

inline constexpr const char* kNoRoundError = "no round is running yet";
inline constexpr const char* kUnavailableError = "service unavailable";
inline constexpr const char* kOverloadedError = "server busy, try again";

class ClickBatcher {
 public:
  using Sink = std::function<void(std::vector<ClickOutcome>&)>;

  struct Limits {
    std::size_t max_in_flight = 64;    // concurrent click.lua calls
    std::size_t max_pending = 100000;  // clicks waiting for a slot
    std::chrono::milliseconds timeout{1000};
  };

  ClickBatcher(asio::io_context& io, redis::Client& redis, std::string key_prefix, Limits limits,
               Metrics& metrics, Sink sink);
  ~ClickBatcher();

  // Queues a click for the next batch, or returns the error to answer right away.
  std::optional<std::string> add(ClickRequest request);
  // Sends whatever is pending now (also used at shutdown).
  void flush();
  std::size_t in_flight() const { return in_flight_; }
  std::size_t pending() const { return pending_.size(); }

 private:
  void schedule_flush();
  void finish(ClickBatch& batch, Result<redis::Reply> reply);

  asio::io_context& io_;
  redis::Client& redis_;
  std::string prefix_;
  std::string schedule_key_;
  Limits limits_;
  Metrics& metrics_;
  Sink sink_;
  redis::Script script_;
  ClickBatch pending_;
  bool flush_posted_ = false;
  std::size_t in_flight_ = 0;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace clickrace::gateway
