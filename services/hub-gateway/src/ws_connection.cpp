#include "ws_connection.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <asio/post.hpp>
#include <cerrno>
#include <chrono>

namespace clickrace::gateway {
namespace {

// Keeps a queue's memory only while it is in use (a burst to a slow reader can grow it).
constexpr std::size_t kKeepCapacity = 4096;

// Non-blocking sendmsg of a and b (MSG_NOSIGNAL: a dead peer is an error, not SIGPIPE).
// Returns the bytes written, 0 when the socket takes nothing now, -1 when the connection is dead.
long write_now(int fd, std::string_view a, std::string_view b) {
  iovec iov[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = b.empty() ? 1 : 2;
  for (;;) {
    ssize_t n = ::sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  }
}

}  // namespace

WsConnection::WsConnection(asio::ip::tcp::socket socket, std::uint64_t id, WsShared& shared)
    : socket_(std::move(socket)), id_(id), shared_(shared), reader_(shared.max_message_bytes) {}

void WsConnection::start(std::string leftover) {
  if (!leftover.empty()) {
    reader_.feed(leftover.data(), leftover.size(), [this](const ws::Event& e) { on_event(e); });
  }
  on_readable();  // the peer may have sent more since the upgrade: read before waiting
}

void WsConnection::do_read() {
  socket_.async_wait(asio::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](const asio::error_code& ec) {
                       if (!ec) self->on_readable();
                     });
}

// Reads until the socket is drained. A read that fills less than the buffer means the kernel had
// no more, so the loop goes back to epoll instead of asking again (Asio's async_read_some would
// try once more and get EAGAIN: one wasted syscall per one-record frame).
void WsConnection::on_readable() {
  auto self = shared_from_this();  // a handler may close and drop this connection
  std::string& buf = shared_.read_buffer;
  const int fd = socket_.native_handle();
  while (state_ != State::closed) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n > 0) {
      reader_.feed(buf.data(), static_cast<std::size_t>(n),
                   [this](const ws::Event& e) { on_event(e); });
      if (static_cast<std::size_t>(n) < buf.size()) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return terminate();  // EOF or a dead connection
  }
  if (state_ != State::closed) do_read();
}

void WsConnection::on_event(const ws::Event& e) {
  using Kind = ws::Event::Kind;
  switch (e.kind) {
    case Kind::message:
      if (state_ == State::open) shared_.owner.on_message(*this, e.text, e.payload);
      return;
    case Kind::ping:
      if (state_ == State::open)
        write(ws::frame_header(ws::Opcode::pong, e.payload.size()), e.payload);
      return;
    case Kind::pong:
      return;
    case Kind::close:
      if (state_ != State::open) return terminate();  // the answer to our Close
      // The peer's Close: echoed (RFC 6455 §5.5.1; no code is answered with 1000, as
      // websocketpp does), then the server closes TCP.
      state_ = State::closing;
      close_after_write_ = true;
      write(ws::close_frame(e.code ? e.code : ws::kCloseNormal, e.payload), {});
      if (queued_bytes() == 0) return terminate();
      return arm_close_timer();
    case Kind::fail:
      // A protocol violation: the stream cannot be parsed any further, so no Close can be read
      // back. Our Close, then FIN; the connection ends at the peer's EOF or the timeout.
      close(e.code, e.payload);
      if (state_ == State::closing) half_close_after_write();
      return;
  }
}

SendResult WsConnection::send(std::string_view head, std::string_view body) {
  if (state_ != State::open) return SendResult::gone;
  return write(head, body);
}

SendResult WsConnection::write(std::string_view head, std::string_view body) {
  if (queued_bytes() > shared_.max_send_buffer_bytes) {
    abort();
    return SendResult::dropped_slow;
  }
  std::size_t done = 0;
  if (queued_bytes() == 0) {
    long n = write_now(socket_.native_handle(), head, body);
    if (n < 0) {
      terminate();
      return SendResult::gone;
    }
    done = static_cast<std::size_t>(n);
    if (done == head.size() + body.size()) return SendResult::ok;
  }
  if (done < head.size()) {
    out_.append(head.substr(done));
    out_.append(body);
  } else {
    out_.append(body.substr(done - head.size()));
  }
  do_write();
  return SendResult::ok;
}

void WsConnection::do_write() {
  if (write_waiting_ || queued_bytes() == 0) return;
  write_waiting_ = true;
  socket_.async_wait(asio::ip::tcp::socket::wait_write,
                     [self = shared_from_this()](const asio::error_code& ec) {
                       self->write_waiting_ = false;
                       if (!ec) self->on_writable();
                     });
}

void WsConnection::on_writable() {
  if (state_ == State::closed) return;
  long n = write_now(socket_.native_handle(), std::string_view(out_).substr(out_sent_), {});
  if (n < 0) return terminate();
  out_sent_ += static_cast<std::size_t>(n);
  if (queued_bytes() > 0) return do_write();
  out_.clear();
  out_sent_ = 0;
  if (out_.capacity() > kKeepCapacity) std::string().swap(out_);
  if (close_after_write_) terminate();
  if (half_close_after_write_) half_close_after_write();
}

void WsConnection::half_close_after_write() {
  half_close_after_write_ = true;
  if (queued_bytes() > 0) return;  // on_writable() comes back here
  asio::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

void WsConnection::close(std::uint16_t code, std::string_view reason) {
  if (state_ != State::open) return;
  state_ = State::closing;
  write(ws::close_frame(code, reason), {});
  if (state_ == State::closing) arm_close_timer();
}

void WsConnection::arm_close_timer() {
  if (close_timer_ || state_ == State::closed) return;
  close_timer_ = std::make_unique<asio::steady_timer>(shared_.io);
  close_timer_->expires_after(std::chrono::milliseconds(kCloseTimeoutMs));
  close_timer_->async_wait([self = shared_from_this()](const asio::error_code& ec) {
    if (!ec) self->terminate();
  });
}

void WsConnection::abort() { terminate(); }

// Closes the socket (which cancels the pending waits) and tells the owner, once, later.
void WsConnection::terminate() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  asio::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  if (close_timer_) close_timer_->cancel();
  std::string().swap(out_);
  out_sent_ = 0;
  asio::post(shared_.io, [self = shared_from_this()] { self->shared_.owner.on_closed(*self); });
}

}  // namespace clickrace::gateway
