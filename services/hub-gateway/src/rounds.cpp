#include "rounds.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "clickrace/bus/events.hpp"
#include "clickrace/bus/partitions.hpp"
#include "clickrace/core/config.hpp"
#include "clickrace/core/round_math.hpp"

namespace clickrace::gateway {
namespace {

Error unavailable() { return Error{"service unavailable"}; }

constexpr std::size_t kTop = 10;

// The reads of one current() call: the answer goes out when the last of them is back.
struct Gather {
  nlohmann::json body;
  Rounds::Done done;
  std::vector<std::vector<bus::TopEntry>> tops;  // every partition's top, merged at the end
  std::size_t left = 0;
  bool failed = false;
};

std::vector<bus::TopEntry> parse_top(const redis::Reply& r) {
  std::vector<bus::TopEntry> out;
  for (std::size_t i = 0; i + 1 < r.size(); i += 2) {
    auto clicks = core::parse_int(r[i + 1].str());
    out.push_back({r[i].str(), clicks ? *clicks : 0});
  }
  return out;
}

void finish_one(const std::shared_ptr<Gather>& g) {
  if (--g->left > 0) return;
  if (g->failed) return g->done(unavailable());
  g->body["top"] = bus::merge_top(std::move(g->tops), kTop);
  g->done(g->body.dump());
}

}  // namespace

Rounds::Rounds(redis::ClusterClient& redis, const bus::Keys& keys, ScorePartitions& partitions)
    : redis_(redis), keys_(keys), partitions_(partitions) {}
Rounds::~Rounds() = default;

void Rounds::current(std::int64_t now_ms, std::optional<std::string> player, Done done) {
  redis_.command({"HGETALL", keys_.schedule()},
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
                   auto fields = redis::hash_pairs(*r);
                   auto schedule = bus::schedule_from_hash(fields);
                   if (!schedule || !schedule->valid()) return done(body.dump());
                   // A fresh read of the count: the batcher uses it too.
                   int count = ScorePartitions::parse(fields);
                   partitions_.adopt(count);
                   auto window = core::round_at(*schedule, now_ms);
                   body["round"] = window.id;
                   body["startsAt"] = window.starts_at;
                   body["endsAt"] = window.ends_at;
                   // Every partition's top and the player's score, pipelined (one connection per
                   // node).
                   auto g = std::make_shared<Gather>();
                   g->body = std::move(body);
                   g->done = std::move(done);
                   g->left = static_cast<std::size_t>(count) + (player ? 1 : 0);
                   for (int k = 0; k < count; ++k) {
                     redis_.command({"ZREVRANGE", partitions_.keys(k, count).scores(window.id), "0",
                                     std::to_string(kTop - 1), "WITHSCORES"},
                                    [g, alive](Result<redis::Reply> top) {
                                      if (alive.expired()) return;
                                      if (!top || !top->is_array()) {
                                        g->failed = true;
                                      } else {
                                        g->tops.push_back(parse_top(*top));
                                      }
                                      finish_one(g);
                                    });
                   }
                   if (!player) return;
                   int mine = bus::partition_of(*player, count);
                   redis_.command(
                       {"ZSCORE", partitions_.keys(mine, count).scores(window.id), *player},
                       [g, alive](Result<redis::Reply> score) {
                         if (alive.expired()) return;
                         if (!score || score->is_error()) {
                           g->failed = true;
                         } else {
                           auto n =
                               score->is_string() ? core::parse_int(score->str()) : std::nullopt;
                           g->body["myClicks"] = n ? *n : 0;
                         }
                         finish_one(g);
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
