#include "clickrace/core/round_math.hpp"

#include <limits>

namespace clickrace::core {
namespace {

// 128-bit intermediates, clamped back to int64: ids and instants far in the future saturate
// instead of wrapping around.
using wide = __int128;

int64_t clamp64(wide v) {
  constexpr wide lo = std::numeric_limits<int64_t>::min();
  constexpr wide hi = std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(v < lo ? lo : (v > hi ? hi : v));
}

RoundWindow window_in(const Segment& seg, int64_t id) {
  wide start = wide(seg.epoch) + (wide(id) - seg.base) * seg.len;
  return RoundWindow{id, clamp64(start), clamp64(start + seg.len)};
}

// Floor division for a positive divisor (t - epoch is never negative where it is used, but be
// exact anyway).
wide floor_div(wide a, wide b) {
  wide q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

}  // namespace

RoundWindow round_at(const Schedule& schedule, int64_t t) {
  const Segment seg =
      (schedule.pending && t >= schedule.pending->epoch) ? *schedule.pending : schedule.current();
  if (t < seg.epoch) return window_in(seg, seg.base);
  wide k = floor_div(wide(t) - seg.epoch, seg.len);
  return window_in(seg, clamp64(wide(seg.base) + k));
}

RoundWindow window_of(const Schedule& schedule, int64_t id) {
  if (schedule.pending && id >= schedule.pending->base) return window_in(*schedule.pending, id);
  if (id >= schedule.base) return window_in(schedule.current(), id);
  if (schedule.previous && id >= schedule.previous->base) return window_in(*schedule.previous, id);
  return window_in(schedule.current(), id);
}

Schedule with_length_change(const Schedule& schedule, int64_t new_len, int64_t now) {
  if (new_len <= 0) return schedule;
  if (schedule.pending && new_len == schedule.len) {
    // Back to the running length before the change was reached: the change is abandoned
    // (schedule.lua does the same).
    Schedule out = schedule;
    out.pending.reset();
    return out;
  }
  if (schedule.pending || new_len == schedule.len) return schedule;
  RoundWindow w = round_at(schedule, now);
  Schedule out = schedule;
  out.pending = Segment{w.ends_at, new_len, w.id + 1};
  return out;
}

Schedule promote(const Schedule& schedule, int64_t now) {
  if (!schedule.pending || now < schedule.pending->epoch) return schedule;
  Schedule out;
  out.epoch = schedule.pending->epoch;
  out.len = schedule.pending->len;
  out.base = schedule.pending->base;
  out.previous = schedule.current();
  return out;
}

Schedule make_schedule(int64_t now, int64_t len) {
  Schedule s;
  s.epoch = now;
  s.len = len;
  s.base = 1;
  return s;
}

}  // namespace clickrace::core
