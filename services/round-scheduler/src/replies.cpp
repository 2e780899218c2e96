#include "replies.hpp"

#include "clickrace/bus/partitions.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "clickrace/core/config.hpp"

namespace clickrace::scheduler {
namespace {

std::optional<int64_t> as_int(const redis::Reply& r) {
  if (r.is_integer()) return r.integer();
  if (r.is_string()) return core::parse_int(r.str());
  return std::nullopt;
}

// close_round.lua and seal.lua answer {tag, value}: the tag, or nullptr for any other shape.
const std::string* reply_tag(const redis::Reply& reply) {
  if (!reply.is_array() || reply.size() != 2 || (!reply[0].is_string() && !reply[0].is_status())) {
    return nullptr;
  }
  return &reply[0].str();
}

// The value of their {"EARLY", ms}: the ms left before the deadline by Redis's clock, >= 0.
std::optional<int64_t> early_ms(const redis::Reply& reply) {
  auto ms = as_int(reply[1]);
  if (!ms) return std::nullopt;
  return std::max<int64_t>(*ms, 0);
}

}  // namespace

Result<CloseOutcome> parse_close_reply(const redis::Reply& reply) {
  if (reply.is_error()) {
    if (reply.is_error_code("NOTLEADER"))
      return CloseOutcome{CloseOutcome::Kind::not_leader, 0, {}};
    if (reply.is_error_code("NOROUND") || reply.is_error_code("BADSCHEDULE"))
      return CloseOutcome{CloseOutcome::Kind::no_schedule, 0, {}};
    if (reply.is_error_code("NORESULT")) return CloseOutcome{CloseOutcome::Kind::no_result, 0, {}};
    return make_error("close_round: " + reply.str());
  }
  const std::string* tagged = reply_tag(reply);
  if (!tagged) return make_error("close_round: unexpected reply " + reply.debug_string());
  const std::string& tag = *tagged;
  if (tag == "EARLY") {
    auto ms = early_ms(reply);
    if (!ms) return make_error("close_round: bad EARLY reply");
    return CloseOutcome{CloseOutcome::Kind::early, *ms, {}};
  }
  if ((tag == "CLOSED" || tag == "DONE" || tag == "WRITTEN") && reply[1].is_string()) {
    auto kind = tag == "CLOSED" ? CloseOutcome::Kind::closed
                : tag == "DONE" ? CloseOutcome::Kind::already_closed
                                : CloseOutcome::Kind::written;
    return CloseOutcome{kind, 0, reply[1].str()};
  }
  return make_error("close_round: unexpected reply " + reply.debug_string());
}

Result<int64_t> parse_lease_reply(const redis::Reply& reply) {
  if (reply.is_integer() && reply.integer() >= 0) return static_cast<int64_t>(reply.integer());
  return make_error("lease: unexpected reply " + reply.debug_string());
}

std::optional<int64_t> not_leader_term(const redis::Reply& reply) {
  static const std::string kPrefix = "NOTLEADER term ";
  if (!reply.is_error() || reply.str().rfind(kPrefix, 0) != 0) return std::nullopt;
  auto t = core::parse_int(reply.str().substr(kPrefix.size()));
  if (!t || *t < 1) return std::nullopt;
  return *t;
}

Result<core::PartitionSummary> parse_summary_json(const std::string& text) {
  auto bad = [&] { return make_error("seal: bad summary " + text.substr(0, 200)); };
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad();
  core::PartitionSummary s;
  auto count = [&](const char* key, int64_t& out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() < 0) return false;
    out = it->get<int64_t>();
    return true;
  };
  if (!count("top", s.top) || !count("atTop", s.at_top) || !count("totalClicks", s.total_clicks) ||
      !count("players", s.players)) {
    return bad();
  }
  auto names = j.find("names");
  if (names == j.end() || !names->is_array()) return bad();
  for (const auto& n : *names) {
    if (!n.is_string()) return bad();
    s.names.push_back(n.get<std::string>());
  }
  if (static_cast<int64_t>(s.names.size()) > s.at_top) return bad();
  return s;
}

Result<SealReply> parse_seal_reply(const redis::Reply& reply) {
  SealReply out;
  if (reply.is_error()) {
    if (auto t = not_leader_term(reply)) {
      out.kind = SealReply::Kind::not_leader;
      out.term = *t;
      return out;
    }
    if (reply.is_error_code("NOROUND") || reply.is_error_code("BADSCHEDULE")) {
      out.kind = SealReply::Kind::no_copy;
      return out;
    }
    return make_error("seal: " + reply.str());
  }
  const std::string* tagged = reply_tag(reply);
  if (!tagged) return make_error("seal: unexpected reply " + reply.debug_string());
  const std::string& tag = *tagged;
  if (tag == "EARLY") {
    auto ms = early_ms(reply);
    if (!ms) return make_error("seal: bad EARLY reply");
    out.kind = SealReply::Kind::early;
    out.ms_left = *ms;
    return out;
  }
  if ((tag == "SEALED" || tag == "DONE") && reply[1].is_string()) {
    auto s = parse_summary_json(reply[1].str());
    if (!s) return s.error();
    out.summary = std::move(*s);
    out.sealed_now = tag == "SEALED";
    return out;
  }
  return make_error("seal: unexpected reply " + reply.debug_string());
}

Result<ScheduleSnapshot> parse_schedule_reply(const redis::Reply& reply) {
  auto bad = [&] { return make_error("schedule: unexpected reply " + reply.debug_string()); };
  if (!reply.is_array() || (reply.size() != 12 && reply.size() != 13)) return bad();
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
  if (v.size() == 13) {
    if (v[12] < 1 || v[12] > bus::kMaxPartitions) return bad();
    out.partitions = static_cast<int>(v[12]);
  }
  return out;
}

Result<std::optional<core::Schedule>> parse_schedule_hash(const redis::Reply& reply) {
  if (reply.is_nil() || (reply.is_array() && reply.size() == 0)) {
    return std::optional<core::Schedule>{};
  }
  if (!reply.is_array() || reply.size() % 2 != 0) return make_error("bad schedule hash");
  auto s = bus::schedule_from_hash(redis::hash_pairs(reply));
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

std::vector<std::string> schedule_fields(const core::Schedule& s, int partitions) {
  auto add = [](std::vector<std::string>& out, const char* prefix, const core::Segment& seg) {
    out.push_back(std::string(prefix) + "epoch");
    out.push_back(std::to_string(seg.epoch));
    out.push_back(std::string(prefix) + "len");
    out.push_back(std::to_string(seg.len));
    out.push_back(std::string(prefix) + "base");
    out.push_back(std::to_string(seg.base));
  };
  std::vector<std::string> out;
  add(out, "", s.current());
  if (s.pending) add(out, "next_", *s.pending);
  if (s.previous) add(out, "prev_", *s.previous);
  if (partitions > 1) {
    out.push_back("partitions");
    out.push_back(std::to_string(partitions));
  }
  return out;
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
