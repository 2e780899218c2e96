#include <gtest/gtest.h>

#include "bus_fixture.hpp"

// lease.lua with the term key (docs/bus.md "Partitions"): each new holder gets a higher term,
// the term that fences seal.lua and schedule_copy.lua in every partition.
namespace clickrace::test {
namespace {

class LeaseTerm : public BusTest {
 protected:
  Reply lease(const std::string& op, const std::string& who, const std::string& ttl = "60000",
              const std::string& floor = "") {
    std::vector<std::string> args{op, who, ttl};
    if (!floor.empty()) args.push_back(floor);
    return eval(bus::lua::lease, {keys_.leader(), keys_.term()}, args);
  }
};

TEST_F(LeaseTerm, EachNewHolderGetsAHigherTermAndKeepsItWhileRenewing) {
  EXPECT_EQ(lease("acquire", "A").integer, 1);
  EXPECT_EQ(lease("acquire", "A").integer, 1);  // renewal: same term
  EXPECT_EQ(lease("acquire", "B").integer, 0);  // not holding
  EXPECT_EQ(cmd({"GET", keys_.term()}).str, "1");
  EXPECT_EQ(lease("release", "A", "0").integer, 1);
  EXPECT_EQ(lease("acquire", "B").integer, 2);
  EXPECT_EQ(lease("acquire", "B").integer, 2);
  // A lease that expired and is taken back by the same holder is a new term too: someone else
  // may have led in between.
  cmd({"DEL", keys_.leader()});
  EXPECT_EQ(lease("acquire", "B").integer, 3);
  EXPECT_EQ(cmd({"TTL", keys_.term()}).integer, -1);
}

TEST_F(LeaseTerm, AFloorRaisesTheHoldersTerm) {
  ASSERT_EQ(lease("acquire", "A").integer, 1);
  // A partition saw term 7 (the term key was lost with its node, numbering restarted).
  EXPECT_EQ(lease("acquire", "A", "60000", "7").integer, 8);
  EXPECT_EQ(lease("acquire", "A").integer, 8);
  EXPECT_EQ(lease("acquire", "A", "60000", "3").integer, 8);   // a lower floor changes nothing
  EXPECT_EQ(lease("acquire", "B", "60000", "20").integer, 0);  // only for the holder
  EXPECT_EQ(cmd({"GET", keys_.term()}).str, "8");
}

TEST_F(LeaseTerm, ATermLostUnderTheHolderStartsANewOne) {
  ASSERT_EQ(lease("acquire", "A").integer, 1);
  cmd({"DEL", keys_.term()});
  EXPECT_EQ(lease("acquire", "A").integer, 1);
  EXPECT_EQ(cmd({"GET", keys_.term()}).str, "1");
}

TEST_F(LeaseTerm, WithoutTheTermKeyTheReplyIsOneOrZero) {
  EXPECT_EQ(eval(bus::lua::lease, {keys_.leader()}, {"acquire", "A", "60000"}).integer, 1);
  EXPECT_EQ(eval(bus::lua::lease, {keys_.leader()}, {"acquire", "B", "60000"}).integer, 0);
  EXPECT_EQ(cmd({"EXISTS", keys_.term()}).integer, 0);
}

TEST_F(LeaseTerm, ABadFloorIsRejected) {
  for (const char* bad : {"-1", "x", "1.5"}) {
    Reply r = lease("acquire", "A", "60000", bad);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.str.rfind("BADARG ", 0), 0u) << r.str;
  }
  EXPECT_EQ(cmd({"EXISTS", keys_.leader()}).integer, 0);
}

}  // namespace
}  // namespace clickrace::test
