#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "clickrace/core/result.hpp"

// A SignalR hub client (JSON protocol over WebSockets) that behaves like the official JS client:
// negotiate, handshake, invoke/send/on, keep-alive, server timeout, automatic reconnect.
//
//   HubClient hub({.url = "http://127.0.0.1:8080/hub", .access_token_factory = [&] { return t; }});
//   hub.on("RoundEnded", [](const nlohmann::json& args) { ... });
//   if (auto id = hub.ensure_started().get(); !id) { /* id.error().message */ }
//   auto clicks = hub.invoke("Click").get();   // Result<json>: {"round":..,"clicks":..}
//
// Threading: the client owns one I/O thread. Every public method may be called from any thread.
// Handlers and callbacks run on the I/O thread: keep them short, and never block there on a
// future of this client (invoke(...).get(), ensure_started().get()) — that would deadlock.
namespace clickrace::client {

struct HubClientOptions {
  // The hub's http(s) URL, e.g. http://127.0.0.1:8080/hub. wss is not supported (no TLS here).
  std::string url;
  // Called (on an internal thread) before every negotiate and every WebSocket upgrade; an empty
  // string sends no Authorization header. It may block (e.g. log in over HTTP); exceptions count
  // as a failed connection attempt.
  std::function<std::string()> access_token_factory;
  // Delays before each automatic reconnect attempt; the official client's defaults. Empty = never
  // reconnect. Only a connection that once reached Connected is reconnected.
  std::vector<std::chrono::milliseconds> reconnect_delays{
      std::chrono::milliseconds(0), std::chrono::milliseconds(2000),
      std::chrono::milliseconds(10000), std::chrono::milliseconds(30000)};
  // Open the WebSocket on `url` directly, without negotiate (the gateway accepts that).
  bool skip_negotiation = false;
  // Drop the connection when nothing was received for this long (the server pings every 15 s).
  std::chrono::milliseconds server_timeout{30000};
  // Send a Ping when nothing was sent for this long.
  std::chrono::milliseconds keep_alive_interval{15000};
  // Upgrade + SignalR handshake must complete within this (.NET's HandshakeTimeout).
  std::chrono::milliseconds handshake_timeout{15000};
  // Negotiate request timeout (connect and read).
  std::chrono::milliseconds http_timeout{10000};
  // Largest inbound record; larger ones close the connection.
  std::size_t max_message_size = 1 << 20;
  // Invocations waiting for their completion; more fail at once.
  std::size_t max_pending_invocations = 10000;
};

enum class HubState { disconnected, connecting, connected, reconnecting };
const char* to_string(HubState state);

// Monotonic counters, for tests and diagnostics.
struct HubClientStats {
  std::uint64_t negotiations = 0;        // negotiate requests sent
  std::uint64_t connections_opened = 0;  // WebSockets opened (initial + reconnects)
  std::uint64_t handshakes = 0;          // SignalR handshakes completed
  std::uint64_t reconnects = 0;          // successful automatic reconnects
};

using Json = nlohmann::json;
// OK = the connection id ("" with skip_negotiation).
using StartResult = Result<std::string>;
using StartFuture = std::shared_future<StartResult>;
using InvokeResult = Result<Json>;
using SendResult = Result<std::monostate>;

// The official client's texts, so callers can compare.
inline constexpr const char* kInvocationCanceledError =
    "Invocation canceled due to the underlying connection being closed.";
inline constexpr const char* kNotConnectedError =
    "Cannot send data if the connection is not in the 'Connected' State.";
inline constexpr const char* kServerTimeoutError =
    "Server timeout elapsed without receiving a message from the server.";

class HubClient {
 public:
  explicit HubClient(HubClientOptions options);
  ~HubClient();  // stop(), then joins its threads
  HubClient(const HubClient&) = delete;
  HubClient& operator=(const HubClient&) = delete;

  // Starts from Disconnected; fails at once in any other state (as the JS client does).
  StartFuture start();
  // Starts if needed. Concurrent callers share one start: one negotiate, one WebSocket, the same
  // outcome. While reconnecting, resolves when the reconnect succeeds or finally fails.
  StartFuture ensure_started();
  // Sends Close ({"type":7}), closes the socket, cancels a reconnect, fails pending invocations.
  // Blocks until done, unless called from a handler (then it completes before returning anyway).
  void stop();

  // `args` is the argument array (a non-array value is sent as the single argument).
  // The result is the Completion's `result` (null when absent) or the server's error text.
  std::future<InvokeResult> invoke(const std::string& method, Json args = Json::array());
  void invoke(const std::string& method, Json args, std::function<void(InvokeResult)> done);
  // Non-blocking call (no invocationId, the server never answers). Resolves once queued.
  std::future<SendResult> send(const std::string& method, Json args = Json::array());

  // Server-to-client calls. Names are case-insensitive; several handlers per name run in order.
  void on(const std::string& event, std::function<void(const Json& args)> handler);
  void off(const std::string& event);

  void on_reconnecting(std::function<void(const std::string& error)> callback);
  void on_reconnected(std::function<void(const std::string& connection_id)> callback);
  // After stop() (no error), a Close without allowReconnect, or when reconnecting gave up.
  void on_closed(std::function<void(const std::optional<std::string>& error)> callback);

  HubState state() const;
  std::string connection_id() const;
  HubClientStats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace clickrace::client
