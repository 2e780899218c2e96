#include "clickrace/client/hub_client.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "clickrace/client/negotiate.hpp"
#include "clickrace/client/url.hpp"
#include "clickrace/core/log.hpp"
#include "clickrace/signalr/framing.hpp"
#include "clickrace/signalr/json_codec.hpp"
#include "clickrace/signalr/json_parse.hpp"
#include "serial_worker.hpp"
#include "ws_transport.hpp"

namespace clickrace::client {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kHandshakeRequest = "{\"protocol\":\"json\",\"version\":1}\x1e";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

StartFuture ready_start(StartResult result) {
  std::promise<StartResult> p;
  p.set_value(std::move(result));
  return p.get_future().share();
}

}  // namespace

const char* to_string(HubState state) {
  switch (state) {
    case HubState::disconnected:
      return "Disconnected";
    case HubState::connecting:
      return "Connecting";
    case HubState::connected:
      return "Connected";
    case HubState::reconnecting:
      return "Reconnecting";
  }
  return "?";
}

// All connection state below "I/O thread only" is touched on io's thread alone; `mu` guards
// what public methods read or register from other threads. User callbacks run without `mu`.
struct HubClient::Impl {
  using Handler = std::function<void(const Json&)>;
  using Completion = std::function<void(InvokeResult)>;

  explicit Impl(HubClientOptions o)
      : opts(std::move(o)),
        work(asio::make_work_guard(io)),
        transport(io, WsTransport::Limits{opts.handshake_timeout, opts.max_message_size}),
        heartbeat(io),
        retry_timer(io),
        handshake_timer(io),
        reader(opts.max_message_size) {
    auto parsed = parse_url(opts.url);
    if (parsed) {
      url = *parsed;
      if (url.tls) url_error = Error{"wss/https hub URLs are not supported by this client"};
    } else {
      url_error = parsed.error();
    }
    io_thread = std::thread([this] { io.run(); });
    io_thread_id = io_thread.get_id();
  }

  ~Impl() {
    worker.reset();  // waits for a running negotiate (bounded by http_timeout)
    work.reset();
    // Let closing sockets finish their close handshake briefly, then stop the loop for good.
    for (int i = 0; i < 200 && !io.stopped(); ++i) std::this_thread::sleep_for(milliseconds(10));
    io.stop();
    io_thread.join();
  }

  bool on_io_thread() const { return std::this_thread::get_id() == io_thread_id; }

  // ---- start / stop (any thread) ----

  StartFuture begin_start(bool only_from_disconnected) {
    std::lock_guard<std::mutex> lock(mu);
    if (state == HubState::connected) {
      if (only_from_disconnected) {
        return ready_start(
            make_error("Cannot start a HubConnection that is not in the 'Disconnected' state."));
      }
      return ready_start(conn_id);
    }
    if (state != HubState::disconnected) {
      if (only_from_disconnected) {
        return ready_start(
            make_error("Cannot start a HubConnection that is not in the 'Disconnected' state."));
      }
      return start_future;
    }
    if (url_error) return ready_start(*url_error);
    state = HubState::connecting;
    start_promise = std::make_shared<std::promise<StartResult>>();
    start_future = start_promise->get_future().share();
    asio::post(io, [this] { attempt_connection(); });
    return start_future;
  }

  void stop() {
    if (on_io_thread()) return stop_on_io();
    std::promise<void> done;
    auto f = done.get_future();
    asio::post(io, [this, &done] {
      stop_on_io();
      done.set_value();
    });
    f.wait();
  }

  void stop_on_io() {
    HubState was;
    {
      std::lock_guard<std::mutex> lock(mu);
      was = state;
    }
    if (was == HubState::disconnected) return;
    if (was == HubState::connected) transport.send(signalr::serialize(signalr::CloseMessage{}));
    finish(std::nullopt, "The connection was stopped before it was established.");
  }

  // ---- connection attempts (I/O thread) ----

  void attempt_connection() {
    const std::uint64_t gen = ++attempt;
    awaiting_handshake = false;
    reader = signalr::RecordReader(opts.max_message_size);
    // The whole attempt (token, negotiate, upgrade, handshake) is bounded.
    handshake_timer.expires_after(opts.handshake_timeout + opts.http_timeout);
    handshake_timer.async_wait([this, gen](const std::error_code& ec) {
      if (!ec && gen == attempt) attempt_failed("Timed out connecting to the server.");
    });
    worker->post([this, gen] {
      std::string token;
      std::optional<Error> error;
      NegotiateResult negotiated;
      try {
        if (opts.access_token_factory) token = opts.access_token_factory();
      } catch (const std::exception& e) {
        error = Error{std::string("The access token factory failed: ") + e.what()};
      }
      if (!error && !opts.skip_negotiation) {
        ++negotiations;
        auto r = negotiate(url, token, opts.http_timeout);
        if (r) {
          negotiated = *r;
        } else {
          error = r.error();
        }
      }
      // A second factory call for the upgrade, as the official client does.
      if (!error && opts.access_token_factory) {
        try {
          token = opts.access_token_factory();
        } catch (const std::exception& e) {
          error = Error{std::string("The access token factory failed: ") + e.what()};
        }
      }
      asio::post(io, [this, gen, token, error, negotiated] {
        if (gen != attempt) return;
        if (error) return attempt_failed(error->message);
        open_socket(gen, token, negotiated);
      });
    });
  }

  void open_socket(std::uint64_t gen, const std::string& token, const NegotiateResult& n) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    pending_conn_id = n.connection_id;
    WsTransport::Handlers h;
    h.on_open = [this, gen] {
      if (gen != attempt) return;
      ++opened;
      awaiting_handshake = true;
      auto err = transport.send(kHandshakeRequest);
      if (!err.empty()) attempt_failed(err);
    };
    h.on_message = [this, gen](std::string_view text) {
      if (gen == attempt) on_message(gen, text);
    };
    h.on_closed = [this, gen](std::string error) {
      if (gen != attempt) return;
      if (awaiting_handshake || !is_connected()) {
        attempt_failed(error.empty() ? "The server closed the connection during the handshake."
                                     : error);
      } else {
        connection_lost(error.empty() ? "WebSocket closed by the server." : error);
      }
    };
    transport.connect(websocket_url(url, n.connection_token), headers, std::move(h));
  }

  bool is_connected() {
    std::lock_guard<std::mutex> lock(mu);
    return state == HubState::connected;
  }

  void on_message(std::uint64_t gen, std::string_view text) {
    last_received = Clock::now();
    auto records = reader.feed(text);
    if (!records) return protocol_error(records.error().message);
    for (const auto& record : *records) {
      if (gen != attempt) return;  // a record closed this connection
      if (awaiting_handshake) {
        handle_handshake(record);
      } else {
        handle_record(record);
      }
    }
  }

  void handle_handshake(const std::string& record) {
    auto j = signalr::parse_json_object(record, signalr::kMaxJsonDepth);
    if (!j) return attempt_failed("Invalid handshake response: " + j.error().message);
    if (j->contains("error")) {
      const auto& e = (*j)["error"];
      return attempt_failed("Server returned handshake error: " +
                            (e.is_string() ? e.get<std::string>() : e.dump()));
    }
    if (j->contains("type"))
      return attempt_failed("Expected a handshake response from the server.");
    awaiting_handshake = false;
    handshake_timer.cancel();
    ++handshakes;
    connected();
  }

  void connected() {
    std::shared_ptr<std::promise<StartResult>> promise;
    bool was_reconnecting;
    std::string id = pending_conn_id;
    {
      std::lock_guard<std::mutex> lock(mu);
      was_reconnecting = state == HubState::reconnecting;
      state = HubState::connected;
      conn_id = id;
      promise = std::move(start_promise);
      start_future = {};
    }
    last_sent = last_received = Clock::now();
    send_frame(std::string(signalr::kPingFrame));  // as the JS client does right away
    arm_heartbeat();
    if (was_reconnecting) {
      ++reconnects;
      CR_LOG(info) << "hub client reconnected";
    }
    if (promise) promise->set_value(id);
    if (was_reconnecting) {
      auto cb = get(reconnected_cb);
      if (cb) cb(id);
    }
  }

  void handle_record(const std::string& record) {
    auto message = signalr::parse_message(record);
    if (!message) return protocol_error(message.error().message);
    std::visit([this](auto& m) { handle(m); }, *message);
  }

  void handle(signalr::InvocationMessage& m) {
    std::vector<Handler> hs;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = handlers.find(lower(m.target));
      if (it != handlers.end()) hs = it->second;
    }
    if (hs.empty()) {
      CR_LOG(debug) << "hub client: no handler for '" << m.target << "'";
      return;
    }
    for (auto& h : hs) {
      try {
        h(m.arguments);
      } catch (const std::exception& e) {
        CR_LOG(warn) << "hub client: handler for '" << m.target << "' threw: " << e.what();
      }
    }
  }

  void handle(signalr::CompletionMessage& m) {
    auto it = pending.find(m.invocation_id);
    if (it == pending.end()) return;  // unknown ids are dropped, as the JS client does
    Completion done = std::move(it->second);
    pending.erase(it);
    if (m.error) {
      done(make_error(*m.error));
    } else {
      done(m.result ? std::move(*m.result) : Json(nullptr));
    }
  }

  void handle(signalr::CloseMessage& m) {
    std::string error = m.error ? "Server returned an error on close: " + *m.error : std::string();
    if (m.allow_reconnect) {
      connection_lost(error.empty() ? "The server closed the connection." : error);
    } else {
      finish(error.empty() ? std::nullopt : std::optional<std::string>(error),
             kInvocationCanceledError);
    }
  }

  template <typename M>
  void handle(M&) {}  // Ping (activity only), streams, acks: nothing to do

  void protocol_error(const std::string& error) {
    CR_LOG(warn) << "hub client: bad message from the server: " << error;
    if (awaiting_handshake) return attempt_failed("Invalid handshake response: " + error);
    connection_lost("Invalid message from the server: " + error);
  }

  // ---- failures and reconnect (I/O thread) ----

  // A connecting or reconnecting attempt failed.
  void attempt_failed(const std::string& error) {
    ++attempt;  // ignore the rest of this attempt
    awaiting_handshake = false;
    handshake_timer.cancel();
    transport.close();
    HubState s;
    {
      std::lock_guard<std::mutex> lock(mu);
      s = state;
    }
    if (s == HubState::connecting) {
      std::shared_ptr<std::promise<StartResult>> promise;
      {
        std::lock_guard<std::mutex> lock(mu);
        state = HubState::disconnected;
        promise = std::move(start_promise);
        start_future = {};
      }
      if (promise) promise->set_value(make_error(error));
      return;
    }
    if (s != HubState::reconnecting) return;
    CR_LOG(info) << "hub client: reconnect attempt " << (retry_count + 1) << " failed: " << error;
    ++retry_count;
    if (retry_count >= opts.reconnect_delays.size()) {
      finish("Reconnect retries have been exhausted after " + std::to_string(retry_count) +
                 " failed attempts. Last error: " + error,
             kInvocationCanceledError);
      return;
    }
    schedule_retry();
  }

  // The connected socket is gone (transport loss, server timeout, Close with allowReconnect).
  void connection_lost(const std::string& error) {
    ++attempt;
    heartbeat.cancel();
    transport.close();
    fail_pending(kInvocationCanceledError);
    if (opts.reconnect_delays.empty()) return finish(error, kInvocationCanceledError);
    {
      std::lock_guard<std::mutex> lock(mu);
      state = HubState::reconnecting;
      conn_id.clear();
      start_promise = std::make_shared<std::promise<StartResult>>();
      start_future = start_promise->get_future().share();
    }
    CR_LOG(info) << "hub client: connection lost (" << error << "), reconnecting";
    retry_count = 0;
    auto cb = get(reconnecting_cb);
    if (cb) cb(error);
    if (!is_reconnecting()) return;  // the callback stopped the client
    schedule_retry();
  }

  bool is_reconnecting() {
    std::lock_guard<std::mutex> lock(mu);
    return state == HubState::reconnecting;
  }

  void schedule_retry() {
    const std::uint64_t gen = attempt;
    retry_timer.expires_after(opts.reconnect_delays[retry_count]);
    retry_timer.async_wait([this, gen](const std::error_code& ec) {
      if (!ec && gen == attempt && is_reconnecting()) attempt_connection();
    });
  }

  // Ends in Disconnected: stop(), a Close without allowReconnect, or reconnecting gave up.
  // `error` goes to on_closed; `start_error` to anyone still waiting for a start.
  void finish(const std::optional<std::string>& error, const std::string& start_error) {
    ++attempt;
    awaiting_handshake = false;
    heartbeat.cancel();
    retry_timer.cancel();
    handshake_timer.cancel();
    transport.close();
    fail_pending(kInvocationCanceledError);
    std::shared_ptr<std::promise<StartResult>> promise;
    bool was_started;
    {
      std::lock_guard<std::mutex> lock(mu);
      was_started = state == HubState::connected || state == HubState::reconnecting;
      state = HubState::disconnected;
      conn_id.clear();
      promise = std::move(start_promise);
      start_future = {};
    }
    if (promise) promise->set_value(make_error(error ? *error : start_error));
    // Like the JS client: a start that never reached Connected reports through its future only.
    if (was_started) {
      auto cb = get(closed_cb);
      if (cb) cb(error);
    }
  }

  void fail_pending(const std::string& error) {
    auto failed = std::move(pending);
    pending.clear();
    for (auto& [id, done] : failed) done(make_error(error));
  }

  // ---- keep-alive (I/O thread) ----

  void arm_heartbeat() {
    auto tick = std::min(opts.keep_alive_interval, opts.server_timeout) / 4;
    tick = std::clamp(tick, milliseconds(10), milliseconds(1000));
    const std::uint64_t gen = attempt;
    heartbeat.expires_after(tick);
    heartbeat.async_wait([this, gen](const std::error_code& ec) {
      if (ec || gen != attempt || !is_connected()) return;
      auto now = Clock::now();
      if (now - last_received >= opts.server_timeout) return connection_lost(kServerTimeoutError);
      if (now - last_sent >= opts.keep_alive_interval) send_frame(std::string(signalr::kPingFrame));
      arm_heartbeat();
    });
  }

  std::string send_frame(const std::string& frame) {
    auto err = transport.send(frame);
    if (err.empty()) last_sent = Clock::now();
    return err;
  }

  // ---- calls (I/O thread) ----

  void invoke(const std::string& method, Json args, Completion done) {
    if (!is_connected()) return done(make_error(kNotConnectedError));
    if (pending.size() >= opts.max_pending_invocations) {
      return done(make_error("Too many invocations are waiting for the server."));
    }
    std::string id = std::to_string(next_invocation_id++);  // never reset, as in the JS client
    signalr::InvocationMessage m;
    m.invocation_id = id;
    m.target = method;
    m.arguments = std::move(args);
    auto err = send_frame(signalr::serialize(m));
    if (!err.empty()) return done(make_error("Cannot send the invocation: " + err));
    pending.emplace(std::move(id), std::move(done));
  }

  SendResult send(const std::string& method, Json args) {
    if (!is_connected()) return make_error(kNotConnectedError);
    signalr::InvocationMessage m;
    m.target = method;
    m.arguments = std::move(args);
    auto err = send_frame(signalr::serialize(m));
    if (!err.empty()) return make_error("Cannot send the message: " + err);
    return std::monostate{};
  }

  template <typename F>
  F get(const F& f) {
    std::lock_guard<std::mutex> lock(mu);
    return f;
  }

  HubClientOptions opts;
  HttpUrl url;
  std::optional<Error> url_error;

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  WsTransport transport;
  asio::steady_timer heartbeat;
  asio::steady_timer retry_timer;
  asio::steady_timer handshake_timer;
  std::unique_ptr<SerialWorker> worker = std::make_unique<SerialWorker>();
  std::thread io_thread;
  std::thread::id io_thread_id;

  mutable std::mutex mu;
  HubState state = HubState::disconnected;
  std::string conn_id;
  std::shared_ptr<std::promise<StartResult>> start_promise;
  StartFuture start_future;
  std::map<std::string, std::vector<Handler>> handlers;  // by lowercased name
  std::function<void(const std::string&)> reconnecting_cb;
  std::function<void(const std::string&)> reconnected_cb;
  std::function<void(const std::optional<std::string>&)> closed_cb;

  // I/O thread only.
  std::uint64_t attempt = 0;  // generation: callbacks of older attempts are ignored
  bool awaiting_handshake = false;
  signalr::RecordReader reader;
  std::string pending_conn_id;
  std::map<std::string, Completion> pending;
  std::uint64_t next_invocation_id = 0;
  std::size_t retry_count = 0;
  Clock::time_point last_sent{};
  Clock::time_point last_received{};

  std::atomic<std::uint64_t> negotiations{0};
  std::atomic<std::uint64_t> opened{0};
  std::atomic<std::uint64_t> handshakes{0};
  std::atomic<std::uint64_t> reconnects{0};
};

HubClient::HubClient(HubClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {}

HubClient::~HubClient() { impl_->stop(); }

StartFuture HubClient::start() { return impl_->begin_start(true); }

StartFuture HubClient::ensure_started() { return impl_->begin_start(false); }

void HubClient::stop() { impl_->stop(); }

std::future<InvokeResult> HubClient::invoke(const std::string& method, Json args) {
  auto promise = std::make_shared<std::promise<InvokeResult>>();
  auto f = promise->get_future();
  invoke(method, std::move(args), [promise](InvokeResult r) { promise->set_value(std::move(r)); });
  return f;
}

void HubClient::invoke(const std::string& method, Json args,
                       std::function<void(InvokeResult)> done) {
  if (!args.is_array()) args = Json::array({std::move(args)});
  Impl* impl = impl_.get();
  asio::post(impl->io, [impl, method, args = std::move(args), done = std::move(done)]() mutable {
    impl->invoke(method, std::move(args), std::move(done));
  });
}

std::future<SendResult> HubClient::send(const std::string& method, Json args) {
  if (!args.is_array()) args = Json::array({std::move(args)});
  auto promise = std::make_shared<std::promise<SendResult>>();
  auto f = promise->get_future();
  Impl* impl = impl_.get();
  asio::post(impl->io, [impl, method, args = std::move(args), promise]() mutable {
    promise->set_value(impl->send(method, std::move(args)));
  });
  return f;
}

void HubClient::on(const std::string& event, std::function<void(const Json& args)> handler) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->handlers[lower(event)].push_back(std::move(handler));
}

void HubClient::off(const std::string& event) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->handlers.erase(lower(event));
}

void HubClient::on_reconnecting(std::function<void(const std::string&)> callback) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->reconnecting_cb = std::move(callback);
}

void HubClient::on_reconnected(std::function<void(const std::string&)> callback) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->reconnected_cb = std::move(callback);
}

void HubClient::on_closed(std::function<void(const std::optional<std::string>&)> callback) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->closed_cb = std::move(callback);
}

HubState HubClient::state() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->state;
}

std::string HubClient::connection_id() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->conn_id;
}

HubClientStats HubClient::stats() const {
  return HubClientStats{impl_->negotiations.load(), impl_->opened.load(), impl_->handshakes.load(),
                        impl_->reconnects.load()};
}

}  // namespace clickrace::client
