#include "clickrace/core/validation.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace clickrace::core {
namespace {

TEST(Validation, Names) {
  for (std::string ok :
       {"abc", "Alice", "bob_42", "a-b-c", "ABCDEFGHIJKLMNOPQRSTUVWX", "___", "0-9"}) {
    EXPECT_FALSE(validate_name(ok)) << ok;
  }
  for (const std::string& bad :
       std::vector<std::string>{"", "ab", "ABCDEFGHIJKLMNOPQRSTUVWXY", "a b", "bob!", "al.ice",
                                "émile", "ab\n", std::string("ab\0c", 4), "<script>", "a/b"}) {
    EXPECT_TRUE(validate_name(bad)) << bad;
  }
  EXPECT_EQ(*validate_name("ab"), "name must be 3 to 24 characters long");
  EXPECT_EQ(*validate_name("a b"), "name may contain only letters, digits, '_' and '-'");
}

TEST(Validation, Passwords) {
  EXPECT_TRUE(validate_password(""));
  EXPECT_TRUE(validate_password("1234567"));
  EXPECT_FALSE(validate_password("12345678"));
  EXPECT_FALSE(validate_password(std::string(128, 'x')));
  EXPECT_TRUE(validate_password(std::string(129, 'x')));
  EXPECT_FALSE(validate_password("pässwörd with spaces"));  // any bytes
  EXPECT_EQ(*validate_password("short"), "password must be at least 8 bytes long");
  EXPECT_EQ(*validate_password(std::string(200, 'x')), "password must be at most 128 bytes long");
}

TEST(Validation, NameKeyIsCaseInsensitive) {
  EXPECT_EQ(name_key("Alice"), "alice");
  EXPECT_EQ(name_key("ALICE"), name_key("alice"));
  EXPECT_EQ(name_key("Bob_42-X"), "bob_42-x");
}

}  // namespace
}  // namespace clickrace::core
