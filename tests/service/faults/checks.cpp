#include "checks.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "fault_topology.hpp"
#include "redis_server.hpp"

namespace clickrace::test {

std::vector<RoundRecord> read_rounds(int redis_port) {
  RedisSync r(redis_port);
  std::vector<RoundRecord> out;
  auto entries = r.cmd({"XRANGE", kPrefix + "rounds", "-", "+"});
  for (const auto& e : entries.elements) {
    if (e.elements.size() != 2) continue;
    const auto& fields = e.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
      if (fields[i].str != "result") continue;
      auto j = nlohmann::json::parse(fields[i + 1].str, nullptr, false);
      if (!j.is_object()) {
        ADD_FAILURE() << "stream entry is not JSON: " << fields[i + 1].str;
        continue;
      }
      out.push_back(
          RoundRecord{j.value("round", 0LL), j.value("startedAt", 0LL), j.value("endedAt", 0LL)});
    }
  }
  return out;
}

long long closed_round(int redis_port) {
  RedisSync r(redis_port);
  auto c = r.cmd({"GET", kPrefix + "closed"});
  return c.is_nil() || c.str.empty() ? 0 : std::stoll(c.str);
}

std::map<std::string, long long> stored_clicks(int redis_port) {
  RedisSync r(redis_port);
  std::map<std::string, long long> out;
  auto keys = r.cmd({"KEYS", kPrefix + "round:*:scores"});
  for (const auto& k : keys.elements) {
    auto scores = r.cmd({"ZRANGE", k.str, "0", "-1", "WITHSCORES"});
    for (std::size_t i = 0; i + 1 < scores.elements.size(); i += 2) {
      out[scores.elements[i].str] += std::stoll(scores.elements[i + 1].str);
    }
  }
  return out;
}

Accounting check_accounting(ClickLoad& load, int redis_port, bool exact) {
  auto stored = stored_clicks(redis_port);
  Accounting a;
  int reported = 0;
  for (auto& p : load.players()) {
    PlayerCounts c = p->counts();
    long long s = stored.count(p->name()) ? stored[p->name()] : 0;
    a.sent.acked += c.acked;
    a.sent.rejected += c.rejected;
    a.sent.maybe += c.maybe;
    a.sent.unresolved += c.unresolved;
    a.sent.not_sent += c.not_sent;
    a.stored += s;
    if (s < c.acked) a.lost += c.acked - s;
    if (s > c.acked + c.ambiguous()) a.invented += s - c.acked - c.ambiguous();
    if (s > c.acked) a.ambiguous_counted += s - c.acked;
    bool bad = s < c.acked || s > c.acked + c.ambiguous() || (exact && s != c.acked);
    if (bad && reported++ < 5) {
      ADD_FAILURE() << p->name() << ": stored " << s << ", acknowledged " << c.acked
                    << ", ambiguous " << c.ambiguous() << " (unresolved " << c.unresolved
                    << ", maybe " << c.maybe << ")";
    }
  }
  EXPECT_EQ(a.lost, 0) << "acknowledged clicks missing from Redis";
  EXPECT_EQ(a.invented, 0) << "Redis counts clicks nobody sent";
  if (exact) {
    EXPECT_EQ(a.stored, a.sent.acked);
  }
  return a;
}

void check_round_stream(const std::vector<RoundRecord>& rounds, long long len, long long closed) {
  ASSERT_FALSE(rounds.empty()) << "no round closed";
  EXPECT_EQ(rounds.front().round, 1);
  EXPECT_EQ(rounds.back().round, closed) << "`closed` and the stream disagree";
  std::set<long long> seen;
  for (std::size_t i = 0; i < rounds.size(); ++i) {
    const RoundRecord& r = rounds[i];
    EXPECT_TRUE(seen.insert(r.round).second) << "round " << r.round << " closed twice";
    EXPECT_EQ(r.ended_at - r.started_at, len) << "round " << r.round;
    if (i == 0) continue;
    EXPECT_EQ(r.round, rounds[i - 1].round + 1) << "skipped after round " << rounds[i - 1].round;
    EXPECT_EQ(r.started_at, rounds[i - 1].ended_at) << "round " << r.round;
  }
}

EventReport check_client_events(ClickLoad& load, const std::vector<RoundRecord>& rounds,
                                long long slack_ms) {
  EventReport rep;
  int reported = 0;
  auto fail = [&](const std::string& what) {
    if (reported++ < 10) ADD_FAILURE() << what;
  };
  for (auto& p : load.players()) {
    std::map<long long, int> seen_in_sessions;
    for (const SessionLog& s : p->sessions()) {
      ++rep.sessions;
      rep.events += static_cast<long long>(s.rounds.size());
      for (std::size_t i = 1; i < s.rounds.size(); ++i) {
        bool repeat = s.rounds[i] <= s.rounds[i - 1];
        bool gap = s.rounds[i] > s.rounds[i - 1] + 1;
        if (repeat || gap) {
          fail(p->name() + ": RoundEnded " + std::to_string(s.rounds[i]) + " after " +
               std::to_string(s.rounds[i - 1]) + " on one connection");
        }
      }
      std::set<long long> got(s.rounds.begin(), s.rounds.end());
      for (long long r : got) ++seen_in_sessions[r];
      for (const RoundRecord& r : rounds) {
        if (r.ended_at < s.started_ms + slack_ms || r.ended_at + slack_ms > s.last_activity_ms) {
          continue;
        }
        ++rep.required;
        if (!got.count(r.round)) {
          ++rep.missed;
          fail(p->name() + ": round " + std::to_string(r.round) +
               " not announced on a connection open from " + std::to_string(s.started_ms) +
               " to at least " + std::to_string(s.last_activity_ms) + " (round ended " +
               std::to_string(r.ended_at) + ")");
        }
      }
    }
    for (auto& [round, n] : seen_in_sessions) rep.cross_session_duplicates += n - 1;
  }
  return rep;
}

}  // namespace clickrace::test
