#include "runner.hpp"

#include <algorithm>
#include <iostream>
#include <thread>

#include "accounts.hpp"

namespace clickrace::bench {

void sleep_seconds(double s) {
  std::this_thread::sleep_for(std::chrono::microseconds(static_cast<std::int64_t>(s * 1e6)));
}

void progress(const std::string& line) { std::cerr << "[loadgen] " << line << std::endl; }

Runner::Runner(const Options& opt, Behavior& behavior)
    : shared(opt), opt_(opt), behavior_(behavior) {}

Runner::~Runner() { stop(); }

bool Runner::prepare(int accounts, std::string& error) {
  if (!opt_.login) {  // a server without accounts (the I/O floor): any token will do
    tokens_.assign(1, "no-login");
    return true;
  }
  auto t0 = mono_ns();
  tokens_ =
      obtain_tokens(opt_.gateways.front(), opt_.account_prefix, opt_.password, accounts, error);
  if (tokens_.empty()) return false;
  progress(std::to_string(accounts) + " accounts logged in in " +
           std::to_string((mono_ns() - t0) / 1'000'000) + " ms");
  return true;
}

void Runner::create_connections() {
  for (int t = 0; t < opt_.threads; ++t) {
    workers.push_back(std::make_unique<Worker>(t, shared, behavior_));
  }
  for (int i = 0; i < opt_.connections; ++i) {
    Worker& w = *workers[static_cast<std::size_t>(i) % workers.size()];
    const Endpoint& ep = opt_.gateways[static_cast<std::size_t>(i) % opt_.gateways.size()];
    w.add(ep, tokens_[static_cast<std::size_t>(i) % tokens_.size()]);
    order_.emplace_back(&w, w.size() - 1);
  }
  for (auto& w : workers) w->run();
}

Totals Runner::totals() const {
  Totals t;
  for (auto& w : workers) {
    const auto& c = w->counters;
    t.opened += c.opened.load(std::memory_order_relaxed);
    t.failed += c.failed.load(std::memory_order_relaxed);
    t.dropped += c.dropped.load(std::memory_order_relaxed);
    t.acked += c.acked.load(std::memory_order_relaxed);
    t.click_errors += c.click_errors.load(std::memory_order_relaxed);
    t.round_ended += c.round_ended.load(std::memory_order_relaxed);
    t.pings += c.pings.load(std::memory_order_relaxed);
    t.offered += c.offered.load(std::memory_order_relaxed);
    t.sent += c.sent.load(std::memory_order_relaxed);
    t.unmatched += c.unmatched.load(std::memory_order_relaxed);
  }
  return t;
}

double Runner::connect_all() {
  const std::int64_t t0 = mono_ns();
  // Bound: the paced schedule plus the per-attempt timeout plus the global timeout.
  const double budget_s = (opt_.rate > 0 ? order_.size() / opt_.rate : 0) + opt_.timeout_s;
  const std::int64_t deadline = t0 + static_cast<std::int64_t>(budget_s * 1e9);
  std::size_t started = 0;
  std::int64_t last_report = t0;
  while (started < order_.size() && mono_ns() < deadline) {
    const double elapsed = (mono_ns() - t0) / 1e9;
    std::size_t allowed =
        opt_.rate > 0 ? std::min(order_.size(), static_cast<std::size_t>(elapsed * opt_.rate) + 1)
                      : order_.size();
    while (started < allowed && shared.connecting.load() < opt_.max_connecting) {
      shared.connecting.fetch_add(1);
      order_[started].first->start_connection(order_[started].second);
      ++started;
    }
    if (mono_ns() - last_report > 2'000'000'000) {
      last_report = mono_ns();
      Totals t = totals();
      progress("started " + std::to_string(started) + ", open " + std::to_string(t.opened) +
               ", failed " + std::to_string(t.failed));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  const std::uint64_t n = started;
  wait_until(
      [&] {
        Totals t = totals();
        return t.opened + t.failed >= n;
      },
      std::max(0.0, (deadline - mono_ns()) / 1e9) + opt_.connect_timeout_ms / 1000.0);
  return (mono_ns() - t0) / 1e9;
}

bool Runner::wait_until(const std::function<bool()>& done, double timeout_s) {
  const std::int64_t deadline = mono_ns() + static_cast<std::int64_t>(timeout_s * 1e9);
  while (mono_ns() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

void Runner::stop() {
  for (auto& w : workers) w->stop();
}

std::map<std::string, std::uint64_t> merged_errors(const Runner& r) {
  std::map<std::string, std::uint64_t> out;
  for (auto& w : r.workers) {
    for (auto& [k, v] : w->errors) out[k] += v;
  }
  return out;
}

}  // namespace clickrace::bench
