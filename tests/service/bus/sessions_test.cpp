// sessions.lua, the per-account connection registry, against a real redis-server: a connection
// is closed only for a newer one beyond the cap — never because Redis forgot it or its gateway
// was late — and a crashed gateway's leftovers are evicted before live connections.
#include <gtest/gtest.h>

#include <thread>

#include "bus_fixture.hpp"

namespace clickrace::test {
namespace {

class Sessions : public BusTest {
 protected:
  std::vector<std::string> keys() {
    return {keys_.player_connections("alice"), keys_.player_evicted("alice")};
  }
  // Returns {member, evicted}.
  std::pair<std::string, long long> open(const std::string& instance, const std::string& conn,
                                         int cap = 3, int stale = 30000) {
    Reply r =
        eval(bus::lua::sessions, keys(),
             {"open", keys_.prefix(), instance, conn, std::to_string(cap), std::to_string(stale)});
    EXPECT_EQ(r.type, REDIS_REPLY_ARRAY) << r.str;
    if (r.elements.size() != 2) return {"", -1};
    return {r.elements[0].str, r.elements[1].integer};
  }
  long long touch(const std::string& member, int cap = 3, int stale = 30000) {
    Reply r = eval(bus::lua::sessions, keys(),
                   {"touch", keys_.prefix(), member, std::to_string(cap), std::to_string(stale)});
    EXPECT_EQ(r.type, REDIS_REPLY_INTEGER) << r.str;
    return r.integer;
  }
  std::vector<std::string> members() {
    std::vector<std::string> out;
    for (auto& e : cmd({"ZRANGE", keys()[0], "0", "-1"}).elements) out.push_back(e.str);
    return out;
  }
  static void pause_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }
};

TEST_F(Sessions, ANewerConnectionBeyondTheCapEvictsTheOldestAndTellsItsGateway) {
  Subscriber sub(server_->port(), keys_.gateway_kick("gw1"));
  auto a = open("gw1", "A");
  pause_ms(2);
  auto b = open("gw2", "B");
  pause_ms(2);
  auto c = open("gw1", "C");
  EXPECT_EQ(a.second + b.second + c.second, 0);
  pause_ms(2);
  auto d = open("gw2", "D");
  EXPECT_EQ(d.second, 1);
  EXPECT_EQ(members(), (std::vector<std::string>{b.first, c.first, d.first}));
  EXPECT_EQ(sub.drain(), (std::vector<std::string>{a.first})) << "A's gateway is told";
  EXPECT_EQ(touch(a.first), 0) << "and a lost kick is caught by the next confirmation";
  EXPECT_EQ(touch(b.first), 1);
}

// Redis forgot the registry (FLUSHALL): a confirmation registers the connection again, so a
// player with fewer connections than the cap never has one closed.
TEST_F(Sessions, AfterDataLossConfirmationsReregisterInsteadOfClosing) {
  auto a = open("gw1", "A");
  auto b = open("gw1", "B");
  cmd({"FLUSHALL"});
  auto c = open("gw2", "C");  // the account opens another tab: the key exists again
  EXPECT_EQ(c.second, 0);
  EXPECT_EQ(touch(a.first), 1);
  EXPECT_EQ(touch(b.first), 1);
  EXPECT_EQ(members().size(), 3u);
  // Beyond the cap the re-registered oldest is the one evicted.
  auto d = open("gw2", "D");
  EXPECT_EQ(d.second, 1);
  EXPECT_EQ(touch(a.first), 0);
}

// A gateway whose confirmations were late (reconnecting, starved) is not closed for it.
TEST_F(Sessions, ALateConfirmationIsNotAnEviction) {
  auto a = open("gw1", "A", 3, 300);
  pause_ms(400);  // gw1 did not confirm within stale_ms
  auto b = open("gw2", "B", 3, 300);
  EXPECT_EQ(b.second, 0);
  EXPECT_EQ(touch(a.first, 3, 300), 1);
  EXPECT_EQ(members().size(), 2u);
}

// A crashed gateway's connections stop being confirmed; beyond the cap they are evicted before
// a live (even older) connection.
TEST_F(Sessions, UnconfirmedEntriesAreEvictedBeforeLiveOnes) {
  const int stale = 600;
  auto a = open("gw1", "A", 3, stale);  // live, oldest
  pause_ms(2);
  auto b = open("gw2", "B", 3, stale);  // gw2 will crash
  auto c = open("gw2", "C", 3, stale);
  pause_ms(stale / 2 + 100);
  EXPECT_EQ(touch(a.first, 3, stale), 1);  // gw1 keeps confirming
  auto b2 = open("gw1", "B2", 3, stale);   // B and C reconnect on gw1
  auto c2 = open("gw1", "C2", 3, stale);
  EXPECT_EQ(b2.second + c2.second, 2);
  auto left = members();
  EXPECT_EQ(left.size(), 3u);
  EXPECT_NE(std::find(left.begin(), left.end(), a.first), left.end()) << "the live A stays";
}

TEST_F(Sessions, CloseRemovesAndBadArgumentsAreRefused) {
  auto a = open("gw1", "A");
  EXPECT_EQ(eval(bus::lua::sessions, keys(), {"close", a.first}).integer, 1);
  EXPECT_TRUE(members().empty());
  for (auto args :
       std::vector<std::vector<std::string>>{{"open", keys_.prefix(), "GW!", "A", "3", "100"},
                                             {"open", keys_.prefix(), "gw1", "", "3", "100"},
                                             {"open", keys_.prefix(), "gw1", "A", "0", "100"},
                                             {"touch", keys_.prefix(), "no-colons", "3", "100"},
                                             {"nope"}}) {
    Reply r = eval(bus::lua::sessions, keys(), args);
    EXPECT_TRUE(r.is_error());
    EXPECT_EQ(r.str.rfind("BADARG", 0), 0u) << r.str;
  }
}

}  // namespace
}  // namespace clickrace::test
