#pragma once
#include <hiredis/hiredis.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "clickrace/bus/events.hpp"

namespace clickrace::test {

// Every envelope published on `P events`, collected by a background thread that owns its own
// hiredis connection (SUBSCRIBE, then reads with poll() so it can stop promptly).
class EventListener {
 public:
  struct Event {
    std::string event;
    int64_t round = 0;
    nlohmann::json data;
  };
  EventListener(int port, const std::string& channel);  // returns once subscribed
  ~EventListener();
  std::vector<Event> events() const;
  std::vector<bus::RoundResult> ended() const;  // RoundEnded data, in arrival order
  bool ok() const { return subscribed_; }

 private:
  void run();
  redisContext* ctx_ = nullptr;
  std::atomic<bool> stop_{false};
  std::atomic<bool> subscribed_{false};
  mutable std::mutex mu_;
  std::vector<Event> events_;
  std::thread thread_;
};

}  // namespace clickrace::test
