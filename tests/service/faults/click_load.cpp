#include "click_load.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>

#include "fault_topology.hpp"
#include "process.hpp"

namespace clickrace::test {
namespace {

using std::chrono::milliseconds;

client::HubClientOptions hub_options(const std::string& base_url, const std::string& token) {
  client::HubClientOptions o;
  o.url = client::hub_url_for(base_url);
  o.access_token_factory = [token] { return token; };
  // Keep trying for about a minute: a SIGSTOPped gateway behind nginx swallows attempts.
  o.reconnect_delays = {milliseconds(0), milliseconds(100), milliseconds(250)};
  o.reconnect_delays.resize(120, milliseconds(500));
  // The gateways ping every second when idle (CLICKRACE_KEEPALIVE_MS): 4 s of silence is a
  // dead or frozen server.
  o.server_timeout = milliseconds(4000);
  o.keep_alive_interval = milliseconds(1000);
  o.handshake_timeout = milliseconds(2000);
  o.http_timeout = milliseconds(2000);
  return o;
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

}  // namespace

Player::Player(std::string name, client::Session session, const LoadOptions& options)
    : name_(std::move(name)),
      max_in_flight_(options.max_in_flight),
      hub_(std::make_unique<client::HubClient>(hub_options(options.base_url, session.token))) {
  sessions_.push_back(SessionLog{FaultTopology::wall_ms(), 0, true, {}});
  hub_->on("RoundEnded", [this](const client::Json& args) {
    if (args.is_array() && !args.empty() && args[0].contains("round")) {
      on_event(args[0]["round"].get<long long>());
    }
  });
  hub_->on("Leaderboard", [this](const client::Json&) { touch(); });
  hub_->on("RoundStarted", [this](const client::Json&) { touch(); });
  hub_->on_reconnecting([this](const std::string&) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.back().open = false;
    lost_at_.push_back(FaultTopology::wall_ms());
  });
  hub_->on_reconnected([this](const std::string&) {
    std::lock_guard<std::mutex> lock(mu_);
    long long now = FaultTopology::wall_ms();
    reconnected_at_.push_back(now);
    sessions_.push_back(SessionLog{now, now, true, {}});
  });
  hub_->on_closed([this](const std::optional<std::string>&) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.back().open = false;
  });
}

Player::~Player() { hub_.reset(); }

void Player::touch() {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.back().last_activity_ms = FaultTopology::wall_ms();
}

void Player::on_event(long long round) {
  std::lock_guard<std::mutex> lock(mu_);
  SessionLog& s = sessions_.back();
  s.last_activity_ms = FaultTopology::wall_ms();
  s.rounds.push_back(round);
}

void Player::click() {
  if (in_flight_ >= max_in_flight_) return;
  ++in_flight_;
  hub_->invoke("Click", client::Json::array(), [this](client::InvokeResult r) {
    long long now = FaultTopology::wall_ms();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (r) {
        ++counts_.acked;
        ack_times_.push_back(now);
        sessions_.back().last_activity_ms = now;
      } else {
        const std::string& e = r.error().message;
        if (e == client::kInvocationCanceledError) {
          ++counts_.unresolved;
        } else if (e == client::kNotConnectedError ||
                   starts_with(e, "Too many invocations are waiting")) {
          ++counts_.not_sent;
        } else if (starts_with(e, "rate limit") || e == "no round is running yet") {
          ++counts_.rejected;
          sessions_.back().last_activity_ms = now;
        } else {
          // "service unavailable": the gateway failed fast (not counted) or a batch failed
          // after it reached Redis (maybe counted); the client cannot tell which.
          ++counts_.maybe;
          sessions_.back().last_activity_ms = now;
        }
      }
    }
    --in_flight_;
  });
}

PlayerCounts Player::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}
std::vector<SessionLog> Player::sessions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_;
}
std::vector<long long> Player::lost_at() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lost_at_;
}
std::vector<long long> Player::reconnected_at() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reconnected_at_;
}
long long Player::first_ack_after(long long t) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = std::lower_bound(ack_times_.begin(), ack_times_.end(), t);
  return it == ack_times_.end() ? 0 : *it;
}

ClickLoad::ClickLoad(LoadOptions options) : options_(std::move(options)) {
  client::AccountApi api(options_.base_url);
  std::vector<client::Session> sessions;
  for (int i = 0; i < options_.players; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "Player%03d", i);
    auto s = api.login_or_register(name, "fault-suite-password");
    if (!s) {
      ADD_FAILURE() << "login " << name << ": " << s.error().message;
      return;
    }
    players_.push_back(std::make_unique<Player>(name, *s, options_));
  }
  std::vector<client::StartFuture> started;
  for (auto& p : players_) started.push_back(p->hub().ensure_started());
  for (std::size_t i = 0; i < started.size(); ++i) {
    auto r = started[i].get();
    EXPECT_TRUE(r.ok()) << players_[i]->name() << ": " << (r ? "" : r.error().message);
  }
}

ClickLoad::~ClickLoad() {
  stop();
  // Stopping a client waits for its close handshake: stop them side by side.
  std::vector<std::thread> stoppers;
  const std::size_t kThreads = 16;
  for (std::size_t t = 0; t < kThreads; ++t) {
    stoppers.emplace_back([this, t, kThreads] {
      for (std::size_t i = t; i < players_.size(); i += kThreads) players_[i].reset();
    });
  }
  for (auto& t : stoppers) t.join();
}

bool ClickLoad::all_connected() const {
  return std::all_of(players_.begin(), players_.end(), [](const std::unique_ptr<Player>& p) {
    return p->hub().state() == client::HubState::connected;
  });
}

void ClickLoad::start() {
  if (pacing_.exchange(true)) return;
  pacer_ = std::thread([this] { pace(); });
}

// Spreads the clicks evenly: each 20 ms slice clicks for 1/10 of the players (5/s each).
void ClickLoad::pace() {
  const int slices = std::max(1, 1000 / options_.clicks_per_s / 20);
  auto next = std::chrono::steady_clock::now();
  for (int slice = 0; pacing_; slice = (slice + 1) % slices) {
    for (std::size_t i = static_cast<std::size_t>(slice); i < players_.size();
         i += static_cast<std::size_t>(slices)) {
      if (players_[i]->hub().state() == client::HubState::connected) players_[i]->click();
    }
    next += milliseconds(20);
    std::this_thread::sleep_until(next);
  }
}

void ClickLoad::stop() {
  if (!pacing_.exchange(false)) return;
  pacer_.join();
  eventually(
      [&] {
        return std::all_of(players_.begin(), players_.end(),
                           [](const std::unique_ptr<Player>& p) { return p->in_flight() == 0; });
      },
      10s);
}

PlayerCounts ClickLoad::totals() const {
  PlayerCounts t;
  for (const auto& p : players_) {
    PlayerCounts c = p->counts();
    t.acked += c.acked;
    t.rejected += c.rejected;
    t.maybe += c.maybe;
    t.unresolved += c.unresolved;
    t.not_sent += c.not_sent;
  }
  return t;
}

std::vector<Player*> ClickLoad::lost_since(long long t) {
  std::vector<Player*> out;
  for (auto& p : players_) {
    auto lost = p->lost_at();
    if (!lost.empty() && lost.back() >= t) out.push_back(p.get());
  }
  return out;
}

bool ClickLoad::wait_served(const std::vector<Player*>& who, long long t,
                            std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        return std::all_of(who.begin(), who.end(),
                           [t](Player* p) { return p->first_ack_after(t) != 0; });
      },
      timeout, 50ms);
}

}  // namespace clickrace::test
