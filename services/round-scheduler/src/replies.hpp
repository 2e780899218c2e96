#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "clickrace/bus/events.hpp"
#include "clickrace/core/partition_merge.hpp"
#include "clickrace/core/result.hpp"
#include "clickrace/core/round_math.hpp"
#include "clickrace/redis/reply.hpp"

// Decoding the Redis replies the scheduler acts on. Pure: no I/O, so each shape (and each
// malformed one) is unit-tested.
namespace clickrace::scheduler {

// close_round.lua's answer.
struct CloseOutcome {
  // no_schedule: NOROUND / BADSCHEDULE — the schedule is gone or unreadable (data loss); the
  // leader's next schedule.lua call re-creates it. written: op "write" stored (or found) the
  // result, not announced yet. no_result: op "announce" found no result (write it again).
  enum class Kind { closed, already_closed, early, not_leader, no_schedule, written, no_result };
  Kind kind = Kind::closed;
  int64_t ms_left = 0;      // early: retry after this
  std::string result_json;  // closed / already_closed / written: the RoundResult JSON
};
// Error for anything else (unexpected shape, other error replies such as NOROUND).
Result<CloseOutcome> parse_close_reply(const redis::Reply& reply);

// lease.lua acquire (with the term key): the holder's term (>= 1), 0 when not holding.
Result<int64_t> parse_lease_reply(const redis::Reply& reply);

// seal.lua's answer for one partition.
struct SealReply {
  // summary: SEALED or DONE (summary holds it); early: the round runs on here for ms_left;
  // not_leader: the partition saw the newer term `term`; no_copy: NOROUND / BADSCHEDULE (no
  // usable copy of the schedule in the partition).
  enum class Kind { summary, early, not_leader, no_copy };
  Kind kind = Kind::summary;
  bool sealed_now = false;  // SEALED (this call sealed it), not DONE
  core::PartitionSummary summary;
  int64_t ms_left = 0;
  int64_t term = 0;
};
Result<SealReply> parse_seal_reply(const redis::Reply& reply);
// {"top","atTop","names":[...],"totalClicks","players"} (seal.lua's summary JSON).
Result<core::PartitionSummary> parse_summary_json(const std::string& text);
// "NOTLEADER term <t>" of seal.lua / schedule_copy.lua -> t; nullopt for another reply.
std::optional<int64_t> not_leader_term(const redis::Reply& reply);

// schedule.lua's snapshot: the schedule (with the previous segment), Redis TIME, whether this
// very call created the schedule, and the closed mark, all read in one script run.
struct ScheduleSnapshot {
  core::Schedule schedule;
  int64_t now = 0;
  bool created = false;
  std::optional<int64_t> closed;  // nullopt: `P closed` missing
  int partitions = 1;             // the schedule's score partitions S
};
// {epoch, len, base, next_epoch|0, next_len|0, next_base|0, now, created, closed|0,
//  prev_epoch|0, prev_len|0, prev_base|0 [, partitions]}.
Result<ScheduleSnapshot> parse_schedule_reply(const redis::Reply& reply);

// HGETALL `P schedule`: nil/empty array -> nullopt (no schedule yet).
Result<std::optional<core::Schedule>> parse_schedule_hash(const redis::Reply& reply);

// TIME -> Redis's clock in ms.
Result<int64_t> parse_time_reply(const redis::Reply& reply);

// GET of an integer key (`P closed`, `P round:{id}:total`): nil -> nullopt.
Result<std::optional<int64_t>> parse_optional_int(const redis::Reply& reply);

// ZREVRANGE ... WITHSCORES -> [{name, clicks}].
Result<std::vector<bus::TopEntry>> parse_top(const redis::Reply& reply);

// Every field of the schedule hash (schedule_copy.lua's ARGV after the term): epoch, len, base,
// next_* and prev_* when present, partitions when above 1.
std::vector<std::string> schedule_fields(const core::Schedule& schedule, int partitions);

// The Leaderboard of round `window` at Redis time `now`.
bus::Leaderboard make_leaderboard(const core::RoundWindow& window, int64_t now,
                                  std::vector<bus::TopEntry> top, int64_t total);

}  // namespace clickrace::scheduler
