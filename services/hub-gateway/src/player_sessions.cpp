#include "player_sessions.hpp"

#include "clickrace/bus/lua_scripts.hpp"
#include "clickrace/core/log.hpp"

namespace clickrace::gateway {

PlayerSessions::PlayerSessions(asio::io_context& io, redis::ClusterClient& redis,
                               const bus::Keys& keys, std::string instance, int cap,
                               std::chrono::milliseconds stale, Metrics& metrics, Evict evict)
    : io_(io),
      redis_(redis),
      keys_(keys),
      instance_(std::move(instance)),
      cap_(cap),
      stale_(stale),
      metrics_(metrics),
      evict_(std::move(evict)),
      script_(bus::lua::sessions),
      timer_(io) {
  script_.preload(redis_);  // loaded in every connect handshake: no NOSCRIPT round trip
}

PlayerSessions::~PlayerSessions() = default;

void PlayerSessions::opened(ConnId id, const std::string& player,
                            const std::string& connection_id) {
  std::string key = keys_.player_connections(player);
  entries_[id] = Entry{key, connection_id, {}};
  by_connection_id_[connection_id] = id;
  if (!redis_.connected()) return;  // let in unregistered (see the header)
  script_.call(
      redis_, {key},
      {"open", keys_.prefix(), instance_, connection_id, std::to_string(cap_),
       std::to_string(stale_.count())},
      [this, id, key, alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> r) {
        if (alive.expired()) return;
        if (!r || !r->is_array() || r->size() != 2 || !(*r)[0].is_string()) {
          CR_LOG(warn) << "connection registry: open failed: "
                       << (r ? r->debug_string() : r.error().message);
          return;
        }
        if ((*r)[1].is_integer()) metrics_.connections_evicted_elsewhere += (*r)[1].integer();
        auto it = entries_.find(id);
        if (it == entries_.end()) {
          // Closed before the answer: the close found nothing to remove yet.
          script_.call(redis_, {key}, {"close", (*r)[0].str()}, [](Result<redis::Reply>) {});
          return;
        }
        it->second.member = (*r)[0].str();
      });
}

void PlayerSessions::closed(ConnId id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry e = std::move(it->second);
  entries_.erase(it);
  by_connection_id_.erase(e.connection_id);
  if (e.member.empty() || !redis_.connected()) return;
  script_.call(redis_, {e.key}, {"close", e.member}, [](Result<redis::Reply>) {});
}

void PlayerSessions::on_kick(const std::string& connection_id) {
  auto it = by_connection_id_.find(connection_id);
  if (it == by_connection_id_.end()) return;  // already gone
  ConnId id = it->second;
  ++metrics_.connections_evicted;
  evict_(id);
}

void PlayerSessions::start() { schedule_confirm(); }

void PlayerSessions::schedule_confirm() {
  timer_.expires_after(stale_ / 3);
  timer_.async_wait([this, alive = std::weak_ptr<char>(alive_)](const asio::error_code& ec) {
    if (ec || alive.expired()) return;
    confirm_all();
    schedule_confirm();
  });
}

// One small script call per connection every stale/3 (10 s by default): ~1,000 calls/s for
// 10,000 connections, pipelined on the command connection.
void PlayerSessions::confirm_all() {
  if (!redis_.connected()) return;
  for (auto& [id, e] : entries_) {
    if (e.member.empty()) continue;
    script_.call(redis_, {e.key}, {"touch", e.member, std::to_string(stale_.count())},
                 [this, id = id, alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> r) {
                   if (alive.expired() || !r || !r->is_integer() || r->integer() != 0) return;
                   // Evicted by a newer connection while its kick message was lost.
                   auto it = entries_.find(id);
                   if (it == entries_.end()) return;
                   on_kick(it->second.connection_id);
                 });
  }
}

}  // namespace clickrace::gateway
