#pragma once
#include <cstdint>
#include <string>
#include <string_view>

// Every Redis key and channel of docs/bus.md, built from the prefix (CLICKRACE_KEY_PREFIX).
namespace clickrace::bus {

class Keys {
 public:
  explicit Keys(std::string prefix = "clickrace:") : p_(std::move(prefix)) {}

  const std::string& prefix() const { return p_; }
  std::string schedule() const { return p_ + "schedule"; }
  std::string scores(int64_t round) const { return round_key(round, ":scores"); }
  std::string total(int64_t round) const { return round_key(round, ":total"); }
  std::string result(int64_t round) const { return round_key(round, ":result"); }
  std::string closed() const { return p_ + "closed"; }
  std::string rounds() const { return p_ + "rounds"; }  // stream
  std::string events() const { return p_ + "events"; }  // pub/sub channel
  std::string leader() const { return p_ + "scheduler:leader"; }
  // `name_key` is core::name_key(name) (lowercased).
  std::string user(std::string_view name_key) const { return p_ + "user:" + std::string(name_key); }
  std::string token_secret() const { return p_ + "token_secret"; }
  // The hub connections of one account over the fleet (sessions.lua); `name` as in the token.
  std::string player_connections(std::string_view name) const {
    return p_ + "player:" + std::string(name) + ":conns";
  }
  // Members of player_connections() evicted for the cap (sessions.lua).
  std::string player_evicted(std::string_view name) const {
    return p_ + "player:" + std::string(name) + ":evicted";
  }
  // A gateway's own channels (instance: its random id).
  std::string gateway_heartbeat(std::string_view instance) const {
    return p_ + "gateway:" + std::string(instance) + ":heartbeat";
  }
  std::string gateway_kick(std::string_view instance) const {
    return p_ + "gateway:" + std::string(instance) + ":kick";
  }

 private:
  std::string round_key(int64_t round, const char* suffix) const {
    return p_ + "round:" + std::to_string(round) + suffix;
  }
  std::string p_;
};

}  // namespace clickrace::bus
