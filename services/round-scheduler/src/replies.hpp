#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "clickrace/bus/events.hpp"
#include "clickrace/core/result.hpp"
#include "clickrace/core/round_math.hpp"
#include "clickrace/redis/reply.hpp"

// Decoding the Redis replies the scheduler acts on. Pure: no I/O, so each shape (and each
// malformed one) is unit-tested.
namespace clickrace::scheduler {

// close_round.lua's answer.
struct CloseOutcome {
  // no_schedule: NOROUND / BADSCHEDULE — the schedule is gone or unreadable (data loss); the
  // leader's next schedule.lua call re-creates it.
  enum class Kind { closed, already_closed, early, not_leader, no_schedule };
  Kind kind = Kind::closed;
  int64_t ms_left = 0;      // early: retry after this
  std::string result_json;  // closed / already_closed: the RoundResult JSON
};
// Error for anything else (unexpected shape, other error replies such as NOROUND).
Result<CloseOutcome> parse_close_reply(const redis::Reply& reply);

// lease.lua acquire: 1 held, 0 not held.
Result<bool> parse_lease_reply(const redis::Reply& reply);

// schedule.lua's snapshot: the schedule (with the previous segment), Redis TIME, whether this
// very call created the schedule, and the closed mark, all read in one script run.
struct ScheduleSnapshot {
  core::Schedule schedule;
  int64_t now = 0;
  bool created = false;
  std::optional<int64_t> closed;  // nullopt: `P closed` missing
};
// {epoch, len, base, next_epoch|0, next_len|0, next_base|0, now, created, closed|0,
//  prev_epoch|0, prev_len|0, prev_base|0}.
Result<ScheduleSnapshot> parse_schedule_reply(const redis::Reply& reply);

// HGETALL `P schedule`: nil/empty array -> nullopt (no schedule yet).
Result<std::optional<core::Schedule>> parse_schedule_hash(const redis::Reply& reply);

// TIME -> Redis's clock in ms.
Result<int64_t> parse_time_reply(const redis::Reply& reply);

// GET of an integer key (`P closed`, `P round:{id}:total`): nil -> nullopt.
Result<std::optional<int64_t>> parse_optional_int(const redis::Reply& reply);

// ZREVRANGE ... WITHSCORES -> [{name, clicks}].
Result<std::vector<bus::TopEntry>> parse_top(const redis::Reply& reply);

// The Leaderboard of round `window` at Redis time `now`.
bus::Leaderboard make_leaderboard(const core::RoundWindow& window, int64_t now,
                                  std::vector<bus::TopEntry> top, int64_t total);

}  // namespace clickrace::scheduler
