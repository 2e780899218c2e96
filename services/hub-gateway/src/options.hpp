#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "clickrace/core/config.hpp"

// Every gateway setting: the default lives here (with the reason for it), the environment
// variable and the --flag are registered by register_options(). DESIGN.md §1.1 and §4.
namespace clickrace::gateway {

// A batch may only be resent while click.lua still remembers its id (BATCH_TTL_S = 60 s). The
// last resend is sent before the retry window (counted from the first send) ends and answered
// within one Redis timeout, so window + timeout must stay below 60 s: both are capped.
inline constexpr std::int64_t kClickBatchMemoryMs = 60'000;  // click.lua BATCH_TTL_S
inline constexpr std::int64_t kMaxClickRetryMs = 30'000;
inline constexpr std::int64_t kMaxRedisTimeoutMs = 20'000;
static_assert(kMaxClickRetryMs + kMaxRedisTimeoutMs < kClickBatchMemoryMs,
              "a resend could outlive click.lua's memory of the batch id and count twice");

struct Options {
  // ---- DESIGN.md §1.1 ----
  std::string redis_url = "redis://127.0.0.1:6379/0";
  // Seed nodes "host:port,..." of a Redis Cluster (DESIGN §3.1); empty = the one Redis of
  // redis_url (whose credentials and timeouts the cluster nodes use too).
  std::string redis_cluster;
  // On a cluster, a click batch is acknowledged only once this many replicas have it (WAIT).
  int redis_wait_replicas = 1;
  std::string key_prefix = "clickrace:";
  int port = 8080;              // 0 = pick a free port; printed as "listening on <port>"
  int64_t round_ms = 30000;     // only used by GetRound() before a schedule exists (display)
  std::string token_secret;     // empty = generated once and shared through Redis
  int64_t token_ttl_s = 86400;  // login token lifetime
  // Per player over the whole fleet (all connections, all gateways), with a burst of as many;
  // a fast human does ~15/s.
  int max_clicks_per_s = 20;
  // Hub connections one account may hold at once over the whole fleet: a few tabs/devices. A
  // newer connection beyond it closes the account's oldest one (README "Fair play").
  int max_connections_per_player = 3;
  // Each gateway confirms its connections in the per-account registry every third of this; a
  // gateway's entries unconfirmed for half of it are the first evicted (it died or is stuck).
  int64_t player_session_stale_ms = 30000;
  std::string allowed_origins;  // comma-separated; empty = same origin only
  std::string log_level = "info";

  // ---- gateway-specific ----
  std::string web_dir;  // static files; empty = <dir of executable>/../web
  std::string bind_address = "0.0.0.0";
  int max_connections = 16384;           // WebSocket connections per process; more get 503
  int listen_backlog = 1024;             // kernel accept queue (connection bursts of ~3k/s)
  int64_t handshake_timeout_ms = 15000;  // SignalR handshake deadline (.NET HandshakeTimeout)
  int64_t keepalive_ms = 15000;       // Ping when nothing was sent for this long (.NET KeepAlive)
  int64_t client_timeout_ms = 30000;  // drop clients silent this long (.NET ClientTimeout)
  int64_t connection_token_ttl_ms = 15000;  // negotiate → upgrade window (.NET DisconnectTimeout)
  int max_message_bytes = 32 * 1024;        // WebSocket message and SignalR record limit (.NET)
  int max_http_body_bytes = 16 * 1024;      // request bodies; ours are tiny JSON objects
  int max_send_buffer_bytes = 256 * 1024;   // queued outbound bytes before a slow reader is dropped
  int64_t redis_timeout_ms = 1000;       // per-command timeout: clicks fail fast when Redis stalls
  int max_click_batches_in_flight = 64;  // bound on concurrent click.lua calls
  int max_pending_clicks = 100000;       // clicks waiting for a batch slot before rejecting
  // A click batch whose answer was lost (Redis died or timed out) is resent with the same id
  // for this long before its callers get "service unavailable"; long enough to ride out a Redis
  // restart; capped at kMaxClickRetryMs, far below click.lua's 60 s memory of batch ids.
  int64_t click_retry_ms = 10000;
  // Bounded flush window (click_batcher.hpp): a click batch smaller than the minimum waits up to
  // this many µs for more clicks; 0 = off.
  int64_t click_flush_window_us = 0;
  int click_flush_min_clicks = 64;
  // Login limits (login_limits.hpp; burst = the per-minute number). A client is an IPv4
  // address or an IPv6 /64. Failures count per (name, client), never per name alone, so no one
  // can lock a player out of their account from elsewhere.
  int login_attempts_per_min = 30;  // logins + registrations per client, any names
  int login_failures_per_min = 10;  // failed logins per (name, client)
  // Peers whose X-Real-IP / X-Forwarded-For name the client (for the per-IP login limit):
  // addresses or CIDR blocks. The default fits scripts/play's local nginx; docker-compose.yml
  // sets its private network. Anyone else's headers are ignored (clients could forge them).
  std::string trusted_proxies = "127.0.0.1,::1";
  int hash_threads = 2;             // argon2id worker pool
  bool fast_password_hash = false;  // minimal argon2 cost: tests only, never production
  // Heartbeat through Redis pub/sub to ourselves: a subscription silent for ~3 periods while
  // Redis answers commands is re-established (a partition may eat the FIN).
  int64_t heartbeat_ms = 2000;
  int64_t shutdown_grace_ms = 2000;  // wait this long for in-flight clicks on SIGTERM
  // Stateful reconnect (signalr-protocol.md §9): offered in negotiate to clients that ask.
  bool stateful_reconnect = true;
  // Unacknowledged messages kept per connection for a replay (.NET's StatefulReconnectBufferSize).
  // Past it the connection can no longer be resumed: the client falls back to a new connection.
  int reconnect_buffer_bytes = 100'000;
  // How long a connection whose socket dropped waits for its client to reconnect (.NET's
  // DisconnectTimeout); it keeps its player, rate limit and pending invocations meanwhile.
  int64_t reconnect_window_ms = 15000;

  std::vector<std::string> origins() const;  // allowed_origins split and trimmed
};

// Registers every field above on `set` (env var, flag, help, range).
void register_options(core::OptionSet& set, Options& opts);

}  // namespace clickrace::gateway
