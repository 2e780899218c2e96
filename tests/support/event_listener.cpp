#include "event_listener.hpp"

#include <gtest/gtest.h>
#include <poll.h>

namespace clickrace::test {

EventListener::EventListener(int port, const std::string& channel) {
  timeval tv{2, 0};
  ctx_ = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (ctx_ == nullptr || ctx_->err) return;
  redisSetTimeout(ctx_, tv);
  auto* r =
      static_cast<redisReply*>(redisCommand(ctx_, "SUBSCRIBE %b", channel.data(), channel.size()));
  if (r == nullptr) return;
  freeReplyObject(r);  // the subscribe confirmation
  subscribed_ = true;
  thread_ = std::thread([this] { run(); });
}

EventListener::~EventListener() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (ctx_ != nullptr) redisFree(ctx_);
}

void EventListener::run() {
  while (!stop_) {
    void* raw = nullptr;
    if (redisReaderGetReply(ctx_->reader, &raw) != REDIS_OK) return;
    if (raw == nullptr) {
      // Nothing buffered: wait briefly for bytes so stop_ is seen promptly.
      pollfd p{ctx_->fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      if (redisBufferRead(ctx_) != REDIS_OK) return;
      continue;
    }
    auto* r = static_cast<redisReply*>(raw);
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
        std::string(r->element[0]->str, r->element[0]->len) == "message") {
      std::string payload(r->element[2]->str, r->element[2]->len);
      auto j = nlohmann::json::parse(payload, nullptr, false);
      if (j.is_object()) {
        std::lock_guard<std::mutex> lock(mu_);
        events_.push_back(Event{j.value("event", ""), j.value("round", int64_t{0}),
                                j.value("data", nlohmann::json())});
      } else {
        ADD_FAILURE() << "non-JSON event: " << payload;
      }
    }
    freeReplyObject(r);
  }
}

std::vector<EventListener::Event> EventListener::events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

std::vector<bus::RoundResult> EventListener::ended() const {
  std::vector<bus::RoundResult> out;
  for (const auto& e : events()) {
    if (e.event != "RoundEnded") continue;
    auto r = bus::parse_round_result(e.data.dump());
    EXPECT_TRUE(r) << e.data.dump();
    EXPECT_EQ(e.round, r ? r->round : -1);
    if (r) out.push_back(*r);
  }
  return out;
}

}  // namespace clickrace::test
