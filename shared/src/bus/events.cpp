#include "clickrace/bus/events.hpp"

#include <optional>

#include "clickrace/core/config.hpp"

namespace clickrace::bus {

using nlohmann::json;

bool RoundStarted::operator==(const RoundStarted& o) const {
  return round == o.round && starts_at == o.starts_at && ends_at == o.ends_at &&
         server_time == o.server_time;
}

bool RoundResult::operator==(const RoundResult& o) const {
  return round == o.round && started_at == o.started_at && ended_at == o.ended_at &&
         winners == o.winners && winner_count == o.winner_count &&
         winning_clicks == o.winning_clicks && total_clicks == o.total_clicks &&
         players == o.players;
}

bool Leaderboard::operator==(const Leaderboard& o) const {
  return round == o.round && remaining_ms == o.remaining_ms && total_clicks == o.total_clicks &&
         top == o.top;
}

void to_json(json& j, const RoundStarted& v) {
  j = json{{"round", v.round},
           {"startsAt", v.starts_at},
           {"endsAt", v.ends_at},
           {"serverTime", v.server_time}};
}

void from_json(const json& j, RoundStarted& v) {
  j.at("round").get_to(v.round);
  j.at("startsAt").get_to(v.starts_at);
  j.at("endsAt").get_to(v.ends_at);
  j.at("serverTime").get_to(v.server_time);
}

void to_json(json& j, const RoundResult& v) {
  j = json{{"round", v.round},
           {"startedAt", v.started_at},
           {"endedAt", v.ended_at},
           {"winners", v.winners},  // an empty vector is `[]`
           {"winnerCount", v.winner_count},
           {"winningClicks", v.winning_clicks},
           {"totalClicks", v.total_clicks},
           {"players", v.players}};
}

void from_json(const json& j, RoundResult& v) {
  j.at("round").get_to(v.round);
  j.at("startedAt").get_to(v.started_at);
  j.at("endedAt").get_to(v.ended_at);
  j.at("winners").get_to(v.winners);
  j.at("winnerCount").get_to(v.winner_count);
  j.at("winningClicks").get_to(v.winning_clicks);
  j.at("totalClicks").get_to(v.total_clicks);
  j.at("players").get_to(v.players);
}

void to_json(json& j, const TopEntry& v) { j = json{{"name", v.name}, {"clicks", v.clicks}}; }

void from_json(const json& j, TopEntry& v) {
  j.at("name").get_to(v.name);
  j.at("clicks").get_to(v.clicks);
}

void to_json(json& j, const Leaderboard& v) {
  j = json{{"round", v.round},
           {"remainingMs", v.remaining_ms},
           {"totalClicks", v.total_clicks},
           {"top", v.top}};
}

void from_json(const json& j, Leaderboard& v) {
  j.at("round").get_to(v.round);
  j.at("remainingMs").get_to(v.remaining_ms);
  j.at("totalClicks").get_to(v.total_clicks);
  j.at("top").get_to(v.top);
}

namespace {

template <typename T>
Result<T> parse_as(std::string_view text, const char* what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return make_error(std::string("bad ") + what + " JSON");
  try {
    return j.get<T>();
  } catch (const json::exception&) {
    return make_error(std::string("bad ") + what + " JSON");
  }
}

}  // namespace

Result<RoundResult> parse_round_result(std::string_view text) {
  return parse_as<RoundResult>(text, "RoundResult");
}
Result<RoundStarted> parse_round_started(std::string_view text) {
  return parse_as<RoundStarted>(text, "RoundStarted");
}
Result<Leaderboard> parse_leaderboard(std::string_view text) {
  return parse_as<Leaderboard>(text, "Leaderboard");
}

Result<Envelope> parse_envelope(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return make_error("bad envelope");
  auto event = j.find("event");
  auto round = j.find("round");
  auto data = j.find("data");
  if (event == j.end() || !event->is_string() || event->get_ref<const std::string&>().empty() ||
      round == j.end() || !round->is_number_integer() || data == j.end()) {
    return make_error("bad envelope");
  }
  Envelope env;
  env.event = event->get<std::string>();
  env.round = round->get<int64_t>();
  env.data = data->dump();  // compact, valid JSON whatever the publisher's spacing
  return env;
}

std::string build_envelope(std::string_view event, int64_t round, const json& data) {
  return json{{"event", event}, {"round", round}, {"data", data}}.dump();
}

namespace {

std::optional<int64_t> field(const std::vector<std::pair<std::string, std::string>>& fields,
                             const char* name) {
  for (const auto& [k, v] : fields) {
    if (k == name) return core::parse_int(v);
  }
  return std::nullopt;
}

bool present(const std::vector<std::pair<std::string, std::string>>& fields, const char* name) {
  for (const auto& kv : fields) {
    if (kv.first == name) return true;
  }
  return false;
}

// A whole optional segment: absent, or all three fields valid.
Result<std::optional<core::Segment>> segment(
    const std::vector<std::pair<std::string, std::string>>& fields, const std::string& prefix) {
  auto e = field(fields, (prefix + "epoch").c_str());
  auto l = field(fields, (prefix + "len").c_str());
  auto b = field(fields, (prefix + "base").c_str());
  if (!present(fields, (prefix + "epoch").c_str()) && !present(fields, (prefix + "len").c_str()) &&
      !present(fields, (prefix + "base").c_str())) {
    return std::optional<core::Segment>{};
  }
  if (!e || !l || !b || *l <= 0 || *b < 1) return make_error("bad schedule");
  return std::optional<core::Segment>(core::Segment{*e, *l, *b});
}

}  // namespace

Result<core::Schedule> schedule_from_hash(
    const std::vector<std::pair<std::string, std::string>>& fields) {
  auto main = segment(fields, "");
  auto next = segment(fields, "next_");
  auto prev = segment(fields, "prev_");
  if (!main || !next || !prev || !*main) return make_error("bad schedule");
  core::Schedule s;
  s.epoch = (*main)->epoch;
  s.len = (*main)->len;
  s.base = (*main)->base;
  s.pending = *next;
  s.previous = *prev;
  return s;
}

Result<ScheduleReply> schedule_from_reply(const std::vector<int64_t>& r) {
  if (r.size() != 7 || r[1] <= 0 || r[2] < 1) return make_error("bad schedule");
  ScheduleReply out;
  out.schedule.epoch = r[0];
  out.schedule.len = r[1];
  out.schedule.base = r[2];
  if (r[4] != 0) {
    if (r[4] < 0 || r[5] < 1) return make_error("bad schedule");
    out.schedule.pending = core::Segment{r[3], r[4], r[5]};
  }
  out.now = r[6];
  return out;
}

json schedule_json(const core::Schedule& s) {
  json j{{"epoch", s.epoch}, {"len", s.len}, {"base", s.base}, {"pending", nullptr}};
  if (s.pending) {
    j["pending"] =
        json{{"epoch", s.pending->epoch}, {"len", s.pending->len}, {"base", s.pending->base}};
  }
  return j;
}

}  // namespace clickrace::bus
