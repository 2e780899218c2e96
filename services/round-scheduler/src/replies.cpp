#include "replies.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "clickrace/core/config.hpp"

namespace clickrace::scheduler {
namespace {

std::optional<int64_t> as_int(const redis::Reply& r) {
  if (r.is_integer()) return r.integer();
  if (r.is_string()) return core::parse_int(r.str());
  return std::nullopt;
}

}  // namespace

Result<CloseOutcome> parse_close_reply(const redis::Reply& reply) {
  if (reply.is_error()) {
    if (reply.is_error_code("NOTLEADER"))
      return CloseOutcome{CloseOutcome::Kind::not_leader, 0, {}};
    if (reply.is_error_code("NOROUND") || reply.is_error_code("BADSCHEDULE"))
      return CloseOutcome{CloseOutcome::Kind::no_schedule, 0, {}};
    return make_error("close_round: " + reply.str());
  }
  if (!reply.is_array() || reply.size() != 2 || (!reply[0].is_string() && !reply[0].is_status())) {
    return make_error("close_round: unexpected reply " + reply.debug_string());
  }
  const std::string& tag = reply[0].str();
  if (tag == "EARLY") {
    auto ms = as_int(reply[1]);
    if (!ms) return make_error("close_round: bad EARLY reply");
    return CloseOutcome{CloseOutcome::Kind::early, std::max<int64_t>(*ms, 0), {}};
  }
  if ((tag == "CLOSED" || tag == "DONE") && reply[1].is_string()) {
    auto kind = tag == "CLOSED" ? CloseOutcome::Kind::closed : CloseOutcome::Kind::already_closed;
    return CloseOutcome{kind, 0, reply[1].str()};
  }
  return make_error("close_round: unexpected reply " + reply.debug_string());
}

Result<bool> parse_lease_reply(const redis::Reply& reply) {
  if (reply.is_integer() && (reply.integer() == 0 || reply.integer() == 1)) {
    return reply.integer() == 1;
  }
  return make_error("lease: unexpected reply " + reply.debug_string());
}

Result<ScheduleSnapshot> parse_schedule_reply(const redis::Reply& reply) {
  auto bad = [&] { return make_error("schedule: unexpected reply " + reply.debug_string()); };
  if (!reply.is_array() || reply.size() != 12) return bad();
  std::vector<int64_t> v;
  for (const auto& e : reply.elements()) {
    auto i = as_int(e);
    if (!i) return bad();
    v.push_back(*i);
  }
  // The first seven fields are the shared reply shape (bus::schedule_from_reply).
  auto head = bus::schedule_from_reply({v.begin(), v.begin() + 7});
  if (!head) return bad();
  if ((v[7] != 0 && v[7] != 1) || v[8] < 0) return bad();
  ScheduleSnapshot out;
  out.schedule = head->schedule;
  out.now = head->now;
  out.created = v[7] == 1;
  if (v[8] > 0) out.closed = v[8];
  if (v[10] != 0) {
    if (v[10] < 0 || v[11] < 1) return bad();
    out.schedule.previous = core::Segment{v[9], v[10], v[11]};
  }
  return out;
}

Result<std::optional<core::Schedule>> parse_schedule_hash(const redis::Reply& reply) {
  if (reply.is_nil() || (reply.is_array() && reply.size() == 0)) {
    return std::optional<core::Schedule>{};
  }
  if (!reply.is_array() || reply.size() % 2 != 0) return make_error("bad schedule hash");
  std::vector<std::pair<std::string, std::string>> fields;
  for (std::size_t i = 0; i < reply.size(); i += 2) {
    fields.emplace_back(reply[i].str(), reply[i + 1].str());
  }
  auto s = bus::schedule_from_hash(fields);
  if (!s) return s.error();
  return std::optional<core::Schedule>{*s};
}

Result<int64_t> parse_time_reply(const redis::Reply& reply) {
  if (!reply.is_array() || reply.size() != 2) return make_error("bad TIME reply");
  auto sec = as_int(reply[0]);
  auto usec = as_int(reply[1]);
  if (!sec || !usec || *sec < 0 || *usec < 0 || *usec >= 1'000'000) {
    return make_error("bad TIME reply");
  }
  return *sec * 1000 + *usec / 1000;
}

Result<std::optional<int64_t>> parse_optional_int(const redis::Reply& reply) {
  if (reply.is_nil()) return std::optional<int64_t>{};
  auto v = as_int(reply);
  if (!v) return make_error("expected an integer, got " + reply.debug_string());
  return std::optional<int64_t>{*v};
}

Result<std::vector<bus::TopEntry>> parse_top(const redis::Reply& reply) {
  if (!reply.is_array() || reply.size() % 2 != 0) return make_error("bad ZREVRANGE reply");
  std::vector<bus::TopEntry> top;
  for (std::size_t i = 0; i < reply.size(); i += 2) {
    const std::string& score = reply[i + 1].str();
    char* end = nullptr;
    double v = std::strtod(score.c_str(), &end);
    if (score.empty() || end != score.c_str() + score.size() || !std::isfinite(v)) {
      return make_error("bad score in ZREVRANGE reply");
    }
    top.push_back(bus::TopEntry{reply[i].str(), static_cast<int64_t>(std::llround(v))});
  }
  return top;
}

bus::Leaderboard make_leaderboard(const core::RoundWindow& window, int64_t now,
                                  std::vector<bus::TopEntry> top, int64_t total) {
  bus::Leaderboard lb;
  lb.round = window.id;
  lb.remaining_ms = std::max<int64_t>(0, window.ends_at - now);
  lb.total_clicks = total;
  lb.top = std::move(top);
  return lb;
}

}  // namespace clickrace::scheduler
