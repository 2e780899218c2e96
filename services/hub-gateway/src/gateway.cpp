#include "gateway.hpp"

#include <asio/post.hpp>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "auth.hpp"
#include "clickrace/core/clock.hpp"
#include "clickrace/core/log.hpp"
#include "clickrace/core/password.hpp"
#include "clickrace/redis/cluster_config.hpp"
#include "fd_limits.hpp"
#include "routes.hpp"
#include "static_files.hpp"

namespace clickrace::gateway {
namespace {

redis::Options redis_options_or_throw(const Options& o) {
  auto r = redis_options(o);
  if (!r) throw std::runtime_error(r.error().message);
  return *r;
}

redis::ClusterOptions cluster_options_or_throw(const Options& o) {
  auto r = cluster_options(o);
  if (!r) throw std::runtime_error(r.error().message);
  return *r;
}

// On a cluster every key shares the prefix's hash tag (redis::cluster_key_prefix).
Options with_cluster_prefix(Options o) {
  auto p = redis::cluster_key_prefix(o.key_prefix, !o.redis_cluster.empty());
  if (!p) throw std::runtime_error(p.error().message);
  o.key_prefix = *p;
  return o;
}

TrustedProxies trusted_proxies_or_throw(const std::string& list) {
  auto t = TrustedProxies::parse(list);
  if (!t) throw std::runtime_error(t.error().message);
  return *t;
}

// 64 random bits as hex: names this process's own channels (heartbeat, kick).
std::string random_hex_id() {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::int64_t wall_ms() { return core::SystemClock::instance().now_ms(); }

LoginLimits login_limits(const Options& o) {
  LoginLimits l;
  l.attempts_per_min = o.login_attempts_per_min;
  l.failures_per_min = o.login_failures_per_min;
  return l;
}

WsLimits ws_limits(const Options& o) {
  WsLimits l;
  l.max_message_bytes = static_cast<std::size_t>(o.max_message_bytes);
  l.max_http_body_bytes = static_cast<std::size_t>(o.max_http_body_bytes);
  l.max_send_buffer_bytes = static_cast<std::size_t>(o.max_send_buffer_bytes);
  l.listen_backlog = o.listen_backlog;
  l.max_sockets = fit_fd_budget(current_nofile_limit(), o.max_connections).max_sockets;
  return l;
}

ClickBatcher::Limits batcher_limits(const Options& o) {
  ClickBatcher::Limits l;
  l.max_in_flight = static_cast<std::size_t>(o.max_click_batches_in_flight);
  l.max_pending = static_cast<std::size_t>(o.max_pending_clicks);
  l.timeout = std::chrono::milliseconds(o.redis_timeout_ms);
  l.retry_window = std::chrono::milliseconds(o.click_retry_ms);
  l.clicks_per_s = o.max_clicks_per_s;
  l.flush_window = std::chrono::microseconds(o.click_flush_window_us);
  l.flush_min_clicks = static_cast<std::size_t>(o.click_flush_min_clicks);
  l.wait_replicas = o.redis_cluster.empty() ? 0 : o.redis_wait_replicas;
  // Short: a replica that needs longer is behind; the batch is resent meanwhile. Bounded so a
  // call (timeout + WAIT) plus the resend window stays inside click.lua's batch memory.
  l.wait_timeout = std::min(l.timeout / 2, std::chrono::milliseconds(2000));
  return l;
}

}  // namespace

Result<redis::Options> redis_options(const Options& o) {
  redis::Options base;
  base.command_timeout = std::chrono::milliseconds(o.redis_timeout_ms);
  base.connect_timeout = std::chrono::milliseconds(std::max<std::int64_t>(o.redis_timeout_ms, 500));
  base.unhealthy_after =
      std::chrono::milliseconds(std::max<std::int64_t>(2 * o.redis_timeout_ms, 1000));
  base.backoff_initial = std::chrono::milliseconds(50);
  base.backoff_max = std::chrono::milliseconds(2000);
  return redis::parse_url(o.redis_url, base);
}

Result<redis::ClusterOptions> cluster_options(const Options& o) {
  auto node = redis_options(o);
  if (!node) return node.error();
  return redis::make_cluster_options(o.redis_cluster, *node);
}

Gateway::Gateway(asio::io_context& io, Options options)
    : io_(io),
      options_(with_cluster_prefix(std::move(options))),
      origins_(options_.origins()),
      keys_(options_.key_prefix),
      redis_(io, cluster_options_or_throw(options_)),
      subscriber_(io, redis_options_or_throw(options_)),
      secret_(io, redis_, keys_.token_secret()),
      trusted_proxies_(trusted_proxies_or_throw(options_.trusted_proxies)),
      pool_(std::make_unique<WorkerPool>(static_cast<std::size_t>(options_.hash_threads), 256)),
      partitions_(redis_, keys_),
      rounds_(redis_, keys_, partitions_),
      instance_(random_hex_id()),
      hub_(io, options_, metrics_, rounds_),
      sessions_(io, redis_, keys_, instance_, options_.max_connections_per_player,
                std::chrono::milliseconds(options_.player_session_stale_ms), metrics_,
                [this](ConnId id) { hub_.evict(id); }),
      batcher_(io, redis_, partitions_, batcher_limits(options_), metrics_,
               [this](std::vector<ClickOutcome>& out) { hub_.deliver(out); }),
      broadcaster_(
          io, redis_, keys_, metrics_,
          [this](std::string_view event, std::string_view data) { hub_.broadcast(event, data); }),
      heartbeat_(io, redis_, subscriber_, keys_.gateway_heartbeat(instance_),
                 std::chrono::milliseconds(options_.heartbeat_ms), metrics_),
      server_(io, *this, ws_limits(options_)),
      timer_(io) {
  core::init_sodium();
  accounts_ =
      std::make_unique<Accounts>(io, redis_, keys_, *pool_,
                                 options_.fast_password_hash ? core::PasswordLimits::minimal()
                                                             : core::PasswordLimits::interactive(),
                                 login_limits(options_), metrics_);
  hub_.attach(&server_, &batcher_, &sessions_);
  if (!options_.redis_cluster.empty()) {
    // Pub/sub works on any node of a cluster: move to another when ours is gone.
    subscriber_.set_address_source([this] {
      auto node = redis_.next_pubsub_node();
      return std::make_pair(node.host, node.port);
    });
  }
  redis_.set_round_trip_hook([this](std::chrono::microseconds rtt) {
    metrics_.redis_latency_seconds.observe(static_cast<double>(rtt.count()) / 1e6);
  });
  // The score partitions and the running round: read at every connect and at every round start
  // (click.lua corrects a stale view with nothing written; this keeps such answers rare).
  broadcaster_.on_round_started([this](std::int64_t round) {
    partitions_.set_round_hint(round);
    partitions_.refresh();
  });
  redis_.on_state([this](bool up) {
    if (up) {
      partitions_.refresh();
      CR_LOG(info) << "redis connected";
    } else {
      CR_LOG(warn) << "redis connection lost; clicks fail until it is back";
    }
  });
}

Gateway::~Gateway() {
  // Worker jobs reference the accounts: join them first.
  pool_.reset();
}

bool Gateway::ready() const {
  return !shutting_down_ && redis_.connected() && subscriber_.connected() && heartbeat_.healthy();
}

void Gateway::start(std::function<void(Result<int>)> on_listening) {
  redis_.start();
  subscribe_events();
  subscriber_.start();
  if (!options_.token_secret.empty()) {
    auto signer = core::TokenSigner::from_secret(options_.token_secret);
    if (!signer) return on_listening(signer.error());
    secret_.use_configured(*signer);
    return listen(std::move(on_listening));
  }
  secret_.obtain_shared([this, on_listening](Result<int> ok) {
    if (!ok) return on_listening(ok.error());
    listen(on_listening);
  });
}

// The subscriber's events go to the broadcaster (round events and its catch-up).
void Gateway::subscribe_events() {
  std::string events = keys_.events();
  std::string kick = sessions_.kick_channel();
  auto alive = std::weak_ptr<char>(alive_);
  subscriber_.on_message(
      [this, events, kick, alive](const std::string& ch, const std::string& payload) {
        if (alive.expired()) return;
        if (ch == events) return broadcaster_.on_envelope(payload);
        if (ch == heartbeat_.channel()) return heartbeat_.on_message(payload);
        if (ch == kick) sessions_.on_kick(payload);
      });
  subscriber_.on_state([this, alive](bool up) {
    if (alive.expired() || up) return;
    heartbeat_.reset();
    broadcaster_.on_subscription_lost();
  });
  subscriber_.on_subscribed([this, alive] {
    if (alive.expired()) return;
    heartbeat_.reset();
    broadcaster_.on_subscribed();
  });
  subscriber_.subscribe(events);
  subscriber_.subscribe(heartbeat_.channel());
  subscriber_.subscribe(kick);
  heartbeat_.start();
  sessions_.start();
}

void Gateway::listen(std::function<void(Result<int>)> on_listening) {
  auto port = server_.listen(options_.bind_address, options_.port);
  if (port) hub_.start_keepalive();
  on_listening(std::move(port));
}

void Gateway::on_http(const HttpRequest& request, std::shared_ptr<HttpReply> reply) {
  ++metrics_.http_requests;
  RouteMatch m = route(request.method, request.path);
  auto cors = cors_headers(request, origins_);
  // Every answer carries the CORS headers of an allowed origin.
  auto respond = [reply, cors](HttpResponse res) {
    for (const auto& h : cors) res.headers.push_back(h);
    (*reply)(std::move(res));
  };
  auto json_or_503 = [respond](int status) {
    return [respond, status](Result<std::string> body) {
      respond(body ? HttpResponse::json(status, std::move(*body))
                   : HttpResponse::error(503, body.error().message));
    };
  };
  switch (m.route) {
    case Route::preflight:
      return (*reply)(preflight_response(request, origins_));
    case Route::healthz:
      return respond(HttpResponse::text(200, "ok\n"));
    case Route::readyz:
      return respond(ready() ? HttpResponse::json(200, "{\"status\":\"ready\"}")
                             : HttpResponse::error(503, "not ready"));
    case Route::metrics: {
      HttpResponse r =
          HttpResponse::text(200, metrics_.render(redis_.connected(), subscriber_.connected()) +
                                      redis::render_cluster_metrics(redis_, "clickrace_gateway"));
      r.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return respond(std::move(r));
    }
    case Route::create_account: {
      auto creds = parse_credentials(request.body);
      if (!creds) return respond(HttpResponse::error(400, creds.error().message));
      return accounts_->create(
          std::move(*creds), client_limit_key(client_address(request, trusted_proxies_)), respond);
    }
    case Route::create_session: {
      auto creds = parse_credentials(request.body);
      if (!creds) return respond(HttpResponse::error(400, creds.error().message));
      if (!secret_.signer()) return respond(HttpResponse::error(503, "service unavailable"));
      return accounts_->login(std::move(*creds),
                              client_limit_key(client_address(request, trusted_proxies_)),
                              *secret_.signer(), options_.token_ttl_s * 1000, respond);
    }
    case Route::current_round:
      return rounds_.current(wall_ms(), std::nullopt, json_or_503(200));
    case Route::list_rounds: {
      auto limit = parse_limit(request.query_param("limit"));
      if (!limit) return respond(HttpResponse::error(400, limit.error().message));
      return rounds_.list(*limit, json_or_503(200));
    }
    case Route::get_round:
      return rounds_.get(m.round_id, [respond](Result<std::optional<std::string>> r) {
        if (!r) return respond(HttpResponse::error(503, r.error().message));
        if (!*r) return respond(HttpResponse::error(404, "round not found"));
        respond(HttpResponse::json(200, std::move(**r)));
      });
    case Route::bad_round_id:
      return respond(HttpResponse::error(404, "round not found"));
    case Route::negotiate:
      return negotiate(request, reply, cors);
    case Route::static_file: {
      std::string dir = options_.web_dir;
      return respond(serve_static(dir, request.path));
    }
    case Route::method_not_allowed:
      return respond(HttpResponse::error(405, "method not allowed"));
    case Route::not_found:
      return respond(HttpResponse::error(404, "not found"));
  }
}

void Gateway::negotiate(const HttpRequest& request, std::shared_ptr<HttpReply> reply,
                        std::vector<std::pair<std::string, std::string>> cors) {
  auto finish = [reply, cors = std::move(cors)](HttpResponse res) {
    for (const auto& h : cors) res.headers.push_back(h);
    (*reply)(std::move(res));
  };
  if (shutting_down_) return finish(HttpResponse::error(503, "server shutting down"));
  if (!secret_.signer()) return finish(HttpResponse::error(503, "service unavailable"));
  // A token that fails may be signed with a shared secret that changed: verify() re-reads it.
  auto asked = request.query_param("useStatefulReconnect");
  bool stateful = options_.stateful_reconnect && asked && iequals(*asked, "true");
  secret_.verify(
      request_token(request, true).value_or(""), core::TokenKind::login,
      [this, finish, stateful](Result<core::Claims> login) {
        // A short plain body: the JS client shows it in its error message.
        if (!login) return finish(HttpResponse::text(401, "Unauthorized"));
        core::Claims conn;
        conn.kind = core::TokenKind::connection;
        conn.name = login->name;
        conn.connection_id = new_connection_id();
        conn.expires_at = wall_ms() + options_.connection_token_ttl_ms;
        finish(HttpResponse::json(
            200, negotiate_body(conn.connection_id, secret_.signer()->sign(conn), stateful)));
      });
}

std::optional<HttpResponse> Gateway::on_upgrade(ConnId id, const HttpRequest& request) {
  auto refuse = [&](HttpResponse r) {
    ++metrics_.connections_rejected;
    return std::optional<HttpResponse>(std::move(r));
  };
  if (shutting_down_) return refuse(HttpResponse::text(503, "server shutting down"));
  if (request.path != "/hub") return refuse(HttpResponse::text(404, "Not Found"));
  if (!secret_.signer()) return refuse(HttpResponse::text(503, "service unavailable"));
  auto id_param = request.query_param("id");
  if (id_param) {
    if (auto resume = check_resume(request, *id_param)) {
      if (*resume) return refuse(std::move(**resume));
      hub_.reserve_resume(
          id, secret_.signer()->verify(*id_param, core::TokenKind::connection, 0)->connection_id);
      return std::nullopt;
    }
  }
  int status = 0;
  auto grant = check_upgrade(request, *secret_.signer(), origins_, wall_ms(), &status);
  if (!grant) {
    // A token that does not verify may come from a shared secret that changed: re-read it.
    if ((status == 401 && request_token(request, true)) || status == 404) secret_.recheck();
    return refuse(HttpResponse::text(status, grant.error().message));
  }
  if (hub_.connection_id_in_use(grant->connection_id)) {
    return refuse(HttpResponse::text(409, "Connection already has an active WebSocket"));
  }
  if (hub_.size() >= static_cast<std::size_t>(options_.max_connections)) {
    return refuse(HttpResponse::text(503, "too many connections"));
  }
  hub_.reserve(id, std::move(grant->player), std::move(grant->connection_id), id_param.has_value());
  return std::nullopt;
}

// A stateful reconnect presents its connection token again, possibly after the token's upgrade
// window: the token's signature is checked, not its age. nullopt: not a reconnect to a connection
// this gateway knows, check it as a new one; a response: refuse with it; an empty one: resume.
std::optional<std::optional<HttpResponse>> Gateway::check_resume(const HttpRequest& request,
                                                                 const std::string& token) {
  auto conn = secret_.signer()->verify(token, core::TokenKind::connection, /*now_ms=*/0);
  if (!conn) return std::nullopt;
  if (!hub_.resumable(conn->connection_id, conn->name)) {
    // Given up here (window passed, buffer full): .NET's answer for an unknown connection,
    // which makes the official client fall back to a new connection.
    if (hub_.lost(conn->connection_id)) {
      ++metrics_.reconnects_refused;
      return std::optional<HttpResponse>(HttpResponse::text(404, "No Connection with that ID"));
    }
    return std::nullopt;
  }
  auto login_token = request_token(request, true);
  auto login = login_token
                   ? secret_.signer()->verify(*login_token, core::TokenKind::login, wall_ms())
                   : Result<core::Claims>(Error{"Unauthorized"});
  if (!login || login->name != conn->name) {
    return std::optional<HttpResponse>(HttpResponse::text(401, "Unauthorized"));
  }
  if (!origin_allowed(request, origins_)) {
    return std::optional<HttpResponse>(HttpResponse::text(403, "Origin not allowed"));
  }
  return std::optional<HttpResponse>();
}

void Gateway::on_open(ConnId id) { hub_.on_open(id); }
void Gateway::on_message(ConnId id, bool, std::string_view payload) {
  hub_.on_message(id, payload);
}
void Gateway::on_close(ConnId id) { hub_.on_close(id); }

void Gateway::shutdown(std::function<void()> done) {
  if (shutting_down_) return;
  shutting_down_ = true;
  CR_LOG(info) << "shutting down: flushing clicks and closing connections";
  server_.stop_listening();
  hub_.stop_clicks();
  batcher_.flush();
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.shutdown_grace_ms);
  shutdown_wait(deadline, 0, std::move(done));
}

// Phase 0: no new clicks are taken (Hub::stop_clicks); wait until every batch formed before —
// in flight, waiting for a slot or for a resend — is answered and its completions handed to the
// sockets (bounded by the grace period), then send Close to everyone: Redis never counts a click
// whose caller was closed before its answer (DESIGN §2 invariant 1). Phase 1: wait (at most 2 s)
// for the close handshakes, then stop Redis.
void Gateway::shutdown_wait(std::chrono::steady_clock::time_point deadline, int phase,
                            std::function<void()> done) {
  auto now = std::chrono::steady_clock::now();
  if (phase == 0) {
    batcher_.flush();
    bool idle = batcher_.in_flight() == 0 && batcher_.pending() == 0 && batcher_.unresolved() == 0;
    if (idle || now >= deadline) {
      if (!idle) {
        CR_LOG(error) << "shutdown grace period over with click batches unanswered (in flight "
                      << batcher_.in_flight() << ", awaiting a resend " << batcher_.unresolved()
                      << ", clicks pending " << batcher_.pending() << ")";
      }
      hub_.close_all_for_shutdown();
      phase = 1;
      deadline = now + std::chrono::seconds(2);
    }
  } else if (server_.open_count() == 0 || now >= deadline) {
    heartbeat_.stop();
    subscriber_.close();
    redis_.close();
    CR_LOG(info) << "shutdown complete";
    return done();
  }
  timer_.expires_after(std::chrono::milliseconds(10));
  timer_.async_wait([this, deadline, phase, done = std::move(done),
                     alive = std::weak_ptr<char>(alive_)](const asio::error_code& ec) mutable {
    if (alive.expired()) return;
    shutdown_wait(deadline, phase, std::move(done));
  });
}

}  // namespace clickrace::gateway
