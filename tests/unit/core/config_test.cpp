#include "clickrace/core/config.hpp"

#include <gtest/gtest.h>

#include <map>

namespace clickrace::core {
namespace {

struct Opts {
  std::string redis_url = "redis://127.0.0.1:6379/0";
  int64_t round_ms = 30000;
  int port = 8080;
  bool verbose = false;
  std::string secret;
};

struct Fixture {
  Opts opts;
  OptionSet set{"test", "A test program."};
  std::map<std::string, std::string> env;
  Fixture() {
    set.add("CLICKRACE_REDIS_URL", &opts.redis_url, "redis")
        .add("CLICKRACE_ROUND_MS", &opts.round_ms, "round", 50, 86400000)
        .add("CLICKRACE_GATEWAY_PORT", &opts.port, "port", 0, 65535)
        .add("CLICKRACE_VERBOSE", &opts.verbose, "verbose")
        .add_secret("CLICKRACE_TOKEN_SECRET", &opts.secret, "secret");
  }
  OptionSet::Outcome parse(std::vector<const char*> args) {
    args.insert(args.begin(), "test");
    return set.parse(static_cast<int>(args.size()), args.data(),
                     [this](const std::string& k) -> std::optional<std::string> {
                       auto it = env.find(k);
                       if (it == env.end()) return std::nullopt;
                       return it->second;
                     });
  }
};

TEST(Config, DefaultsStayWhenNothingIsSet) {
  Fixture f;
  auto out = f.parse({});
  EXPECT_FALSE(out.error);
  EXPECT_EQ(f.opts.round_ms, 30000);
  EXPECT_EQ(f.opts.port, 8080);
  EXPECT_EQ(f.opts.redis_url, "redis://127.0.0.1:6379/0");
}

TEST(Config, EnvOverridesDefaultAndFlagOverridesEnv) {
  Fixture f;
  f.env["CLICKRACE_ROUND_MS"] = "500";
  f.env["CLICKRACE_GATEWAY_PORT"] = "9000";
  auto out = f.parse({"--gateway-port", "9100"});
  EXPECT_FALSE(out.error);
  EXPECT_EQ(f.opts.round_ms, 500);
  EXPECT_EQ(f.opts.port, 9100);
}

TEST(Config, FlagWithEqualsAndBareBool) {
  Fixture f;
  auto out = f.parse({"--round-ms=750", "--verbose"});
  EXPECT_FALSE(out.error);
  EXPECT_EQ(f.opts.round_ms, 750);
  EXPECT_TRUE(f.opts.verbose);
}

TEST(Config, BadValuesAreClearErrors) {
  for (const char* bad : {"abc", "", "12x", "99999999999999999999999", "-5", "10"}) {
    Fixture f;
    f.env["CLICKRACE_ROUND_MS"] = bad;
    auto out = f.parse({});
    ASSERT_TRUE(out.error) << bad;
    EXPECT_NE(out.error->find("CLICKRACE_ROUND_MS"), std::string::npos) << *out.error;
  }
  Fixture f;
  auto out = f.parse({"--gateway-port", "70000"});
  ASSERT_TRUE(out.error);
  EXPECT_NE(out.error->find("between 0 and 65535"), std::string::npos);
}

TEST(Config, UnknownFlagAndMissingValue) {
  Fixture f;
  EXPECT_NE(f.parse({"--nope"}).error->find("unknown option '--nope'"), std::string::npos);
  Fixture g;
  EXPECT_NE(g.parse({"--round-ms"}).error->find("needs a value"), std::string::npos);
}

TEST(Config, BoolRejectsGarbage) {
  Fixture f;
  f.env["CLICKRACE_VERBOSE"] = "maybe";
  EXPECT_TRUE(f.parse({}).error);
}

TEST(Config, HelpListsEveryOptionWithEnvAndDefaultButNoSecret) {
  Fixture f;
  f.opts.secret = "hunter2";
  Fixture g;
  auto out = g.parse({"--help"});
  EXPECT_TRUE(out.help_requested);
  std::string help = g.set.help();
  for (const char* s : {"--redis-url", "CLICKRACE_REDIS_URL", "--round-ms", "default 30000",
                        "--gateway-port", "--verbose", "--token-secret", "--help"}) {
    EXPECT_NE(help.find(s), std::string::npos) << s;
  }
}

TEST(Config, SecretValueIsNeverEchoedInErrorsOrHelp) {
  Opts opts;
  opts.secret = "default-secret-value";
  OptionSet set("t", "t");
  set.add_secret("CLICKRACE_TOKEN_SECRET", &opts.secret, "secret");
  EXPECT_EQ(set.help().find("default-secret-value"), std::string::npos);
}

TEST(Config, FlagNameDerivation) {
  EXPECT_EQ(OptionSet::flag_for("CLICKRACE_MAX_CLICKS_PER_S"), "--max-clicks-per-s");
  EXPECT_EQ(OptionSet::flag_for("OTHER_THING"), "--other-thing");
}

}  // namespace
}  // namespace clickrace::core

namespace clickrace::core {
namespace {

std::optional<std::string> only_abc(const std::string& v) {
  if (v == "abc") return std::nullopt;
  return std::string("must be abc");
}

// A plain function as validator must validate (it once bound to an overload's bool silently).
TEST(Config, PlainFunctionValidatorIsApplied) {
  std::string value = "abc";
  OptionSet set("t", "t");
  set.add_checked("CLICKRACE_THING", &value, "thing", only_abc);
  const char* argv[] = {"t", "--thing", "xyz"};
  auto out = set.parse(3, argv, [](const std::string&) { return std::nullopt; });
  ASSERT_TRUE(out.error);
  EXPECT_NE(out.error->find("must be abc"), std::string::npos);
  EXPECT_NE(set.help().find("default abc"), std::string::npos);
}

}  // namespace
}  // namespace clickrace::core

namespace clickrace::core {
namespace {

TEST(Config, UrlCredentialsAreMaskedInErrors) {
  EXPECT_EQ(printable_value("redis://:hunter2@127.0.0.1:99999/0", false),
            "redis://***@127.0.0.1:99999/0");
  EXPECT_EQ(printable_value("redis://user:pw@h/0", false), "redis://***@h/0");
  EXPECT_EQ(printable_value("redis://h:6379/0", false), "redis://h:6379/0");
  EXPECT_EQ(printable_value("http://h/a@b", false), "http://h/a@b");
  EXPECT_EQ(printable_value("anything", true), "***");

  std::string url = "redis://127.0.0.1:6379/0";
  OptionSet set("t", "t");
  set.add_checked("CLICKRACE_REDIS_URL", &url, "redis",
                  [](const std::string&) -> std::optional<std::string> { return "bad port"; });
  auto out = set.parse(1, std::vector<const char*>{"t"}.data(), [](const std::string& k) {
    return k == "CLICKRACE_REDIS_URL" ? std::optional<std::string>("redis://:s3cret@h:99999/0")
                                      : std::nullopt;
  });
  ASSERT_TRUE(out.error);
  EXPECT_EQ(out.error->find("s3cret"), std::string::npos) << *out.error;
}

}  // namespace
}  // namespace clickrace::core
