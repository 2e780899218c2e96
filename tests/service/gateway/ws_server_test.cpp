// WsServer on its own, in process, against a raw socket client: frames written straight to the
// socket and frames queued behind a full socket buffer must reach a slow reader whole and in
// order, and a ping is answered (by us, not by websocketpp) without breaking that order.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <atomic>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ws_server.hpp"

namespace clickrace::gateway {
namespace {

constexpr int kMessages = 6000;  // ~5 MB: more than a socket buffer (tcp_wmem max 4 MB) holds

std::string payload(int i) {
  std::string p = "m" + std::to_string(i) + ":";
  p.resize(i % 7 == 0 ? 200 : 1000, static_cast<char>('a' + i % 26));
  return p;
}

// Accepts every upgrade; on open, sends kMessages frames at once (the reader is not reading).
class Flood : public WsHandler {
 public:
  explicit Flood(WsServer*& server) : server_(server) {}
  void on_http(const HttpRequest&, std::shared_ptr<HttpReply> reply) override {
    (*reply)(HttpResponse::text(404, "no"));
  }
  std::optional<HttpResponse> on_upgrade(ConnId, const HttpRequest&) override {
    return std::nullopt;
  }
  void on_open(ConnId id) override {
    for (int i = 0; i < kMessages; ++i) {
      if (server_->send(id, payload(i)) != SendResult::ok) ++failed;
    }
    PreparedFrame last = WsServer::prepare("last");
    if (server_->send(id, last) != SendResult::ok) ++failed;
  }
  void on_message(ConnId, bool, std::string_view) override {}
  void on_close(ConnId) override {}
  std::atomic<int> failed{0};

 private:
  WsServer*& server_;
};

struct Frame {
  int opcode = 0;
  std::string payload;
};

bool read_exact(int fd, char* p, std::size_t n) {
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

std::optional<Frame> read_frame(int fd) {
  unsigned char h[2];
  if (!read_exact(fd, reinterpret_cast<char*>(h), 2)) return std::nullopt;
  Frame f;
  f.opcode = h[0] & 0x0f;
  std::uint64_t len = h[1] & 0x7f;
  if (len == 126 || len == 127) {
    unsigned char ext[8];
    std::size_t n = len == 126 ? 2 : 8;
    if (!read_exact(fd, reinterpret_cast<char*>(ext), n)) return std::nullopt;
    len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | ext[i];
  }
  f.payload.resize(len);
  if (len > 0 && !read_exact(fd, f.payload.data(), len)) return std::nullopt;
  return f;
}

TEST(WsServerSend, SlowReaderGetsEveryFrameWholeAndInOrder) {
  asio::io_context io;
  WsServer* server_ptr = nullptr;
  Flood handler(server_ptr);
  WsLimits limits;
  limits.max_send_buffer_bytes = 64 * 1024 * 1024;  // never drop this reader
  WsServer server(io, handler, limits);
  server_ptr = &server;
  auto port = server.listen("127.0.0.1", 0);
  ASSERT_TRUE(port);
  auto work = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });

  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;  // a tiny receive window: the server's socket buffer fills up quickly
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(*port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string upgrade =
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  ASSERT_EQ(::send(fd, upgrade.data(), upgrade.size(), 0), static_cast<ssize_t>(upgrade.size()));
  std::string response;
  char c;
  while (response.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1) response += c;
  ASSERT_EQ(response.rfind("HTTP/1.1 101", 0), 0u) << response;

  // Let the flood fill the buffers, then ping (masked, as a client must) before reading.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const unsigned char ping[] = {0x89, 0x82, 1, 2, 3, 4, 'p' ^ 1, '1' ^ 2};
  ASSERT_EQ(::send(fd, ping, sizeof ping, 0), static_cast<ssize_t>(sizeof ping));

  int next = 0, pongs = 0;
  bool last = false;
  while (!last) {
    auto f = read_frame(fd);
    ASSERT_TRUE(f) << "connection ended after " << next << " messages";
    if (f->opcode == 0xA) {
      EXPECT_EQ(f->payload, "p1");
      ++pongs;
      continue;
    }
    ASSERT_EQ(f->opcode, 1);
    if (f->payload == "last") {
      last = true;
      continue;
    }
    ASSERT_EQ(f->payload, payload(next)) << "message " << next;
    ++next;
  }
  EXPECT_EQ(next, kMessages);
  // The pong may come after "last" (the ping is read after the flood was queued).
  while (pongs == 0) {
    auto f = read_frame(fd);
    ASSERT_TRUE(f);
    if (f->opcode == 0xA) ++pongs;
  }
  EXPECT_EQ(pongs, 1);
  EXPECT_EQ(handler.failed, 0);
  ::close(fd);
  asio::post(io, [&] {
    work.reset();
    server.stop_listening();
    io.stop();
  });
  loop.join();
}

}  // namespace
}  // namespace clickrace::gateway
