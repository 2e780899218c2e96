#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>

#include "clickrace/core/result.hpp"
#include "http_types.hpp"
#include "ws_connection.hpp"

// One HTTP + WebSocket port on the caller's io_context. websocketpp serves HTTP and the opening
// handshake; an upgraded connection's socket is then handed to our own WsConnection
// (ws_connection.hpp), which reads and writes its frames. websocketpp is confined to
// ws_server.cpp (it costs ~20 s of compile per translation unit); everything else sees
// connection ids, HttpRequest/HttpResponse values and prepared frames.
// Single-threaded: every method must be called on the io_context thread.
namespace clickrace::gateway {

using ConnId = std::uint64_t;

struct WsLimits {
  std::size_t max_message_bytes = 32 * 1024;
  std::size_t max_http_body_bytes = 16 * 1024;
  std::size_t max_send_buffer_bytes = 256 * 1024;
  int listen_backlog = 1024;
  // Accepted sockets at once, upgraded or not (the open-file budget, fd_limits.hpp); a socket
  // accepted beyond it is closed at once.
  std::size_t max_sockets = 1'000'000;
};

// A WebSocket message (text or binary) framed once (header + payload bytes) and shared by every
// connection it is sent to: a broadcast costs one allocation, not one per recipient.
class PreparedFrame {
 public:
  PreparedFrame() = default;
  bool empty() const { return bytes_ == nullptr; }
  std::size_t size() const { return size_; }  // payload bytes

 private:
  friend class WsServer;
  std::shared_ptr<const std::string> bytes_;
  std::size_t size_ = 0;
};

// Answers an HTTP request exactly once, now or later (a deferred response: Redis or a worker
// thread). Dropping it unanswered sends a 500 so no connection hangs.
class HttpReply {
 public:
  explicit HttpReply(std::function<void(HttpResponse)> send);
  ~HttpReply();
  HttpReply(HttpReply&&) noexcept = default;
  HttpReply& operator=(HttpReply&&) noexcept = default;
  void operator()(HttpResponse response);

 private:
  std::function<void(HttpResponse)> send_;
};

class WsHandler {
 public:
  virtual ~WsHandler() = default;
  // A plain HTTP request (no upgrade).
  virtual void on_http(const HttpRequest& request, std::shared_ptr<HttpReply> reply) = 0;
  // An upgrade request: nullopt accepts it, a response refuses it (sent as the HTTP answer).
  // `id` is the id the connection will have if accepted.
  virtual std::optional<HttpResponse> on_upgrade(ConnId id, const HttpRequest& request) = 0;
  virtual void on_open(ConnId id) = 0;
  // A complete WebSocket message.
  virtual void on_message(ConnId id, bool text, std::string_view payload) = 0;
  // The connection is gone (also after an accepted upgrade that never opened).
  virtual void on_close(ConnId id) = 0;
};

class WsServer {
 public:
  WsServer(asio::io_context& io, WsHandler& handler, WsLimits limits);
  ~WsServer();
  WsServer(const WsServer&) = delete;
  WsServer& operator=(const WsServer&) = delete;

  // Binds and starts accepting; returns the bound port (useful with port 0).
  Result<int> listen(const std::string& address, int port);
  void stop_listening();

  // `binary`: a binary message (MessagePack hub protocol), else text (JSON).
  static PreparedFrame prepare(std::string_view payload, bool binary = false);
  // Sends a message: written to the socket at once when nothing of the connection's is
  // still queued, else (and for whatever the socket does not take) queued in order. If the
  // connection's queued bytes are above the limit, the connection is dropped instead (a slow
  // reader) and dropped_slow is returned.
  SendResult send(ConnId id, const PreparedFrame& frame);
  SendResult send(ConnId id, std::string_view payload, bool binary = false);
  // WebSocket close handshake with `code` (1000 normal, 1008 policy, ...).
  void close(ConnId id, std::uint16_t code, std::string_view reason);
  // Immediate TCP teardown (slow or dead peers).
  void abort(ConnId id);
  std::size_t open_count() const;
  // Closes every WebSocket connection with `code` after its queued data.
  void close_all(std::uint16_t code, std::string_view reason);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace clickrace::gateway
