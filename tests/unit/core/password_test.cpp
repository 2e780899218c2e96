#include "clickrace/core/password.hpp"

#include <gtest/gtest.h>

namespace clickrace::core {
namespace {

TEST(Password, HashVerifiesOnlyTheRightPassword) {
  auto h = hash_password("correct horse", PasswordLimits::minimal());
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(h->find("correct horse"), std::string::npos);
  EXPECT_TRUE(verify_password(*h, "correct horse"));
  EXPECT_FALSE(verify_password(*h, "correct horsE"));
  EXPECT_FALSE(verify_password(*h, "correct horse "));
  EXPECT_FALSE(verify_password(*h, ""));
}

TEST(Password, SaltedSoEqualPasswordsHashDifferently) {
  auto a = hash_password("password1", PasswordLimits::minimal());
  auto b = hash_password("password1", PasswordLimits::minimal());
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
}

TEST(Password, BinaryPasswordsWork) {
  std::string pw("pass\0word\xff", 10);
  auto h = hash_password(pw, PasswordLimits::minimal());
  ASSERT_TRUE(h);
  EXPECT_TRUE(verify_password(*h, pw));
  EXPECT_FALSE(verify_password(*h, "pass"));
}

TEST(Password, MalformedStoredHashIsAMismatch) {
  EXPECT_FALSE(verify_password("", "whatever1"));
  EXPECT_FALSE(verify_password("not a hash", "whatever1"));
  EXPECT_FALSE(verify_password(std::string(500, '$'), "whatever1"));
  auto h = hash_password("password1", PasswordLimits::minimal());
  ASSERT_TRUE(h);
  EXPECT_FALSE(verify_password(h->substr(0, h->size() - 3), "password1"));
}

TEST(Password, InteractiveLimitsAreTheDefault) {
  EXPECT_GT(PasswordLimits::interactive().mem, PasswordLimits::minimal().mem);
}

}  // namespace
}  // namespace clickrace::core
