#include "options.hpp"

#include <functional>
#include <sstream>

#include "clickrace/core/log.hpp"
#include "clickrace/core/token.hpp"
#include "client_address.hpp"

namespace clickrace::gateway {

std::vector<std::string> Options::origins() const {
  std::vector<std::string> out;
  std::stringstream ss(allowed_origins);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t/");
    if (b == std::string::npos) continue;
    out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

void register_options(core::OptionSet& set, Options& o) {
  set.add("CLICKRACE_REDIS_URL", &o.redis_url,
          "Redis to use, redis://[:password@]host[:port][/db]");
  set.add("CLICKRACE_REDIS_CLUSTER", &o.redis_cluster,
          "seed nodes host:port,... of a Redis Cluster (empty = CLICKRACE_REDIS_URL alone)");
  set.add("CLICKRACE_REDIS_WAIT_REPLICAS", &o.redis_wait_replicas,
          "on a cluster: replicas that must have a click batch before it is acknowledged", 0, 16);
  set.add("CLICKRACE_KEY_PREFIX", &o.key_prefix, "prefix of every Redis key and channel");
  set.add("CLICKRACE_GATEWAY_PORT", &o.port, "HTTP + WebSocket port (0 = pick a free one)", 0,
          65535);
  set.add("CLICKRACE_ROUND_MS", &o.round_ms, "round length in ms (the scheduler owns it)", 50,
          86'400'000);
  set.add_secret(
      "CLICKRACE_TOKEN_SECRET", &o.token_secret,
      "HMAC key for tokens (>= 32 bytes); empty = generated once and shared through Redis",
      [](const std::string& v) -> std::optional<std::string> {
        if (v.empty() || v.size() >= core::kMinSecretBytes) return std::nullopt;
        return "must be at least " + std::to_string(core::kMinSecretBytes) +
               " bytes (e.g. openssl rand -hex 32)";
      });
  set.add("CLICKRACE_TOKEN_TTL_S", &o.token_ttl_s, "login token lifetime in seconds", 10,
          365LL * 86400);
  set.add("CLICKRACE_MAX_CLICKS_PER_S", &o.max_clicks_per_s,
          "clicks per second per player over all connections and gateways (burst: as many)", 1,
          1'000'000);
  set.add("CLICKRACE_MAX_CONNECTIONS_PER_PLAYER", &o.max_connections_per_player,
          "hub connections one account may hold at once over all gateways (a newer one closes "
          "the oldest)",
          1, 1000);
  set.add(
      "CLICKRACE_PLAYER_SESSION_STALE_MS", &o.player_session_stale_ms,
      "per-account connection registry: confirmed every third of this, an entry unconfirmed for "
      "half of it is evicted first",
      300, 3'600'000);
  set.add("CLICKRACE_ALLOWED_ORIGINS", &o.allowed_origins,
          "comma-separated browser origins allowed to connect (empty = same origin only)");
  set.add_checked("CLICKRACE_LOG_LEVEL", &o.log_level, "trace|debug|info|warn|error|off",
                  [](const std::string& v) -> std::optional<std::string> {
                    if (core::parse_log_level(v)) return std::nullopt;
                    return "expected trace, debug, info, warn, error or off";
                  });
  set.add("CLICKRACE_WEB_DIR", &o.web_dir,
          "directory of the game page (empty = <dir of executable>/../web)");
  set.add("CLICKRACE_BIND_ADDRESS", &o.bind_address, "address to listen on");
  set.add("CLICKRACE_MAX_CONNECTIONS", &o.max_connections, "WebSocket connections per process", 1,
          10'000'000);
  set.add("CLICKRACE_LISTEN_BACKLOG", &o.listen_backlog, "TCP accept queue length", 1, 65535);
  set.add("CLICKRACE_HANDSHAKE_TIMEOUT_MS", &o.handshake_timeout_ms,
          "SignalR handshake deadline after the upgrade", 100, 600'000);
  set.add("CLICKRACE_KEEPALIVE_MS", &o.keepalive_ms, "send a Ping after this long without sending",
          100, 600'000);
  set.add("CLICKRACE_CLIENT_TIMEOUT_MS", &o.client_timeout_ms,
          "drop a client that sent nothing for this long", 200, 3'600'000);
  set.add("CLICKRACE_CONNECTION_TOKEN_TTL_MS", &o.connection_token_ttl_ms,
          "how long a negotiate connection token may be used for the upgrade", 1000, 3'600'000);
  set.add("CLICKRACE_MAX_MESSAGE_BYTES", &o.max_message_bytes, "WebSocket message / record limit",
          1024, 16 * 1024 * 1024);
  set.add("CLICKRACE_MAX_HTTP_BODY_BYTES", &o.max_http_body_bytes, "HTTP request body limit", 256,
          1024 * 1024);
  set.add("CLICKRACE_MAX_SEND_BUFFER_BYTES", &o.max_send_buffer_bytes,
          "queued outbound bytes per connection before it is dropped as a slow reader", 4096,
          64 * 1024 * 1024);
  set.add("CLICKRACE_REDIS_TIMEOUT_MS", &o.redis_timeout_ms, "per-command Redis timeout", 10,
          kMaxRedisTimeoutMs);
  set.add("CLICKRACE_MAX_CLICK_BATCHES", &o.max_click_batches_in_flight,
          "click script calls in flight at once", 1, 10'000);
  set.add("CLICKRACE_MAX_PENDING_CLICKS", &o.max_pending_clicks,
          "clicks waiting for a batch slot before new ones are rejected", 1, 10'000'000);
  set.add("CLICKRACE_CLICK_RETRY_MS", &o.click_retry_ms,
          "how long a click batch whose answer was lost is resent before it fails (0 = never; at "
          "most 30 s, half "
          "click.lua's memory of batch ids)",
          0, kMaxClickRetryMs);
  set.add("CLICKRACE_CLICK_FLUSH_WINDOW_US", &o.click_flush_window_us,
          "a click batch smaller than CLICKRACE_CLICK_FLUSH_MIN_CLICKS waits up to this many us "
          "for more clicks (fewer Redis calls when clicks arrive spread out; 0 = off)",
          0, 50'000);
  set.add("CLICKRACE_CLICK_FLUSH_MIN_CLICKS", &o.click_flush_min_clicks,
          "a click batch this large leaves at once, flush window or not", 1, 100'000);
  set.add("CLICKRACE_LOGIN_ATTEMPTS_PER_MIN", &o.login_attempts_per_min,
          "login/registration attempts per minute per client (IPv4 address, IPv6 /64)", 1,
          1'000'000);
  set.add("CLICKRACE_LOGIN_FAILURES_PER_MIN", &o.login_failures_per_min,
          "failed logins per minute per name and client (never per name alone)", 1, 1'000'000);
  set.add_checked("CLICKRACE_TRUSTED_PROXIES", &o.trusted_proxies,
                  "comma-separated proxy addresses/CIDR blocks whose X-Real-IP or "
                  "X-Forwarded-For names the client (empty = trust none)",
                  [](const std::string& v) -> std::optional<std::string> {
                    auto t = TrustedProxies::parse(v);
                    if (t) return std::nullopt;
                    return t.error().message;
                  });
  set.add("CLICKRACE_HASH_THREADS", &o.hash_threads, "password hashing worker threads", 1, 64);
  set.add("CLICKRACE_FAST_PASSWORD_HASH", &o.fast_password_hash,
          "use the minimal argon2id cost (tests only)");
  set.add("CLICKRACE_HEARTBEAT_MS", &o.heartbeat_ms,
          "period of the pub/sub heartbeat that detects a silently dead event subscription", 50,
          60'000);
  set.add("CLICKRACE_SHUTDOWN_GRACE_MS", &o.shutdown_grace_ms,
          "on SIGTERM, how long to wait for in-flight clicks", 0, 60'000);
  set.add("CLICKRACE_STATEFUL_RECONNECT", &o.stateful_reconnect,
          "offer stateful reconnect to clients that ask (useStatefulReconnect)");
  set.add("CLICKRACE_RECONNECT_BUFFER_BYTES", &o.reconnect_buffer_bytes,
          "unacknowledged bytes kept per stateful connection for a replay", 1024, 64 << 20);
  set.add("CLICKRACE_RECONNECT_WINDOW_MS", &o.reconnect_window_ms,
          "how long a dropped stateful connection waits for its client to reconnect", 100, 600'000);
}

}  // namespace clickrace::gateway
