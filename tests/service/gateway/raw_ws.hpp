#pragma once
// A raw WebSocket client for the transport tests (ws_transport*_test.cpp): frames built byte by
// byte (any length encoding, masked or not, fragmented), bytes written exactly as the test cuts
// them (many frames in one write, one byte per write, frames glued to the upgrade request), and
// every frame the server sends seen as it is (pings, pongs and close frames included, nothing
// answered behind the test's back) plus the end of the TCP stream.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gateway_fixture.hpp"

namespace clickrace::test::rawws {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

enum class Len { minimal, u16, u64 };

// One client frame: masked (as RFC 6455 requires of clients) unless told otherwise.
inline std::string frame(int opcode, std::string_view payload, bool fin = true,
                         Len form = Len::minimal, bool masked = true) {
  std::string f;
  f += static_cast<char>((fin ? 0x80 : 0) | (opcode & 0x0f));
  const std::uint64_t n = payload.size();
  const char mask_bit = masked ? static_cast<char>(0x80) : 0;
  if (form == Len::minimal) form = n < 126 ? Len::minimal : n < 65536 ? Len::u16 : Len::u64;
  if (form == Len::minimal) {
    f += static_cast<char>(mask_bit | static_cast<char>(n));
  } else if (form == Len::u16) {
    f += static_cast<char>(mask_bit | 126);
    f += static_cast<char>((n >> 8) & 0xff);
    f += static_cast<char>(n & 0xff);
  } else {
    f += static_cast<char>(mask_bit | 127);
    for (int i = 7; i >= 0; --i) f += static_cast<char>((n >> (8 * i)) & 0xff);
  }
  if (!masked) return f.append(payload);
  const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
  f.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = 0; i < n; ++i) f += static_cast<char>(payload[i] ^ key[i % 4]);
  return f;
}

inline std::string close_payload(std::uint16_t code, std::string_view reason = "") {
  std::string p{static_cast<char>(code >> 8), static_cast<char>(code & 0xff)};
  return p.append(reason);
}

// A JSON hub invocation record (with its 0x1E separator).
inline std::string invocation(const std::string& id, const std::string& target) {
  return R"({"type":1,"invocationId":")" + id + R"(","target":")" + target +
         R"(","arguments":[]})" + "\x1e";
}
inline const std::string kJsonHandshake =
    std::string(R"({"protocol":"json","version":1})") + "\x1e";

inline std::string upgrade_request(int port, const std::string& token) {
  return "GET /hub HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
         "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer " +
         token + "\r\n\r\n";
}

class RawWs {
 public:
  RawWs() = default;
  ~RawWs() { close_socket(); }
  RawWs(const RawWs&) = delete;
  RawWs& operator=(const RawWs&) = delete;

  // TCP connect and write the upgrade request with `extra` behind it in the same send();
  // returns the HTTP status of the answer (0 when none came).
  int open(int port, const std::string& token, const std::string& extra = "") {
    fd_ = connect_loopback(port);
    if (fd_ < 0) return 0;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!send(upgrade_request(port, token) + extra)) return 0;
    auto deadline = Clock::now() + 5s;
    while (buf_.find("\r\n\r\n") == std::string::npos && read_some(deadline)) {
    }
    auto end = buf_.find("\r\n\r\n");
    if (end == std::string::npos) return 0;
    int status = std::atoi(buf_.c_str() + buf_.find(' ') + 1);
    buf_.erase(0, end + 4);
    return status;
  }
  // Upgrade + JSON hub handshake; true when the server answered "{}".
  bool open_hub(int port, const std::string& token) {
    if (open(port, token) != 101 || !send(frame(1, kJsonHandshake))) return false;
    auto r = next_record();
    return r && r->is_object() && r->empty();
  }

  bool send(std::string_view bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Each byte in its own send() (TCP_NODELAY is set: each leaves as its own segment).
  bool send_bytewise(std::string_view bytes) {
    for (char c : bytes) {
      if (!send(std::string_view(&c, 1))) return false;
    }
    return true;
  }

  // The next frame of any kind, as sent; nullopt on timeout or at the end of the stream.
  std::optional<WsFrame> next_frame(std::chrono::milliseconds timeout = 5s) {
    auto deadline = Clock::now() + timeout;
    while (true) {
      if (auto f = parse()) return f;
      if (!read_some(deadline)) return std::nullopt;
    }
  }
  // The next hub record from data frames; control frames on the way go to controls(), a close
  // frame ends the wait (nullopt).
  std::optional<nlohmann::json> next_record(std::chrono::milliseconds timeout = 5s) {
    auto deadline = Clock::now() + timeout;
    while (true) {
      auto rs = records_.find('\x1e');
      if (rs != std::string::npos) {
        auto j = nlohmann::json::parse(records_.substr(0, rs), nullptr, false);
        records_.erase(0, rs + 1);
        return j;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left <= 0ms) return std::nullopt;
      auto f = next_frame(left);
      if (!f) return std::nullopt;
      if (f->opcode == 1 || f->opcode == 2 || f->opcode == 0) {
        records_ += f->payload;
      } else {
        controls_.push_back(*f);
        if (f->opcode == 8) return std::nullopt;
      }
    }
  }
  // The next record that is not a hub Ping (type 6: keepalive).
  std::optional<nlohmann::json> next_non_ping(std::chrono::milliseconds timeout = 5s) {
    auto deadline = Clock::now() + timeout;
    while (auto r = next_record(
               std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()))) {
      if (!(r->is_object() && r->value("type", 0) == 6)) return r;
    }
    return std::nullopt;
  }
  // Reads (and drops) until the server ends the TCP stream; false on timeout.
  bool wait_eof(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (!eof_) {
      buf_.clear();
      if (!read_some(deadline) && !eof_) return false;
    }
    return true;
  }
  bool eof() const { return eof_; }
  std::vector<WsFrame>& controls() { return controls_; }
  int fd() const { return fd_; }
  void close_socket() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  bool read_some(Clock::time_point deadline) {
    if (fd_ < 0 || eof_) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long>(0, left.count()))) <= 0) return false;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) {
      eof_ = true;  // FIN or RST: the stream has ended either way
      return false;
    }
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }
  std::optional<WsFrame> parse() {
    if (buf_.size() < 2) return std::nullopt;
    auto b = [&](std::size_t i) { return static_cast<unsigned char>(buf_[i]); };
    std::uint64_t len = b(1) & 0x7f;
    std::size_t off = 2;
    if (len >= 126) {
      std::size_t n = len == 126 ? 2 : 8;
      if (buf_.size() < 2 + n) return std::nullopt;
      len = 0;
      for (std::size_t i = 0; i < n; ++i) len = (len << 8) | b(2 + i);
      off += n;
    }
    if (b(1) & 0x80) off += 4;  // a server must not mask; not this client's concern
    if (buf_.size() < off + len) return std::nullopt;
    WsFrame f;
    f.opcode = b(0) & 0x0f;
    f.fin = (b(0) & 0x80) != 0;
    f.payload = buf_.substr(off, len);
    buf_.erase(0, off + len);
    return f;
  }

  int fd_ = -1;
  bool eof_ = false;
  std::string buf_;
  std::string records_;
  std::vector<WsFrame> controls_;
};

// The close code of a close frame's payload (nullopt when it carries none).
inline std::optional<std::uint16_t> close_code(const WsFrame& f) {
  if (f.payload.size() < 2) return std::nullopt;
  return static_cast<std::uint16_t>((static_cast<unsigned char>(f.payload[0]) << 8) |
                                    static_cast<unsigned char>(f.payload[1]));
}

// A gateway for the transport tests: one player may hold many connections and click fast.
class TransportTest : public ::testing::Test {
 protected:
  RedisServer redis;
  RedisSync sync{redis.port()};
  Gateway gw{redis,
             "wst:",
             {{"CLICKRACE_TOKEN_SECRET", kTestSecret},
              {"CLICKRACE_MAX_CLICKS_PER_S", "1000000"},
              {"CLICKRACE_MAX_CONNECTIONS_PER_PLAYER", "1000"},
              {"CLICKRACE_LOG_LEVEL", "info"}}};
  std::string token;
  void SetUp() override {
    ASSERT_GT(gw.port, 0) << gw.proc->output();
    token = register_and_login(gw.port, "Framer");
    ASSERT_FALSE(token.empty());
  }
  // A fresh, well-behaved client is served and the process is the same one.
  void expect_serving() {
    EXPECT_TRUE(gw.proc->running()) << gw.proc->output();
    RawWs c;
    ASSERT_TRUE(c.open_hub(gw.port, token));
    ASSERT_TRUE(c.send(frame(1, invocation("alive", "GetRound"))));
    auto r = c.next_non_ping();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->value("invocationId", ""), "alive") << r->dump();
    EXPECT_TRUE(r->contains("result")) << r->dump();
  }
};

}  // namespace clickrace::test::rawws
