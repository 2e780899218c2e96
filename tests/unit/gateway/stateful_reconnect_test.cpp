#include "stateful_reconnect.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace clickrace::gateway {
namespace {

std::shared_ptr<const std::string> bytes(std::size_t n, char c = 'x') {
  return std::make_shared<const std::string>(n, c);
}

std::vector<std::string> replay(const OutboundLog& log) {
  std::vector<std::string> out;
  log.for_each([&](std::string_view b) { out.emplace_back(b); });
  return out;
}

TEST(OutboundLog, NumbersMessagesAndDropsWhatIsAcknowledged) {
  OutboundLog log(1000);
  EXPECT_EQ(log.resend_from(), 1u);
  EXPECT_TRUE(log.record(bytes(10, 'a'), 1));  // message 1
  EXPECT_TRUE(log.record(bytes(30, 'b'), 3));  // messages 2..4 in one WebSocket message
  EXPECT_TRUE(log.record(bytes(5, 'c'), 1));   // message 5
  EXPECT_EQ(log.sent(), 5u);
  EXPECT_EQ(log.bytes(), 45u);
  EXPECT_EQ(log.resend_from(), 1u);

  log.ack(1);
  EXPECT_EQ(log.resend_from(), 2u);
  EXPECT_EQ(log.bytes(), 35u);
  // Half of the 2..4 entry: kept whole; a replay restarts at 2 and the client skips 2..3.
  log.ack(3);
  EXPECT_EQ(log.resend_from(), 2u);
  EXPECT_EQ(replay(log), (std::vector<std::string>{std::string(30, 'b'), std::string(5, 'c')}));
  log.ack(4);
  EXPECT_EQ(log.resend_from(), 5u);
  log.ack(5);
  EXPECT_TRUE(log.empty());
  EXPECT_EQ(log.resend_from(), 6u);
  EXPECT_EQ(log.bytes(), 0u);
  // An Ack beyond what was sent changes nothing more; an old one is harmless.
  log.ack(100);
  log.ack(2);
  EXPECT_EQ(log.resend_from(), 6u);
}

TEST(OutboundLog, ReportsOverflowPastTheLimit) {
  OutboundLog log(100);
  EXPECT_TRUE(log.record(bytes(60), 1));
  EXPECT_TRUE(log.record(bytes(40), 1));  // exactly the limit
  EXPECT_FALSE(log.record(bytes(1), 1));
  log.ack(3);
  EXPECT_TRUE(log.record(bytes(100), 1));
}

TEST(OutboundLog, SharedBroadcastBytesAreCountedPerConnection) {
  auto frame = bytes(50);
  OutboundLog a(1000), b(1000);
  EXPECT_TRUE(a.record(frame, 1));
  EXPECT_TRUE(b.record(frame, 1));
  EXPECT_EQ(a.bytes(), 50u);
  EXPECT_EQ(b.bytes(), 50u);
  EXPECT_EQ(frame.use_count(), 3);  // one copy of the bytes, three holders
}

TEST(InboundSequence, SkipsReplayedMessagesAfterASequence) {
  InboundSequence in;
  EXPECT_TRUE(in.accept());  // 1
  EXPECT_TRUE(in.accept());  // 2
  EXPECT_TRUE(in.accept());  // 3
  EXPECT_TRUE(in.ack_due());
  EXPECT_EQ(in.take_ack(), 3u);
  EXPECT_FALSE(in.ack_due());
  // The client reconnects and replays from 2 (it had not seen our Ack for 2 and 3).
  ASSERT_TRUE(in.reset(2));
  EXPECT_FALSE(in.accept());  // 2 again: skipped
  EXPECT_FALSE(in.accept());  // 3 again: skipped
  EXPECT_TRUE(in.accept());   // 4: new
  EXPECT_EQ(in.latest(), 4u);
}

TEST(InboundSequence, ASequenceBeyondWhatWasReceivedIsAnError) {
  InboundSequence in;
  EXPECT_TRUE(in.accept());
  EXPECT_TRUE(in.reset(2));   // "nothing to replay": sent + 1
  EXPECT_FALSE(in.reset(4));  // messages 2..3 would be lost
  EXPECT_FALSE(in.reset(0));
}

}  // namespace
}  // namespace clickrace::gateway
