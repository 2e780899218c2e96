#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "clickrace/core/result.hpp"
#include "clickrace/core/round_math.hpp"

// Event payloads on `P events` and their JSON, exactly as in docs/bus.md. The `data` of each
// envelope is what the gateway sends to clients as the SignalR invocation's single argument.
namespace clickrace::bus {

inline constexpr std::string_view kRoundStarted = "RoundStarted";
inline constexpr std::string_view kRoundEnded = "RoundEnded";
inline constexpr std::string_view kLeaderboard = "Leaderboard";

// {"round","startsAt","endsAt","serverTime"}
struct RoundStarted {
  int64_t round = 0;
  int64_t starts_at = 0;
  int64_t ends_at = 0;
  int64_t server_time = 0;
  bool operator==(const RoundStarted& o) const;
};

// {"round","startedAt","endedAt","winners":[..],"winnerCount","winningClicks","totalClicks",
//  "players"}: the data of RoundEnded, stored in `P round:{id}:result` and the `P rounds` stream.
struct RoundResult {
  int64_t round = 0;
  int64_t started_at = 0;
  int64_t ended_at = 0;
  std::vector<std::string> winners;
  int64_t winner_count = 0;
  int64_t winning_clicks = 0;
  int64_t total_clicks = 0;
  int64_t players = 0;
  bool operator==(const RoundResult& o) const;
};
using RoundEnded = RoundResult;

// {"name","clicks"}
struct TopEntry {
  std::string name;
  int64_t clicks = 0;
  bool operator==(const TopEntry& o) const { return name == o.name && clicks == o.clicks; }
};

// {"round","remainingMs","totalClicks","top":[TopEntry]}
struct Leaderboard {
  int64_t round = 0;
  int64_t remaining_ms = 0;
  int64_t total_clicks = 0;
  std::vector<TopEntry> top;
  bool operator==(const Leaderboard& o) const;
};

// nlohmann conventions (from_json throws nlohmann::json::exception on a missing/mistyped field;
// use the parse_* functions below on untrusted text).
void to_json(nlohmann::json& j, const RoundStarted& v);
void from_json(const nlohmann::json& j, RoundStarted& v);
void to_json(nlohmann::json& j, const RoundResult& v);
void from_json(const nlohmann::json& j, RoundResult& v);
void to_json(nlohmann::json& j, const TopEntry& v);
void from_json(const nlohmann::json& j, TopEntry& v);
void to_json(nlohmann::json& j, const Leaderboard& v);
void from_json(const nlohmann::json& j, Leaderboard& v);

// Exception-free parsing. Error: "bad <Type> JSON".
Result<RoundResult> parse_round_result(std::string_view text);
Result<RoundStarted> parse_round_started(std::string_view text);
Result<Leaderboard> parse_leaderboard(std::string_view text);

// ---- the envelope {"event": <Target>, "round": <id>, "data": <arguments[0]>} ----
struct Envelope {
  std::string event;  // the SignalR target, e.g. "RoundEnded"
  int64_t round = 0;
  std::string data;  // the raw `data` JSON text, forwarded without re-serializing per client
};

// Errors: "bad envelope" (not JSON, not an object, missing/mistyped field). Unknown event names
// are returned as they are; the caller decides whether to forward them.
Result<Envelope> parse_envelope(std::string_view text);
std::string build_envelope(std::string_view event, int64_t round, const nlohmann::json& data);

// ---- the schedule as stored (hash `P schedule`) and as returned by schedule.lua ----
// Fields epoch, len, base [, next_epoch, next_len, next_base] [, prev_epoch, prev_len, prev_base].
// Error: "bad schedule".
Result<core::Schedule> schedule_from_hash(
    const std::vector<std::pair<std::string, std::string>>& fields);

// schedule.lua's reply {epoch, len, base, next_epoch|0, next_len|0, next_base|0, now}.
struct ScheduleReply {
  core::Schedule schedule;  // `previous` is not part of the reply
  int64_t now = 0;          // Redis TIME in ms when the script ran
};
Result<ScheduleReply> schedule_from_reply(const std::vector<int64_t>& reply);

// {"epoch","len","base","pending":{"epoch","len","base"}|null} for admin/debug output.
nlohmann::json schedule_json(const core::Schedule& schedule);

}  // namespace clickrace::bus
