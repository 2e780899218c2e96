// The gateway on score partitions (DESIGN §3.1, docs/bus.md "Partitions") on one real Redis: the
// schedule says S = 4 and each partition holds its copy, as the leader writes them. Clicks of many
// players land in their own partitions, exactly; GetRound and /api/rounds/current merge the
// partitions' tops. The gateway starts before the schedule exists (it believes S = 1 and knows
// no round), so its first batches meet PARTITIONS and STALEROUND and must recover from them.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "clickrace/bus/keys.hpp"
#include "clickrace/bus/partitions.hpp"
#include "gateway_fixture.hpp"

namespace clickrace::test {
namespace {

constexpr int kS = 4;
const std::string kPrefix = "parts:";

long long redis_ms(RedisSync& r) {
  auto now = r.cmd({"TIME"});
  return std::stoll(now.elements[0].str) * 1000 + std::stoll(now.elements[1].str) / 1000;
}

// The schedule (round `base` started a moment ago) and its copy in every partition.
void write_partitioned_schedule(RedisSync& r, int partitions, long long base) {
  std::vector<std::string> fields{
      "epoch",      std::to_string(redis_ms(r) - 10), "len", "600000", "base", std::to_string(base),
      "partitions", std::to_string(partitions)};
  bus::Keys keys(kPrefix);
  std::vector<std::string> global{"HSET", keys.schedule()};
  global.insert(global.end(), fields.begin(), fields.end());
  r.cmd(global);
  for (int k = 0; k < partitions; ++k) {
    std::vector<std::string> copy{"HSET", keys.partition(k, partitions).schedule()};
    copy.insert(copy.end(), fields.begin(), fields.end());
    r.cmd(copy);
  }
}

struct Entry {
  std::string name;
  long long clicks;
};

// Every partition's scores of `round`: name -> clicks, and which partition held each.
std::map<std::string, std::pair<int, long long>> stored(RedisSync& r, long long round) {
  std::map<std::string, std::pair<int, long long>> out;
  bus::Keys keys(kPrefix);
  for (int k = 0; k < kS; ++k) {
    auto z = r.cmd({"ZRANGE", keys.partition(k, kS).scores(round), "0", "-1", "WITHSCORES"});
    for (std::size_t i = 0; i + 1 < z.elements.size(); i += 2) {
      out[z.elements[i].str] = {k, std::stoll(z.elements[i + 1].str)};
    }
  }
  return out;
}

long long metric(int port, const std::string& name) {
  std::string text = http_request(port, "GET", "/metrics").body;
  auto at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stoll(text.substr(at + name.size() + 2));
}

TEST(GatewayPartitions, ClicksLandInTheirPartitionsExactlyAndTheTopIsMerged) {
  RedisServer redis;
  RedisSync sync(redis.port());
  Gateway gw(redis, kPrefix, {{"CLICKRACE_MAX_CLICKS_PER_S", "100000"}});
  ASSERT_GT(gw.port, 0) << gw.proc->output();
  // Players in every partition, registered before the schedule exists.
  std::vector<std::string> names;
  std::set<int> covered;
  for (int i = 0; names.size() < 12 || covered.size() < kS; ++i) {
    names.push_back("Racer" + std::to_string(i));
    covered.insert(bus::partition_of(names.back(), kS));
  }
  std::vector<std::string> tokens;
  for (const auto& n : names) tokens.push_back(register_and_login(gw.port, n));
  constexpr long long kRound = 7;  // the gateway guesses 0 at first: STALEROUND must correct it
  write_partitioned_schedule(sync, kS, kRound);

  constexpr int kClicks = 25;
  std::vector<std::string> failures(names.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < names.size(); ++i) {
    threads.emplace_back([&, i] {
      HubClient c;
      if (auto err = c.connect(gw.port, tokens[i]); !err.empty()) {
        failures[i] = err;
        return;
      }
      std::vector<std::string> ids;
      for (int k = 0; k < kClicks; ++k) ids.push_back(c.invoke_async("Click"));
      long long last = 0;
      for (auto& id : ids) {
        auto r = c.completion(id, 10s);
        if (!r || !r->contains("result")) {
          failures[i] = "no result for " + id + ": " + (r ? r->dump() : "timeout");
          return;
        }
        if ((*r)["result"]["round"] != kRound) failures[i] = "wrong round: " + r->dump();
        long long total = (*r)["result"]["clicks"];
        if (total != last + 1) failures[i] = "totals not increasing by one: " + r->dump();
        last = total;
      }
      auto g = c.invoke("GetRound");
      if (!g || (*g)["result"]["myClicks"] != kClicks) {
        failures[i] = "GetRound myClicks: " + (g ? g->dump() : std::string("none"));
      }
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(failures[i], "") << names[i];

  auto scores = stored(sync, kRound);
  long long sum = 0;
  for (const auto& n : names) {
    ASSERT_TRUE(scores.count(n)) << n << " stored nowhere";
    EXPECT_EQ(scores[n].first, bus::partition_of(n, kS)) << n << " in another partition";
    EXPECT_EQ(scores[n].second, kClicks) << n;
    sum += scores[n].second;
  }
  EXPECT_EQ(sum, static_cast<long long>(names.size()) * kClicks) << "acknowledged == stored";
  long long totals = 0;
  bus::Keys keys(kPrefix);
  for (int k = 0; k < kS; ++k) {
    auto t = sync.cmd({"GET", keys.partition(k, kS).total(kRound)});
    if (!t.is_nil()) totals += std::stoll(t.str);
  }
  EXPECT_EQ(totals, sum);
  EXPECT_EQ(sync.cmd({"EXISTS", keys.scores(kRound), keys.scores(0), keys.scores(1)}).integer, 0)
      << "nothing in the one-partition layout";
  EXPECT_GE(metric(gw.port, "clickrace_gateway_click_batches_regrouped_total"), 1);
  EXPECT_GE(metric(gw.port, "clickrace_gateway_click_stale_rounds_total"), 1);
  EXPECT_EQ(metric(gw.port, "clickrace_gateway_click_batches_given_up_total"), 0);

  // The top: more players straight in the partitions, with ties across partitions, beyond 10.
  for (int i = 0; i < 16; ++i) {
    std::string n = "Tied" + std::to_string(i);
    long long clicks = i < 6 ? 40 : (i < 12 ? kClicks : 3);
    sync.cmd({"ZADD", keys.partition(bus::partition_of(n, kS), kS).scores(kRound),
              std::to_string(clicks), n});
  }
  std::vector<Entry> all;
  for (const auto& [n, v] : stored(sync, kRound)) all.push_back({n, v.second});
  // One ZREVRANGE's order over every player at once: clicks descending, ties by name descending.
  std::sort(all.begin(), all.end(), [](const Entry& a, const Entry& b) {
    return a.clicks != b.clicks ? a.clicks > b.clicks : a.name > b.name;
  });
  auto want = nlohmann::json::array();
  for (std::size_t i = 0; i < 10; ++i)
    want.push_back({{"name", all[i].name}, {"clicks", all[i].clicks}});

  HubClient c;
  ASSERT_EQ(c.connect(gw.port, tokens[0]), "");
  auto g = c.invoke("GetRound");
  ASSERT_TRUE(g);
  EXPECT_EQ((*g)["result"]["top"], want) << g->dump();
  EXPECT_EQ((*g)["result"]["round"], kRound);
  auto http = http_request(gw.port, "GET", "/api/rounds/current");
  ASSERT_EQ(http.status, 200);
  EXPECT_EQ(nlohmann::json::parse(http.body)["top"], want) << http.body;
}

// A partition whose schedule copy is missing for a moment (the leader writes the copies after
// the schedule, and re-writes a lost one at its next renewal): the click is resent until the
// copy is back, not refused.
TEST(GatewayPartitions, AClickWaitsForAMissingCopyWithinItsGrace) {
  RedisServer redis;
  RedisSync sync(redis.port());
  write_partitioned_schedule(sync, kS, 1);
  Gateway gw(redis, kPrefix, {{"CLICKRACE_MAX_CLICKS_PER_S", "100000"}});
  ASSERT_GT(gw.port, 0) << gw.proc->output();
  std::string name = "Patient";
  int k = bus::partition_of(name, kS);
  HubClient c;
  ASSERT_EQ(c.connect(gw.port, register_and_login(gw.port, name)), "");
  ASSERT_TRUE(c.invoke("Click"));  // the gateway knows S = 4 now
  bus::Keys keys(kPrefix);
  std::string copy = keys.partition(k, kS).schedule();
  auto saved = sync.cmd({"DUMP", copy});
  sync.cmd({"DEL", copy});
  std::string id = c.invoke_async("Click");
  std::this_thread::sleep_for(500ms);
  sync.cmd({"RESTORE", copy, "0", saved.str});
  auto r = c.completion(id, 10s);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->contains("result")) << r->dump();
  EXPECT_EQ((*r)["result"]["clicks"], 2);
  EXPECT_EQ(sync.cmd({"ZSCORE", keys.partition(k, kS).scores(1), name}).str, "2");

  // A copy that stays missing: "no round is running yet" after the grace, nothing stored.
  sync.cmd({"DEL", copy});
  auto late = c.invoke("Click", nlohmann::json::array(), 15s);
  ASSERT_TRUE(late);
  EXPECT_EQ((*late)["error"], "no round is running yet") << late->dump();
  EXPECT_EQ(sync.cmd({"ZSCORE", keys.partition(k, kS).scores(1), name}).str, "2");
}

}  // namespace
}  // namespace clickrace::test
