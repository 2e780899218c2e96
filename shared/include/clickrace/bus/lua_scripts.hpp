#pragma once

// The Lua scripts in shared/lua/, compiled in by shared/embed_lua.cmake. Declare each new script
// here under its file name. Exact KEYS/ARGV/replies: docs/bus.md "Scripts".
namespace clickrace::bus::lua {

// One score partition Pk (Keys::partition(k, S)); every key declared, all on Pk's slot.
// KEYS: Pk schedule, Pk sealed, Pk clickbatch:<batch id>, Pk round:<r>:scores,
// Pk round:<r>:total, Pk round:<r+1>:scores, Pk round:<r+1>:total, then Pk round:<i>:rate for
// i = r-1, r, r+1, r+2 (the token buckets: one hash per round).
// ARGV: batch id, rate (clicks/s per player, 0 = unlimited), S, r (the caller's guess of the
// running round), name1, n1, name2, n2, ...  (n: integer 1..1000000)
// Reply: {round, total_1, granted_1, total_2, granted_2, ...}. Errors (nothing written):
// "NOROUND ...", "PARTITIONS <S>", "STALEROUND <round>", "BADARG ...", "BADSCHEDULE ...".
extern const char* const click;

// KEYS: P player:<name>:conns, P player:<name>:evicted. ARGV: op ("open" | "touch" | "close"), ...
// (docs/bus.md).
// Reply: open → {member, evicted}; touch → 1 | 0 (evicted: close it); close → 0 | 1.
extern const char* const sessions;

// KEYS: P schedule, P closed (optional). ARGV: len (ms, integer >= 1) [, partitions (1..256)].
// Reply: {epoch, len, base, next_epoch|0, next_len|0, next_base|0, now, created, closed|0,
//         prev_epoch|0, prev_len|0, prev_base|0 [, partitions (when ARGV[2] is given; absent
//         field = 1)]}. Error: "BADARG ...".
extern const char* const schedule;

// KEYS: P scheduler:leader [, P scheduler:term]. ARGV: op ("acquire" | "release"), holder,
// ttl_ms [, floor].
// Reply: acquire → without the term key 1 if holder holds the lease afterwards, else 0; with it
// the holder's term (>= 1, > floor) or 0 when not holding; release → 1 if deleted, else 0.
extern const char* const lease;

// One partition's closing summary. KEYS: Pk schedule, Pk sealed, Pk term, Pk round:r:scores,
// Pk round:r:total, Pk round:r:summary. ARGV: term, r, ttl_s, max_listed.
// Reply: {"SEALED", summary_json} | {"DONE", summary_json} | {"EARLY", ms_left}.
// Errors: "NOTLEADER term <t>", "NOROUND ...", "BADSCHEDULE ...", "BADARG ...".
extern const char* const seal;

// One partition's copy of the schedule. KEYS: Pk schedule, Pk term. ARGV: term, field, value...
// Reply: 1. Errors: "NOTLEADER term <t>", "BADARG ...".
extern const char* const schedule_copy;

// KEYS: P scheduler:leader, P schedule, P round:r:result, P round:r:announced, P closed,
// P rounds. ARGV: P, holder, r, ttl_s, stream_maxlen, op ("close" | "write" | "announce"), then
// for close/write: winnerCount, winningClicks, totalClicks, players, winner...
// Reply: {"CLOSED", result_json} | {"WRITTEN", result_json} | {"DONE", result_json}
//        | {"EARLY", ms_left}. Errors: "NOTLEADER ...", "NOROUND ...", "NORESULT ...",
//        "BADARG ...".
extern const char* const close_round;

}  // namespace clickrace::bus::lua
