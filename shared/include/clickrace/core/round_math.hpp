#pragma once
#include <cstdint>
#include <optional>

// Which round contains an instant — the one definition shared by the services, the tests and the
// Lua scripts (docs/bus.md "Round math"). Pure: every time is an argument (Unix epoch ms).
namespace clickrace::core {

// A run of equal-length rounds: round `base` starts at `epoch`, each lasts `len` ms.
struct Segment {
  int64_t epoch = 0;
  int64_t len = 0;
  int64_t base = 1;
  bool operator==(const Segment& o) const {
    return epoch == o.epoch && len == o.len && base == o.base;
  }
};

// The stored schedule (Redis hash `P schedule`). `pending` (next_*) applies from the boundary
// pending->epoch; `previous` (prev_*) is the segment a promotion replaced, kept so that rounds
// ended just before a length change can still be closed with their true start and end.
struct Schedule {
  int64_t epoch = 0;
  int64_t len = 0;
  int64_t base = 1;
  std::optional<Segment> pending;
  std::optional<Segment> previous;

  Segment current() const { return Segment{epoch, len, base}; }
  bool valid() const { return len > 0 && base >= 1; }
};

// [starts_at, ends_at) of round `id`.
struct RoundWindow {
  int64_t id = 0;
  int64_t starts_at = 0;
  int64_t ends_at = 0;
  bool operator==(const RoundWindow& o) const {
    return id == o.id && starts_at == o.starts_at && ends_at == o.ends_at;
  }
};

// The round containing instant `t`. Uses `pending` once t >= pending->epoch.
// Before the epoch no round is running: the answer is round `base`'s window (starts_at > t), so a
// caller can tell "not started yet" by `t < starts_at`. Requires schedule.valid(). Saturates
// instead of overflowing for instants/ids near the int64 limits.
RoundWindow round_at(const Schedule& schedule, int64_t t);

// The window of round `id` (id >= 1). Rounds at or after pending->base use `pending`; rounds
// before `base` use `previous` when it covers them, otherwise the current length extrapolated
// backwards (only wrong after two length changes the caller never closed rounds across).
RoundWindow window_of(const Schedule& schedule, int64_t id);

// Plans a change to `new_len` at the end of the round running at `now` (never mid-round).
// Unchanged when `new_len` equals the current length or another change is already pending; going
// back to the current length while a change is pending cancels that change.
// The caller promotes first (promote()) so a reached change does not block a new one.
Schedule with_length_change(const Schedule& schedule, int64_t new_len, int64_t now);

// Moves a reached pending change (now >= pending->epoch) into the main fields, remembering the
// replaced segment in `previous`. Unchanged otherwise. round_at() gives the same answers before
// and after.
Schedule promote(const Schedule& schedule, int64_t now);

// A new schedule whose round 1 starts at `now`.
Schedule make_schedule(int64_t now, int64_t len);

}  // namespace clickrace::core
