#include "metrics.hpp"

#include <algorithm>
#include <cstdio>

namespace clickrace::gateway {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(bounds_.size(), 0) {}

void Histogram::observe(double value) {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  if (it != bounds_.end()) ++buckets_[static_cast<std::size_t>(it - bounds_.begin())];
  sum_ += value;
  ++count_;
}

namespace {
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}
void head(std::string& out, const std::string& name, const char* type, const std::string& help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}
void counter(std::string& out, const std::string& name, std::uint64_t v, const std::string& help) {
  head(out, name, "counter", help);
  out += name + " " + std::to_string(v) + "\n";
}
void gauge(std::string& out, const std::string& name, std::int64_t v, const std::string& help) {
  head(out, name, "gauge", help);
  out += name + " " + std::to_string(v) + "\n";
}
}  // namespace

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  head(out, name, "histogram", help);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += buckets_[i];
    out += name + "_bucket{le=\"" + num(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + num(sum_) + "\n";
  out += name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : click_batch_size({1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000}),
      redis_latency_seconds(
          {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}) {}

std::string Metrics::render(bool redis_connected, bool subscribed) const {
  std::string o;
  o.reserve(4096);
  gauge(o, "clickrace_gateway_connections", connections, "open WebSocket connections");
  counter(o, "clickrace_gateway_connections_total", connections_total,
          "WebSocket upgrades accepted");
  counter(o, "clickrace_gateway_connections_rejected_total", connections_rejected,
          "WebSocket upgrades refused");
  counter(o, "clickrace_gateway_connections_evicted_total", connections_evicted,
          "connections closed because their account opened a newer one beyond the cap");
  counter(o, "clickrace_gateway_connections_evicting_total", connections_evicted_elsewhere,
          "older connections (on any gateway) closed for a connection opened here");
  counter(o, "clickrace_gateway_handshakes_total", handshakes_ok, "SignalR handshakes completed");
  counter(o, "clickrace_gateway_handshakes_failed_total", handshakes_failed,
          "SignalR handshakes failed or timed out");
  counter(o, "clickrace_gateway_clicks_accepted_total", clicks_accepted, "clicks stored in Redis");
  counter(o, "clickrace_gateway_clicks_rejected_total", clicks_rejected,
          "clicks refused (rate limit, no round, Redis unavailable)");
  counter(o, "clickrace_gateway_click_batches_total", click_batches, "click script calls");
  counter(o, "clickrace_gateway_click_batches_resent_total", click_batches_resent,
          "click batches resent (same id) after a lost answer");
  counter(o, "clickrace_gateway_click_batches_given_up_total", click_batches_given_up,
          "click batches still unresolved after the retry window");
  counter(o, "clickrace_gateway_click_stale_rounds_total", click_stale_rounds,
          "click script calls refused for a stale round guess (resent with the round named)");
  counter(o, "clickrace_gateway_click_batches_regrouped_total", click_batches_regrouped,
          "click batches grouped again after the score partition count changed");
  click_batch_size.render(o, "clickrace_gateway_click_batch_size", "clicks per click script call");
  redis_latency_seconds.render(o, "clickrace_gateway_redis_latency_seconds",
                               "Redis command round-trip time");
  counter(o, "clickrace_gateway_events_received_total", events_received, "round events received");
  counter(o, "clickrace_gateway_events_broadcast_total", events_broadcast,
          "event frames sent to connections");
  counter(o, "clickrace_gateway_events_dropped_total", events_dropped,
          "events dropped (duplicate or malformed)");
  counter(o, "clickrace_gateway_subscription_restarts_total", subscription_restarts,
          "event subscriptions re-established because their heartbeat stopped");
  counter(o, "clickrace_gateway_slow_clients_dropped_total", slow_clients_dropped,
          "connections dropped because their send queue was full");
  counter(o, "clickrace_gateway_clients_timed_out_total", clients_timed_out,
          "connections dropped for silence or a missing handshake");
  counter(o, "clickrace_gateway_protocol_errors_total", protocol_errors,
          "malformed frames or records received");
  counter(o, "clickrace_gateway_reconnects_resumed_total", reconnects_resumed,
          "stateful reconnects that resumed their connection");
  counter(o, "clickrace_gateway_reconnects_expired_total", reconnects_expired,
          "dropped stateful connections whose reconnect window passed");
  counter(o, "clickrace_gateway_reconnects_overflowed_total", reconnects_overflowed,
          "stateful connections given up because their replay buffer was full");
  counter(o, "clickrace_gateway_reconnects_refused_total", reconnects_refused,
          "stateful reconnects to a connection not held here (the client starts a new one)");
  counter(o, "clickrace_gateway_http_requests_total", http_requests, "HTTP requests served");
  counter(o, "clickrace_gateway_logins_total", logins_ok, "successful logins");
  counter(o, "clickrace_gateway_logins_failed_total", logins_failed, "failed logins");
  counter(o, "clickrace_gateway_registrations_total", registrations, "accounts created");
  counter(o, "clickrace_gateway_logins_rate_limited_total", rate_limited_logins,
          "login or registration attempts refused by the rate limit");
  gauge(o, "clickrace_gateway_login_limiter_keys", login_limiter_keys,
        "clients and (name, client) pairs the login limiter remembers");
  gauge(o, "clickrace_gateway_redis_connected", redis_connected ? 1 : 0,
        "1 when the Redis command connection is up");
  gauge(o, "clickrace_gateway_events_subscribed", subscribed ? 1 : 0,
        "1 when the events subscription is live");
  return o;
}

}  // namespace clickrace::gateway
