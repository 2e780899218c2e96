#include "clickrace/core/token.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <vector>

namespace clickrace::core {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

TokenSigner signer(std::string secret = std::string(64, 'a')) {
  auto s = TokenSigner::from_secret(secret);
  EXPECT_TRUE(s);
  return std::move(s).value();
}

Claims login(std::string name = "Alice", int64_t exp = kNow + 60'000) {
  return Claims{TokenKind::login, std::move(name), exp, ""};
}

TEST(Token, SignAndVerifyRoundTrip) {
  TokenSigner s = signer();
  auto r = s.verify(s.sign(login()), TokenKind::login, kNow);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->name, "Alice");
  EXPECT_EQ(r->expires_at, kNow + 60'000);
  EXPECT_EQ(r->kind, TokenKind::login);
  EXPECT_EQ(r->connection_id, "");

  Claims c{TokenKind::connection, "bob_1", kNow + 1, "conn-0123456789abcdef"};
  auto rc = s.verify(s.sign(c), TokenKind::connection, kNow);
  ASSERT_TRUE(rc);
  EXPECT_EQ(rc->connection_id, "conn-0123456789abcdef");
  EXPECT_EQ(rc->name, "bob_1");
}

TEST(Token, IsUrlSafe) {
  TokenSigner s = signer();
  for (int i = 0; i < 50; ++i) {
    std::string t = s.sign(Claims{TokenKind::connection, "n" + std::to_string(i), kNow + i,
                                  std::string(static_cast<size_t>(i), '\xff')});
    for (char ch : t) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_') << t;
    }
  }
}

TEST(Token, ExpiresAtItsExpiry) {
  TokenSigner s = signer();
  std::string t = s.sign(login("Alice", kNow));
  auto before = s.verify(t, TokenKind::login, kNow - 1);
  EXPECT_TRUE(before);
  auto at = s.verify(t, TokenKind::login, kNow);
  ASSERT_FALSE(at);
  EXPECT_EQ(at.error().message, "token expired");
}

TEST(Token, WrongKindWrongKeyAreInvalid) {
  TokenSigner s = signer();
  std::string t = s.sign(login());
  auto kind = s.verify(t, TokenKind::connection, kNow);
  ASSERT_FALSE(kind);
  EXPECT_EQ(kind.error().message, "invalid token");
  auto key = signer(std::string(64, 'b')).verify(t, TokenKind::login, kNow);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().message, "invalid token");
}

TEST(Token, EveryFlippedCharacterIsRejected) {
  TokenSigner s = signer();
  std::string t = s.sign(Claims{TokenKind::connection, "Alice", kNow + 1000, "c1"});
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t i = 0; i < t.size(); ++i) {
    for (char replacement : alphabet) {
      if (replacement == t[i]) continue;
      std::string bad = t;
      bad[i] = replacement;
      EXPECT_FALSE(s.verify(bad, TokenKind::connection, kNow)) << "position " << i;
    }
  }
}

TEST(Token, TruncatedExtendedAndGarbageAreRejected) {
  TokenSigner s = signer();
  std::string t = s.sign(login());
  for (size_t n = 0; n < t.size(); ++n) {
    EXPECT_FALSE(s.verify(t.substr(0, n), TokenKind::login, kNow)) << n;
  }
  EXPECT_FALSE(s.verify(t + "A", TokenKind::login, kNow));
  EXPECT_FALSE(s.verify(t + "=", TokenKind::login, kNow));
  EXPECT_FALSE(s.verify(t + " ", TokenKind::login, kNow));
  EXPECT_FALSE(s.verify(" " + t, TokenKind::login, kNow));
  for (const std::string& g :
       std::vector<std::string>{"", "x", "....", "not-a-token", "%00%00", std::string(5000, 'A'),
                                std::string(80, '\0'), "eyJhbGciOiJIUzI1NiJ9.e30.abc"}) {
    auto r = s.verify(g, TokenKind::login, kNow);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "invalid token");
  }
}

TEST(Token, SecretRules) {
  EXPECT_FALSE(TokenSigner::from_secret(std::string(31, 'x')));
  EXPECT_EQ(TokenSigner::from_secret("short").error().message,
            "token secret must be at least 32 bytes");
  std::string hex = generate_secret_hex();
  EXPECT_EQ(hex.size(), 64u);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(hex, generate_secret_hex());
  auto a = TokenSigner::from_secret(hex);
  auto b = TokenSigner::from_secret(hex);
  ASSERT_TRUE(a && b);
  // Same configured secret on two gateways: each accepts the other's tokens.
  EXPECT_TRUE(b->verify(a->sign(login()), TokenKind::login, kNow));
}

TEST(Token, OverlongClaimsAreACallerBug) {
  TokenSigner s = signer();
  EXPECT_THROW(s.sign(login(std::string(256, 'n'))), std::invalid_argument);
  std::string t = s.sign(login(std::string(255, 'n')));
  EXPECT_TRUE(s.verify(t, TokenKind::login, kNow));
}

}  // namespace
}  // namespace clickrace::core
