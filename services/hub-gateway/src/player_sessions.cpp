#include "player_sessions.hpp"

#include "clickrace/bus/lua_scripts.hpp"
#include "clickrace/core/log.hpp"

namespace clickrace::gateway {
namespace {

// The connection id inside a registry member "<opened ms>:<instance>:<connection id>".
std::string connection_id_of(const std::string& member) {
  auto a = member.find(':');
  auto b = a == std::string::npos ? a : member.find(':', a + 1);
  return b == std::string::npos ? std::string() : member.substr(b + 1);
}

}  // namespace

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
  Entry& e = entries_[id];
  e.keys = {keys_.player_connections(player), keys_.player_evicted(player)};
  e.connection_id = connection_id;
  by_connection_id_[connection_id] = id;
  if (redis_.connected()) register_entry(id, e);  // else: at the next confirmation
}

void PlayerSessions::register_entry(ConnId id, Entry& e) {
  e.state = State::opening;
  script_.call(
      redis_, e.keys,
      {"open", keys_.prefix(), instance_, e.connection_id, std::to_string(cap_),
       std::to_string(stale_.count())},
      [this, id, keys = e.keys, alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> r) {
        if (alive.expired()) return;
        auto it = entries_.find(id);
        bool ok = r && r->is_array() && r->size() == 2 && (*r)[0].is_string();
        if (!ok) {
          CR_LOG(warn) << "connection registry: open failed: "
                       << (r ? r->debug_string() : r.error().message);
          if (it != entries_.end()) it->second.state = State::unregistered;
          return;
        }
        if ((*r)[1].is_integer()) {
          metrics_.connections_evicted_elsewhere += (*r)[1].integer();
        }
        if (it == entries_.end()) {
          // Closed before the answer: the close found nothing to remove yet.
          script_.call(redis_, keys, {"close", (*r)[0].str()}, [](Result<redis::Reply>) {});
          return;
        }
        it->second.member = (*r)[0].str();
        it->second.state = State::registered;
      });
}

void PlayerSessions::closed(ConnId id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry e = std::move(it->second);
  entries_.erase(it);
  by_connection_id_.erase(e.connection_id);
  // Not removed while Redis is down: the entry then stops being confirmed and is the first
  // evicted (as late) or dropped after `stale`.
  if (e.member.empty() || !redis_.connected()) return;
  script_.call(redis_, e.keys, {"close", e.member}, [](Result<redis::Reply>) {});
}

void PlayerSessions::on_kick(const std::string& member) {
  auto it = by_connection_id_.find(connection_id_of(member));
  if (it == by_connection_id_.end()) return;  // already gone
  auto entry = entries_.find(it->second);
  if (entry == entries_.end()) return;
  // A kick for an earlier registration of this connection id is not for this one.
  if (!entry->second.member.empty() && entry->second.member != member) return;
  ++metrics_.connections_evicted;
  evict_(it->second);
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
// 10,000 connections, pipelined on the command connection. Connections that could not be
// registered (Redis was down, the call failed) are registered now.
void PlayerSessions::confirm_all() {
  if (!redis_.connected()) return;
  for (auto& [id, e] : entries_) {
    if (e.state == State::unregistered) {
      register_entry(id, e);
      continue;
    }
    if (e.state != State::registered) continue;
    script_.call(
        redis_, e.keys,
        {"touch", keys_.prefix(), e.member, std::to_string(cap_), std::to_string(stale_.count())},
        [this, member = e.member, alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> r) {
          if (alive.expired() || !r || !r->is_integer() || r->integer() != 0) return;
          on_kick(member);  // evicted while its kick message was lost
        });
  }
}

}  // namespace clickrace::gateway
