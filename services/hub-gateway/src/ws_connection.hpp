#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "ws_frames.hpp"

// One upgraded WebSocket connection, after websocketpp has done the HTTP upgrade and handed its
// socket over (ws_server.cpp). Reactor style, as the I/O floor: wait until the socket is
// readable, recv into the loop's one buffer until a short read says it is drained (no recv that
// only returns EAGAIN), hand complete messages out as views; writes go straight to the socket
// with a non-blocking sendmsg and only what the socket does not take is queued. Per connection
// it keeps the socket, the frame reader's partial bytes and the unsent tail: a few hundred bytes
// when idle, where websocketpp's connection object held ~5 KB.
// Single-threaded: every call on the io_context thread.
namespace clickrace::gateway {

enum class SendResult { ok, gone, dropped_slow };

class WsConnection;

// The server's side of its connections.
class WsConnectionOwner {
 public:
  virtual ~WsConnectionOwner() = default;
  virtual void on_message(WsConnection& c, bool text, std::string_view payload) = 0;
  // Once per connection, never from inside a call the owner made (it is posted).
  virtual void on_closed(WsConnection& c) = 0;
};

// What every connection of one server shares.
struct WsShared {
  asio::io_context& io;
  WsConnectionOwner& owner;
  std::size_t max_message_bytes;
  std::size_t max_send_buffer_bytes;
  std::string read_buffer;  // the loop's one receive buffer
};

class WsConnection : public std::enable_shared_from_this<WsConnection> {
 public:
  // How long a closing handshake may wait for the peer's Close (websocketpp's default).
  static constexpr int kCloseTimeoutMs = 5000;

  WsConnection(asio::ip::tcp::socket socket, std::uint64_t id, WsShared& shared);
  std::uint64_t id() const { return id_; }

  // Parses `leftover` (bytes that arrived behind the upgrade request), then starts reading.
  void start(std::string leftover);
  // A frame (header + payload). See WsServer::send.
  SendResult send(std::string_view head, std::string_view body);
  // The closing handshake: Close(code, reason) after what is queued, then the TCP connection is
  // closed when the peer's Close arrives or after kCloseTimeoutMs.
  void close(std::uint16_t code, std::string_view reason);
  // Immediate TCP teardown.
  void abort();
  bool open() const { return state_ == State::open; }
  std::size_t queued_bytes() const { return out_.size() - out_sent_; }

 private:
  enum class State { open, closing, closed };

  void do_read();
  void on_readable();
  void on_event(const ws::Event& e);
  SendResult write(std::string_view head, std::string_view body);
  void do_write();
  void on_writable();
  void arm_close_timer();
  void half_close_after_write();
  void terminate();

  asio::ip::tcp::socket socket_;
  std::uint64_t id_;
  WsShared& shared_;
  ws::FrameReader reader_;
  std::string out_;  // queued bytes; out_sent_ of them are written
  std::size_t out_sent_ = 0;
  std::unique_ptr<asio::steady_timer> close_timer_;  // only while closing
  State state_ = State::open;
  bool write_waiting_ = false;
  bool close_after_write_ = false;  // we answered the peer's Close: drop TCP once it is written
  bool half_close_after_write_ = false;  // a protocol violation: FIN once our Close is written
};

}  // namespace clickrace::gateway
