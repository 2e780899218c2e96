#pragma once
#include <map>
#include <string>
#include <vector>

#include "click_load.hpp"

// What a fault run must leave behind, read from Redis and from the clients' logs.
namespace clickrace::test {

struct RoundRecord {
  long long round = 0;
  long long started_at = 0;
  long long ended_at = 0;
};

// The `P rounds` stream, oldest first (empty when Redis cannot be read).
std::vector<RoundRecord> read_rounds(int redis_port);
long long closed_round(int redis_port);
// Every player's clicks summed over every round's scores (`P round:*:scores`).
std::map<std::string, long long> stored_clicks(int redis_port);

struct Accounting {
  PlayerCounts sent;
  long long stored = 0;
  long long lost = 0;               // acknowledged but not stored (must be 0)
  long long invented = 0;           // stored beyond acknowledged + ambiguous (must be 0)
  long long ambiguous_counted = 0;  // stored - acknowledged: ambiguous clicks that did count
};
// Per player: acked <= stored <= acked + ambiguous. With `exact`, stored == acked. Adds gtest
// failures naming the first offending players.
Accounting check_accounting(ClickLoad& load, int redis_port, bool exact);

// Ids strictly consecutive from 1, each once, every round `len` long and starting where the
// previous one ended, the last one == `P closed`.
void check_round_stream(const std::vector<RoundRecord>& rounds, long long len, long long closed);

struct EventReport {
  long long sessions = 0;
  long long events = 0;
  long long required = 0;                  // (session, round) pairs that had to be announced
  long long cross_session_duplicates = 0;  // a round seen again after a reconnect
  long long missed = 0;                    // required announcements that never came
};
// Per connection: RoundEnded ids strictly consecutive (in order, none twice, none skipped), and
// every round that ended at least `slack_ms` after the connection opened and `slack_ms` before
// its last received message was announced on it.
EventReport check_client_events(ClickLoad& load, const std::vector<RoundRecord>& rounds,
                                long long slack_ms);

}  // namespace clickrace::test
