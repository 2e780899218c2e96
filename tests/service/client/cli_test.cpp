// clickrace-cli, the real binary, against a real topology.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <regex>
#include <sstream>

#include "topology.hpp"

namespace clickrace::test {
namespace {

std::optional<int> exit_code(Process& p, std::chrono::milliseconds timeout = 30s) {
  auto status = p.wait_exit(timeout);
  if (!status || !WIFEXITED(*status)) return std::nullopt;
  return WEXITSTATUS(*status);
}

std::optional<int> run_cli(std::vector<std::string> args, std::string* output = nullptr) {
  args.insert(args.begin(), bin("clickrace-cli"));
  Process p("clickrace-cli", args);
  p.start();
  auto code = exit_code(p);
  if (output) *output = p.output();
  return code;
}

struct RoundLine {
  std::string text;
  long long round = 0, total = 0, players = 0;
};

std::vector<RoundLine> round_lines(const std::string& output) {
  static const std::regex re(R"(round (\d+) ended: .*; total (\d+) clicks by (\d+) players)");
  std::vector<RoundLine> out;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, re)) {
      out.push_back({m[0].str(), std::stoll(m[1]), std::stoll(m[2]), std::stoll(m[3])});
    }
  }
  return out;
}

TEST(Cli, HelpAndUsageErrorsUseTheDocumentedExitCodes) {
  std::string out;
  EXPECT_EQ(run_cli({"--help"}, &out), 0);
  EXPECT_NE(out.find("watch"), std::string::npos);
  for (const char* cmd : {"watch", "play", "bots"}) {
    EXPECT_EQ(run_cli({cmd, "--help"}, &out), 0) << cmd;
    EXPECT_NE(out.find(std::string("clickrace-cli [--url URL] ") + cmd), std::string::npos) << out;
  }
  EXPECT_EQ(run_cli({}), 2);
  EXPECT_EQ(run_cli({"dance"}), 2);
  EXPECT_EQ(run_cli({"watch", "--bogus"}), 2);
  EXPECT_EQ(run_cli({"bots"}), 2);
  EXPECT_EQ(run_cli({"bots", "0"}), 2);
  EXPECT_EQ(run_cli({"bots", "3", "--rate", "fast"}), 2);
  EXPECT_EQ(run_cli({"play", "--name", "alice"}), 2);
  EXPECT_EQ(run_cli({"--url", "nowhere", "watch"}), 2);
}

TEST(Cli, UnreachableServerIsARuntimeFailure) {
  int port = free_port();
  std::string out;
  EXPECT_EQ(run_cli({"--url", "http://127.0.0.1:" + std::to_string(port), "watch"}, &out), 1)
      << out;
  EXPECT_NE(out.find("cannot log in"), std::string::npos) << out;
}

TEST(Cli, BotsFillARoundAndWatchPrintsItsResult) {
  Topology t;  // 500 ms rounds
  Process watch("watch", {bin("clickrace-cli"), "--url", t.base_url(), "watch"});
  watch.start();
  ASSERT_TRUE(watch.wait_for_output("watching rounds", 15s)) << watch.output();

  Process bots("bots", {bin("clickrace-cli"), "--url", t.base_url(), "bots", "20", "--rate", "5",
                        "--duration", "3"});
  bots.start();
  auto code = exit_code(bots, 60s);
  std::string bots_out = bots.output();
  ASSERT_EQ(code, 0) << bots_out;
  EXPECT_NE(bots_out.find("summary: 20 bots"), std::string::npos) << bots_out;

  // A round the 20 bots filled: every bot clicks 5 times a second, so all click in a 500 ms round.
  std::optional<RoundLine> full;
  for (const auto& l : round_lines(bots_out)) {
    if (l.total > 0 && l.players >= 20) full = l;
  }
  ASSERT_TRUE(full.has_value()) << bots_out;

  // The watcher printed the same result, in the same words.
  EXPECT_TRUE(eventually([&] { return watch.output().find(full->text) != std::string::npos; }))
      << "missing: " << full->text << "\nwatch output:\n"
      << watch.output();
  int status = watch.stop();  // SIGTERM ends watch normally
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << watch.output();
}

TEST(Cli, WatchExitsAfterCountResults) {
  Topology t;
  std::string out;
  EXPECT_EQ(run_cli({"--url", t.base_url(), "watch", "--count", "2"}, &out), 0) << out;
  EXPECT_EQ(round_lines(out).size(), 2u) << out;
}

TEST(Cli, PlayClicksOncePerLineOfInput) {
  Topology t(true, 60'000);
  // Feed three Enter presses through a pipe, then EOF.
  std::string cmd = "printf '\\n\\n\\n' | " + bin("clickrace-cli") + " --url " + t.base_url() +
                    " play --name player_one --password 'correct horse'";
  Process play("play", {"/bin/sh", "-c", cmd});
  play.start();
  auto code = exit_code(play);
  std::string out = play.output();
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("playing as player_one"), std::string::npos) << out;
  EXPECT_NE(out.find(": 1 clicks"), std::string::npos) << out;
  EXPECT_NE(out.find(": 3 clicks"), std::string::npos) << out;
}

}  // namespace
}  // namespace clickrace::test
