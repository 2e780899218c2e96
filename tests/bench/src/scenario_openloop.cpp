// Scenario "openloop": what real clients do. The official SignalR clients and the game page send
// ONE invocation per WebSocket frame, a few per second per player, whether or not earlier answers
// came back. So the generator offers a fixed rate on a fixed schedule and never waits for answers
// to send (open loop); latency is measured from the scheduled send time, so a generator or server
// that falls behind shows up as latency instead of hiding (no coordinated omission), and the
// achieved send rate is reported next to the offered one.
#include <unistd.h>

#include <algorithm>
#include <asio/post.hpp>
#include <cmath>
#include <cstdio>
#include <string>

#include "records.hpp"
#include "runner.hpp"
#include "scenarios.hpp"
#include "server_stats.hpp"

namespace clickrace::bench {
namespace {

constexpr std::size_t kRing = 1024;  // unanswered clicks remembered per connection (power of 2)

// Completions: matched by invocation id, or in order (--ack-order fifo) for a server that answers
// every frame with the same bytes.
class OpenLoopBehavior : public Behavior {
 public:
  explicit OpenLoopBehavior(bool fifo) : fifo_(fifo) {}

  void on_open(HubConn& c) override {
    c.sent_ns.assign(kRing, 0);
    c.written_ns.assign(kRing, 0);
  }

  void on_completion(HubConn& c, std::uint64_t id, bool error, std::string_view record) override {
    Worker& w = c.worker();
    if (fifo_) {
      if (c.fifo_next >= c.next_id) {  // an answer to something that was not a click
        w.counters.unmatched.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      id = c.fifo_next++;
    }
    std::int64_t& slot = c.sent_ns[id & (kRing - 1)];
    if (slot == 0 || id >= c.next_id || c.next_id - id > kRing) {
      w.counters.unmatched.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const std::int64_t scheduled = slot;
    slot = 0;
    if (error) {
      w.counters.click_errors.fetch_add(1, std::memory_order_relaxed);
      auto text = find_string(record, "error");
      ++w.errors["Click error: " + std::string(text ? *text : "?")];
      return;
    }
    w.counters.acked.fetch_add(1, std::memory_order_relaxed);
    if (w.shared.measuring.load(std::memory_order_relaxed)) {
      const std::int64_t now = mono_ns();
      w.latency_ns.record(static_cast<std::uint64_t>(now - scheduled));
      w.from_write_ns.record(static_cast<std::uint64_t>(now - c.written_ns[id & (kRing - 1)]));
    }
  }

 private:
  bool fifo_;
};

// One per worker, on the worker's thread: sends the clicks the schedule says are due. Ticks are
// on an absolute schedule; a late wake-up sends everything due since (and the lag histogram shows
// by how much the generator was late).
class Pacer {
 public:
  Pacer(Worker& w, const Options& opt, double worker_rate, std::size_t total_conns)
      : w_(w),
        timer_(w.io),
        spread_(opt.arrivals == "spread"),
        step_ns_(static_cast<std::int64_t>((spread_ ? 1.0 : opt.tick_ms) * 1e6)),
        rate_(worker_rate),
        per_conn_rate_(opt.click_rate / static_cast<double>(total_conns)) {}

  void start() {
    asio::post(w_.io, [this] {
      start_ns_ = mono_ns();
      next_tick_ns_ = start_ns_;
      arm();
    });
  }
  void stop() {
    asio::post(w_.io, [this] {
      stopped_ = true;
      timer_.cancel();
    });
  }

 private:
  void arm() {
    if (stopped_) return;
    timer_.expires_at(
        std::chrono::steady_clock::time_point(std::chrono::nanoseconds(next_tick_ns_)));
    timer_.async_wait([this](const asio::error_code& ec) {
      if (ec || stopped_) return;
      const std::int64_t now = mono_ns();
      while (next_tick_ns_ <= now) {
        spread_ ? spread_until(next_tick_ns_) : burst(next_tick_ns_);
        next_tick_ns_ += step_ns_;
      }
      for (auto& c : w_.connections()) c->flush();
      arm();
    });
  }

  // Every connection's clicks due by this tick leave together (each in its own frame).
  void burst(std::int64_t tick_ns) {
    const double add = per_conn_rate_ * static_cast<double>(step_ns_) / 1e9;
    for (auto& c : w_.connections()) {
      c->credit += add;
      while (c->credit >= 1.0) {
        c->credit -= 1.0;
        click(*c, tick_ns);
      }
    }
  }

  // One global stream, click j due at start + j / rate, from connection j mod n.
  void spread_until(std::int64_t until_ns) {
    const auto& conns = w_.connections();
    if (conns.empty()) return;
    for (;;) {
      const std::int64_t due =
          start_ns_ + static_cast<std::int64_t>(static_cast<double>(seq_) * 1e9 / rate_);
      if (due > until_ns) return;
      HubConn& c = *conns[seq_ % conns.size()];
      ++seq_;
      click(c, due);
      c.flush();  // one record per frame
    }
  }

  void click(HubConn& c, std::int64_t scheduled_ns) {
    const bool measuring = w_.shared.measuring.load(std::memory_order_relaxed);
    w_.counters.offered.fetch_add(1, std::memory_order_relaxed);
    if (c.state() != HubConn::State::open) return;  // offered, never sent: counted as such
    const std::uint64_t id = c.next_id++;
    c.send_click(id);
    c.flush();  // one record per frame
    std::int64_t& slot = c.sent_ns[id & (kRing - 1)];
    if (slot != 0) w_.counters.unmatched.fetch_add(1, std::memory_order_relaxed);  // ring wrapped
    slot = scheduled_ns;
    const std::int64_t written = mono_ns();  // asio writes at once when nothing is queued
    c.written_ns[id & (kRing - 1)] = written;
    w_.counters.sent.fetch_add(1, std::memory_order_relaxed);
    if (measuring) {
      w_.lag_ns.record(
          static_cast<std::uint64_t>(std::max<std::int64_t>(0, written - scheduled_ns)));
    }
  }

  Worker& w_;
  asio::steady_timer timer_;
  bool spread_;
  std::int64_t step_ns_;
  double rate_;
  double per_conn_rate_;
  std::int64_t start_ns_ = 0;
  std::int64_t next_tick_ns_ = 0;
  std::uint64_t seq_ = 0;
  bool stopped_ = false;
};

std::string bucket(const char* le) {
  return std::string("clickrace_gateway_click_batch_size_bucket{le=\"") + le + "\"}";
}

}  // namespace

int run_openloop(const Options& opt, nlohmann::json& out) {
  OpenLoopBehavior behavior(opt.ack_fifo);
  Runner runner(opt, behavior);
  std::string error;
  int accounts = opt.accounts > 0 ? opt.accounts : opt.connections;
  if (!runner.prepare(accounts, error)) {
    progress("cannot log in: " + error);
    return 2;
  }
  runner.create_connections();
  double connect_s = runner.connect_all();
  Totals t = runner.totals();
  progress(std::to_string(t.opened) + "/" + std::to_string(opt.connections) + " open in " +
           std::to_string(connect_s) + " s; offering " + std::to_string(opt.click_rate) +
           " clicks/s (" + opt.arrivals + ")");
  if (t.opened == 0) {
    runner.stop();
    for (auto& [k, v] : merged_errors(runner)) progress("  " + k + ": " + std::to_string(v));
    return 3;
  }
  // Gateways, then the Redis processes that run the game's commands (one Redis, or a cluster's
  // primaries), then a cluster's replicas: the CPU of each is read from /proc.
  std::vector<pid_t> pids = opt.gateway_pids;
  pids.insert(pids.end(), opt.redis_pids.begin(), opt.redis_pids.end());
  pids.insert(pids.end(), opt.redis_replica_pids.begin(), opt.redis_replica_pids.end());
  // The servers' CPU with every connection open and no clicks: timers, keep-alives, Redis's cron,
  // a runtime's own threads. At low rates this fixed cost dominates the per-click figure, so the
  // marginal cost per click is reported beside the total.
  std::vector<std::int64_t> idle0, idle1;
  sleep_seconds(opt.idle_s > 0 ? 1.0 : 0.0);  // the tail of the connection ramp settles first
  for (pid_t p : pids) idle0.push_back(process_cpu_us(p));
  const std::int64_t i0 = mono_ns();
  sleep_seconds(opt.idle_s);
  for (pid_t p : pids) idle1.push_back(process_cpu_us(p));
  const double idle_s = (mono_ns() - i0) / 1e9;

  std::vector<std::unique_ptr<Pacer>> pacers;
  for (auto& w : runner.workers) {
    const double share = static_cast<double>(w->size()) / opt.connections;
    pacers.push_back(std::make_unique<Pacer>(*w, opt, opt.click_rate * share, opt.connections));
  }
  for (auto& p : pacers) p->start();
  sleep_seconds(opt.warmup_s);

  const std::vector<Endpoint> metric_gws =
      opt.server_kind.rfind("clickrace", 0) == 0 ? opt.gateways : std::vector<Endpoint>{};
  ServerSnapshot s0 = take_snapshot(pids, opt.redis, metric_gws);
  const std::int64_t self0 = process_cpu_us(::getpid());
  Totals t0 = runner.totals();
  const std::int64_t w0 = mono_ns();
  runner.shared.measuring = true;
  for (int s = 0; s < static_cast<int>(opt.duration_s); ++s) {
    sleep_seconds(1);
    Totals now = runner.totals();
    progress("t=" + std::to_string(s + 1) + "s sent " + std::to_string(now.sent - t0.sent) +
             ", acked " + std::to_string(now.acked - t0.acked) + ", errors " +
             std::to_string(now.click_errors - t0.click_errors));
  }
  sleep_seconds(opt.duration_s - static_cast<int>(opt.duration_s));
  runner.shared.measuring = false;
  const std::int64_t w1 = mono_ns();
  Totals t1 = runner.totals();
  ServerSnapshot s1 = take_snapshot(pids, opt.redis, metric_gws);
  const std::int64_t self1 = process_cpu_us(::getpid());
  for (auto& p : pacers) p->stop();
  // Answers still owed: wait a bounded time, then count what never came.
  Totals td;
  runner.wait_until(
      [&] {
        td = runner.totals();
        return td.acked + td.click_errors >= td.sent;
      },
      opt.drain_s);
  runner.stop();
  td = runner.totals();

  Histogram sched, lat, lag;  // from the schedule, from the write, the generator's lag
  for (auto& w : runner.workers) {
    sched.merge(w->latency_ns);
    lat.merge(w->from_write_ns);
    lag.merge(w->lag_ns);
  }
  const double window_s = (w1 - w0) / 1e9;
  const std::uint64_t acked = t1.acked - t0.acked;
  const std::uint64_t sent = t1.sent - t0.sent;
  const std::uint64_t offered = t1.offered - t0.offered;
  const double per_click = acked ? 1.0 / static_cast<double>(acked) : 0.0;

  nlohmann::json r;
  r["server_kind"] = opt.server_kind;
  r["arrivals"] = opt.arrivals;
  r["tick_ms"] = opt.arrivals == "burst" ? opt.tick_ms : 1.0;
  r["window_s"] = window_s;
  r["connections_open"] = t.opened;
  r["connections_failed"] = t.failed;
  r["connections_dropped"] = td.dropped;
  r["offered_per_s_target"] = opt.click_rate;
  r["offered_per_s"] = offered / window_s;  // what the schedule offered (open connections or not)
  r["sent_per_s"] = sent / window_s;        // what the generator actually wrote
  r["acked"] = acked;
  r["acked_per_s"] = acked / window_s;
  r["click_errors"] = t1.click_errors - t0.click_errors;
  r["unanswered_after_drain"] =
      static_cast<double>(td.sent) - static_cast<double>(td.acked + td.click_errors);
  r["unmatched_completions"] = td.unmatched;
  r["latency_us"] = {{"p50", lat.quantile(0.5) / 1e3},
                     {"p99", lat.quantile(0.99) / 1e3},
                     {"p999", lat.quantile(0.999) / 1e3},
                     {"max", lat.max() / 1e3},
                     {"mean", lat.mean() / 1e3}};
  // The same answers timed from the scheduled send: includes the generator's own lag (an honest
  // open-loop figure, but on a shared machine the generator waits for CPU too).
  r["latency_from_schedule_us"] = {{"p50", sched.quantile(0.5) / 1e3},
                                   {"p99", sched.quantile(0.99) / 1e3},
                                   {"p999", sched.quantile(0.999) / 1e3},
                                   {"max", sched.max() / 1e3}};
  r["send_lag_us"] = {{"p50", lag.quantile(0.5) / 1e3},
                      {"p99", lag.quantile(0.99) / 1e3},
                      {"max", lag.max() / 1e3}};
  // Kept up: sent everything offered, and 99 % of clicks left within one burst tick (20 ms) of
  // their schedule (spread arrivals are paced in 1 ms steps but judged by the same bound).
  const double tick_us = opt.tick_ms * 1e3;
  r["generator_kept_up"] =
      offered > 0 && sent >= offered * 0.99 && lag.quantile(0.99) / 1e3 <= tick_us;
  if (!pids.empty() && acked) {
    // Per process: CPU in the window, and the same less its idle rate (measured just before).
    const std::size_t n_gw = opt.gateway_pids.size(), n_redis = opt.redis_pids.size();
    std::vector<double> used(pids.size()), idle_rate(pids.size()), marginal(pids.size());
    for (std::size_t i = 0; i < pids.size(); ++i) {
      used[i] = static_cast<double>(s1.cpu_us[i] - s0.cpu_us[i]);
      idle_rate[i] = idle_s > 0 ? static_cast<double>(idle1[i] - idle0[i]) / idle_s : 0.0;  // µs/s
      marginal[i] = std::max(0.0, used[i] - idle_rate[i] * window_s);
    }
    auto cpu_json = [&](std::size_t from, std::size_t to) {  // processes [from, to) as one
      double d = 0, m = 0, idle = 0;
      for (std::size_t i = from; i < to; ++i) d += used[i], m += marginal[i], idle += idle_rate[i];
      return nlohmann::json{{"cpu_s", d / 1e6},
                            {"us_per_click", d * per_click},
                            {"marginal_us_per_click", m * per_click},
                            {"idle_busy_pct", idle / 1e4},
                            {"busy_pct", 100.0 * d / 1e6 / window_s}};
    };
    double server_us = 0, marginal_us = 0;
    nlohmann::json parts = nlohmann::json::object();
    for (std::size_t i = 0; i < n_gw + n_redis; ++i)
      server_us += used[i], marginal_us += marginal[i];
    for (std::size_t i = 0; i < n_gw; ++i)
      parts["gateway" + std::to_string(i + 1)] = cpu_json(i, i + 1);
    if (n_redis > 0) parts["redis"] = cpu_json(n_gw, n_gw + n_redis);  // a cluster: its primaries
    // Server CPU = gateways + the Redis processes that run the commands (on a cluster the
    // primaries); the replicas' CPU is reported apart and in the total "with replicas".
    r["server_cpu_us_per_click"] = server_us * per_click;
    r["server_cpu_marginal_us_per_click"] = marginal_us * per_click;
    r["server_cpu"] = parts;
    // Every Redis node on its own: how the work spreads over a cluster's primaries.
    const bool aligned = opt.redis.size() == n_redis && s0.redis_nodes.size() == n_redis &&
                         s1.redis_nodes.size() == n_redis;
    nlohmann::json nodes = nlohmann::json::array();
    double busiest = 0;
    for (std::size_t i = n_gw; i < pids.size(); ++i) {
      const std::size_t k = i - n_gw;
      nlohmann::json node = cpu_json(i, i + 1);
      node["pid"] = pids[i];
      node["role"] = k < n_redis ? "primary" : "replica";
      if (k < n_redis) busiest = std::max(busiest, node["busy_pct"].get<double>());
      if (k < n_redis && aligned && s1.redis_nodes[k].ok && s0.redis_nodes[k].ok) {
        const auto &a = s0.redis_nodes[k], &b = s1.redis_nodes[k];
        node["addr"] = opt.redis[k].host + ":" + std::to_string(opt.redis[k].port);
        node["calls_per_click"] = (b.calls_total - a.calls_total) * per_click;
        node["script_calls_per_click"] = (b.calls_scripts - a.calls_scripts) * per_click;
      }
      nodes.push_back(node);
    }
    r["redis_nodes"] = nodes;
    r["redis_primaries"] = n_redis;
    if (n_redis > 0) r["redis_busiest_primary_pct"] = busiest;
    if (!opt.redis_replica_pids.empty()) {
      r["redis_replicas"] = cpu_json(n_gw + n_redis, pids.size());
      double all = server_us;
      for (std::size_t i = n_gw + n_redis; i < pids.size(); ++i) all += used[i];
      r["server_cpu_with_replicas_us_per_click"] = all * per_click;
    }
  }
  r["loadgen_cpu_us_per_click"] = (self1 - self0) * per_click;
  r["loadgen_busy_pct"] = 100.0 * (self1 - self0) / 1e6 / window_s;
  if (s1.redis.ok && acked) {
    r["redis_calls_per_click"] = (s1.redis.calls_total - s0.redis.calls_total) * per_click;
    r["redis_script_calls_per_click"] =
        (s1.redis.calls_scripts - s0.redis.calls_scripts) * per_click;
  }
  const double batches = s1.click_batches - s0.click_batches;
  if (batches > 0) {
    r["clicks_per_batch"] = (s1.clicks_accepted - s0.clicks_accepted) / batches;
    r["batches_of_1_pct"] = 100.0 * (s1.metric(bucket("1")) - s0.metric(bucket("1"))) / batches;
    r["batches_of_5_or_less_pct"] =
        100.0 * (s1.metric(bucket("5")) - s0.metric(bucket("5"))) / batches;
    r["gateway_clicks_accepted"] = s1.clicks_accepted - s0.clicks_accepted;
  }
  nlohmann::json errors = nlohmann::json::object();
  for (auto& [k, v] : merged_errors(runner)) errors[k] = v;
  r["errors"] = errors;
  out["results"] = r;
  std::printf(
      "RESULT %s offered_per_s=%.0f sent_per_s=%.0f acked_per_s=%.0f p50_us=%.0f p99_us=%.0f "
      "p999_us=%.0f server_us_per_click=%.2f errors=%llu\n",
      opt.label.c_str(), offered / window_s, sent / window_s, acked / window_s,
      lat.quantile(0.5) / 1e3, lat.quantile(0.99) / 1e3, lat.quantile(0.999) / 1e3,
      r.value("server_cpu_us_per_click", -1.0),
      static_cast<unsigned long long>(t1.click_errors - t0.click_errors));
  return 0;
}

}  // namespace clickrace::bench
