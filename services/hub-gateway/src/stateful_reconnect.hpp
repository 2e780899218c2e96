#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "clickrace/signalr/messages.hpp"

// Stateful reconnect (signalr-protocol.md §9), the pure part: both directions number their
// trackable messages (types 1-5) implicitly 1, 2, 3, ...; the sender keeps what the peer has not
// acknowledged and replays it after a reconnect, the receiver skips what it already processed.
// No sockets, no clock: the Hub drives it.
namespace clickrace::gateway {

// What we sent and the peer has not acknowledged yet, bounded in bytes (.NET's
// StatefulReconnectBufferSize, 100,000 by default).
class OutboundLog {
 public:
  explicit OutboundLog(std::size_t limit_bytes) : limit_(limit_bytes) {}

  // Records `count` trackable messages sent (or to be sent) as `bytes`, which hold exactly those
  // messages in the connection's protocol. Broadcasts share one `bytes` between connections.
  // Returns false when the unacknowledged bytes are now above the limit: the connection can no
  // longer be resumed.
  bool record(std::shared_ptr<const std::string> bytes, std::uint32_t count);
  // The peer processed every message up to `sequence_id`: drop entries it covers completely.
  void ack(std::uint64_t sequence_id);
  // The id to announce in our Sequence message before a replay: the first message of the oldest
  // entry kept, or sent()+1 when nothing is kept.
  std::uint64_t resend_from() const;
  std::uint64_t sent() const { return sent_; }
  std::size_t bytes() const { return bytes_; }
  bool empty() const { return entries_.empty(); }
  // The bytes to replay, oldest first.
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& e : entries_) f(std::string_view(*e.bytes));
  }

 private:
  struct Entry {
    std::uint64_t first = 0;  // sequence id of its first message
    std::uint32_t count = 0;
    std::shared_ptr<const std::string> bytes;
  };
  std::size_t limit_;
  std::size_t bytes_ = 0;
  std::uint64_t sent_ = 0;
  // A vector, not a deque: empty it allocates nothing (a deque allocates ~600 bytes up front, on
  // every stateful connection), and it holds about a second of messages between two Acks.
  std::vector<Entry> entries_;
};

// The receiving side: which trackable messages were processed, and the Ack we owe.
class InboundSequence {
 public:
  // A trackable message arrived: true to process it, false for a duplicate of a processed one
  // (replayed by the peer after a reconnect).
  bool accept();
  // The peer's Sequence message (first of its replay). False when it is beyond what we have
  // received: a protocol error (the client closes in the mirror case).
  bool reset(std::uint64_t sequence_id);
  // After a reconnect: our last Ack may have been lost with the old socket, so send it again.
  void ack_again();
  // The Ack to send, if one is due (cleared by taking it).
  bool ack_due() const { return ack_due_; }
  std::uint64_t take_ack() {
    ack_due_ = false;
    return latest_;
  }
  std::uint64_t latest() const { return latest_; }

 private:
  std::uint64_t next_ = 1;
  std::uint64_t latest_ = 0;
  bool ack_due_ = false;
};

// Types 1-5 are numbered and replayed; Ping, Close, Ack, Sequence and unknown types are not.
bool trackable(const signalr::HubMessage& message);

// True when the first WebSocket message of a connection is a client's Sequence message (in
// either protocol) instead of a handshake: a stateful reconnect that reached a gateway which does
// not hold the connection (it restarted, or the reconnect was routed elsewhere).
bool is_resume_attempt(std::string_view first_payload);

}  // namespace clickrace::gateway
