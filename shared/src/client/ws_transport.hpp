#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/io_context.hpp>

// One client WebSocket at a time over websocketpp (kept in ws_transport.cpp alone: it compiles
// slowly). Every call and every callback happens on the io_context's thread.
namespace clickrace::client {

class WsTransport {
 public:
  struct Handlers {
    std::function<void()> on_open;
    std::function<void(std::string_view text)> on_message;
    // Exactly once per connect() unless superseded by another connect()/abort(): the upgrade
    // failed, or the open socket closed. `error` is empty for a normal close.
    std::function<void(std::string error)> on_closed;
  };
  struct Limits {
    std::chrono::milliseconds open_timeout{15000};
    std::size_t max_message_size = 1 << 20;
    std::size_t max_buffered = 4 << 20;  // unsent bytes before send() refuses
  };

  WsTransport(asio::io_context& io, Limits limits);
  ~WsTransport();
  WsTransport(const WsTransport&) = delete;
  WsTransport& operator=(const WsTransport&) = delete;

  // Drops any current socket silently, then opens `url` (ws:// only) with extra headers.
  void connect(const std::string& url,
               const std::vector<std::pair<std::string, std::string>>& headers, Handlers handlers);
  // Queues one TEXT message. Returns an error text when it could not be queued.
  std::string send(std::string_view text);
  // Starts a normal close; on_closed is NOT called afterwards (the caller already moved on).
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace clickrace::client
