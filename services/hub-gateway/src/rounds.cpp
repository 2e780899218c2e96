#include "rounds.hpp"

#include <nlohmann/json.hpp>

#include "clickrace/bus/events.hpp"
#include "clickrace/core/config.hpp"
#include "clickrace/core/round_math.hpp"

namespace clickrace::gateway {
namespace {

Error unavailable() { return Error{"service unavailable"}; }

nlohmann::json top_from(const redis::Reply& r) {
  auto top = nlohmann::json::array();
  for (std::size_t i = 0; i + 1 < r.size(); i += 2) {
    auto clicks = core::parse_int(r[i + 1].str());
    top.push_back({{"name", r[i].str()}, {"clicks", clicks ? *clicks : 0}});
  }
  return top;
}

}  // namespace

Rounds::Rounds(redis::ClusterClient& redis, const bus::Keys& keys) : redis_(redis), keys_(keys) {}
Rounds::~Rounds() = default;

void Rounds::current(std::int64_t now_ms, std::optional<std::string> player, Done done) {
  redis_.command(
      {"HGETALL", keys_.schedule()},
      [this, now_ms, player = std::move(player), done = std::move(done),
       alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> r) mutable {
        if (alive.expired()) return;
        if (!r || !r->is_array()) return done(unavailable());
        nlohmann::json body = {{"round", 0},
                               {"startsAt", 0},
                               {"endsAt", 0},
                               {"serverTime", now_ms},
                               {"top", nlohmann::json::array()}};
        if (player) body["myClicks"] = 0;
        if (r->size() == 0) return done(body.dump());
        std::vector<std::pair<std::string, std::string>> fields;
        for (std::size_t i = 0; i + 1 < r->size(); i += 2) {
          fields.emplace_back((*r)[i].str(), (*r)[i + 1].str());
        }
        auto schedule = bus::schedule_from_hash(fields);
        if (!schedule || !schedule->valid()) return done(body.dump());
        auto window = core::round_at(*schedule, now_ms);
        body["round"] = window.id;
        body["startsAt"] = window.starts_at;
        body["endsAt"] = window.ends_at;
        // Both reads are pipelined; the second callback answers.
        auto shared =
            std::make_shared<std::pair<nlohmann::json, Done>>(std::move(body), std::move(done));
        redis_.command({"ZREVRANGE", keys_.scores(window.id), "0", "9", "WITHSCORES"},
                       [shared, alive](Result<redis::Reply> top) {
                         if (alive.expired()) return;
                         if (!top || !top->is_array()) {
                           shared->first = nullptr;
                           return;
                         }
                         shared->first["top"] = top_from(*top);
                       });
        std::vector<std::string> last = {"ZSCORE", keys_.scores(window.id), player ? *player : ""};
        if (!player) last = {"PING"};
        bool want_mine = player.has_value();
        redis_.command(std::move(last), [shared, want_mine, alive](Result<redis::Reply> mine) {
          if (alive.expired()) return;
          if (!mine || mine->is_error() || shared->first.is_null()) {
            return shared->second(unavailable());
          }
          if (want_mine) {
            auto n = mine->is_string() ? core::parse_int(mine->str()) : std::nullopt;
            shared->first["myClicks"] = n ? *n : 0;
          }
          shared->second(shared->first.dump());
        });
      });
}

void Rounds::list(int limit, Done done) {
  redis_.command(
      {"XREVRANGE", keys_.rounds(), "+", "-", "COUNT", std::to_string(limit)},
      [done = std::move(done), alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> r) {
        if (alive.expired()) return;
        if (!r || !r->is_array()) return done(unavailable());
        std::string out = "[";
        bool first = true;
        for (const auto& entry : r->elements()) {
          if (entry.size() != 2) continue;
          const auto& kv = entry[1];
          for (std::size_t i = 0; i + 1 < kv.size(); i += 2) {
            if (kv[i].str() != "result") continue;
            // Forwarded as stored, after a validity check.
            if (!bus::parse_round_result(kv[i + 1].str())) continue;
            if (!first) out += ',';
            first = false;
            out += kv[i + 1].str();
          }
        }
        out += ']';
        done(std::move(out));
      });
}

void Rounds::get(std::int64_t id, DoneOpt done) {
  redis_.command(
      {"GET", keys_.result(id)},
      [done = std::move(done), alive = std::weak_ptr<char>(alive_)](Result<redis::Reply> r) {
        if (alive.expired()) return;
        if (!r || r->is_error()) return done(unavailable());
        if (!r->is_string()) return done(std::optional<std::string>());
        done(std::optional<std::string>(r->str()));
      });
}

}  // namespace clickrace::gateway
