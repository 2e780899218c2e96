#include "clickrace/redis/reply.hpp"

#include <gtest/gtest.h>

namespace clickrace::redis {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(HashPairs, FlatFieldValueArrayInReplyOrder) {
  Reply r =
      Reply::array({Reply::string("epoch"), Reply::string("1000"), Reply::string("len"),
                    Reply::string("30000"), Reply::string("partitions"), Reply::string("12")});
  EXPECT_EQ(hash_pairs(r), (Pairs{{"epoch", "1000"}, {"len", "30000"}, {"partitions", "12"}}));
}

TEST(HashPairs, NilEmptyAndOddArrays) {
  EXPECT_TRUE(hash_pairs(Reply{}).empty());
  EXPECT_TRUE(hash_pairs(Reply::array({})).empty());
  Reply odd = Reply::array({Reply::string("a"), Reply::string("1"), Reply::string("b")});
  EXPECT_EQ(hash_pairs(odd), (Pairs{{"a", "1"}}));
}

}  // namespace
}  // namespace clickrace::redis
