#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

// The exactly-once, in-order rule for RoundEnded announcements (docs/bus.md "Gateway catch-up"),
// apart from Redis and sockets. Two sources feed it: live pub/sub events and reads of the
// `rounds` stream. A mark remembers the highest round announced.
//
// From every (re)subscription until the stream has been read back (the catch-up), live results
// are HELD, not announced: announcing one would raise the mark above rounds that are only in the
// stream (closed while we were away) and hide them. The catch-up merges held and stream results,
// and announces every round above the mark once, oldest first.
//
// Data loss: round ids restart at 1 after Redis loses its data (FLUSHALL, restart without AOF),
// while the mark stays high. A stream whose newest entry is below the mark, an empty stream with
// a mark above 0, or a stream whose round at the mark started at another time shows that; the
// catch-up then starts again from 0. A live result at or below the mark that is not one we
// announced (another startedAt) triggers such a check.
namespace clickrace::gateway {

struct RoundEntry {
  std::int64_t round = 0;
  std::int64_t started_at = 0;  // tells a round apart from a later round of the same id
  std::string data;             // RoundResult JSON, sent as is
};

class RoundLedger {
 public:
  struct Limits {
    std::size_t max_held = 1024;      // live results held during a catch-up (oldest go first)
    std::size_t max_catch_up = 1000;  // results one catch-up reads back and announces
    std::size_t remembered = 256;     // recent announcements kept to recognize duplicates
  };
  enum class Live {
    announce,   // new: announce it now (the mark is raised)
    held,       // a catch-up is due or running: kept for it
    duplicate,  // already announced: drop it
    suspect,    // at or below the mark but not ours: held; a catch-up must check the stream
  };

  RoundLedger() : RoundLedger(Limits{}) {}
  explicit RoundLedger(Limits limits) : limits_(limits) {}

  // The subscription is gone or being re-established: hold live results until finish().
  void hold() { holding_ = true; }
  bool holding() const { return holding_; }
  // True once a catch-up has finished (the mark was taken from the stream).
  bool initialized() const { return initialized_; }
  std::int64_t mark() const { return mark_; }
  // The last finish() found the stream behind the mark (Redis lost its data) and restarted it.
  bool restarted() const { return restarted_; }

  Live on_live(RoundEntry entry);
  // With the stream entries read so far (newest first) and whether the last page was full:
  // must the catch-up read older entries to reach the mark?
  bool needs_older(const std::vector<RoundEntry>& newest_first, bool last_page_full) const;
  // The catch-up read the stream (newest first): returns, oldest first, what to announce now.
  // The first catch-up only takes the mark (history is not replayed to new clients).
  std::vector<RoundEntry> finish(const std::vector<RoundEntry>& newest_first);

 private:
  // The mark the stream is compared with: 0 when the stream shows Redis lost its data.
  std::int64_t floor_for(const std::vector<RoundEntry>& newest_first) const;
  void remember(const RoundEntry& e);

  Limits limits_;
  std::int64_t mark_ = 0;
  bool holding_ = true;  // until the first catch-up
  bool initialized_ = false;
  bool restarted_ = false;
  std::map<std::int64_t, RoundEntry> held_;
  std::map<std::int64_t, std::int64_t> announced_;  // round -> started_at, the recent ones
};

}  // namespace clickrace::gateway
