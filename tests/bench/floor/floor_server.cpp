// clickrace-floor: the I/O floor the gateway is measured against (issue 13, performance.md).
// A bare WebSocket endpoint on raw standalone Asio that answers every text frame with one fixed
// reply (a SignalR completion of the same size as the gateway's Click answer): no JSON, no Redis,
// no websocketpp. It does only what any server must do for a one-record frame: a readiness wait,
// one read, finding frame boundaries, one non-blocking send of the replies of that read. So the
// gateway's CPU per click divided by this floor's says how much the gateway adds to the
// unavoidable syscalls, websocketpp included (websocketpp's own per-message work is one of the
// costs the issue wants cut, so it belongs above the floor, not in it).
//
// Usage: clickrace-floor [port]   (0 or none: any free port; prints "listening on <port>")
// Single-threaded, like the gateway. Accepts any upgrade path and ignores auth.
#include <websocketpp/base64/base64.hpp>
#include <websocketpp/sha1/sha1.hpp>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/signal_set.hpp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

namespace {

constexpr std::string_view kHandshakeReply = "{}\x1e";
// Same shape and size as the gateway's answer to Click: {"round":...,"clicks":...}.
constexpr std::string_view kClickReply =
    R"({"type":3,"invocationId":"0","result":{"round":29741760,"clicks":1234}})"
    "\x1e";
constexpr std::size_t kMaxRequest = 16 * 1024;
constexpr std::size_t kMaxFrame = 64 * 1024;

void append_frame(std::string& out, unsigned char op, std::string_view payload) {
  out.push_back(static_cast<char>(0x80 | op));
  if (payload.size() < 126) {
    out.push_back(static_cast<char>(payload.size()));
  } else {
    out.push_back(126);
    out.push_back(static_cast<char>(payload.size() >> 8));
    out.push_back(static_cast<char>(payload.size() & 0xFF));
  }
  out.append(payload);
}

std::string accept_key(std::string_view key) {
  std::string s(key);
  s += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char hash[20];
  websocketpp::sha1::calc(s.data(), s.size(), hash);
  return websocketpp::base64_encode(hash, sizeof hash);
}

std::string_view header_value(std::string_view req, std::string_view name) {
  std::size_t pos = 0;
  while ((pos = req.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    if (req.size() - pos < name.size() + 1) break;
    if (strncasecmp(req.data() + pos, name.data(), name.size()) == 0 &&
        req[pos + name.size()] == ':') {
      std::size_t v = pos + name.size() + 1;
      while (v < req.size() && req[v] == ' ') ++v;
      std::size_t end = req.find("\r\n", v);
      return req.substr(v, end - v);
    }
  }
  return {};
}

class Server;

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(Server& server, asio::ip::tcp::socket sock) : server_(server), sock_(std::move(sock)) {}
  void start() {
    asio::error_code ec;
    sock_.set_option(asio::ip::tcp::no_delay(true), ec);
    sock_.non_blocking(true, ec);
    arm_read();
  }

 private:
  void arm_read();
  void on_readable();
  bool on_data(std::string_view data, std::size_t& used);
  bool on_frames(std::string_view data, std::size_t& used);
  void send();
  void close();

  Server& server_;
  asio::ip::tcp::socket sock_;
  std::string in_;   // a partial request or frame
  std::string out_;  // replies the socket has not taken yet
  bool upgraded_ = false;
  bool handshaken_ = false;
  bool closed_ = false;
  bool write_waiting_ = false;
};

class Server {
 public:
  Server(asio::io_context& io, unsigned short port)
      : acceptor_(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)) {
    acceptor_.listen(4096);
    std::printf("listening on %u\n", acceptor_.local_endpoint().port());
    std::fflush(stdout);
    accept();
  }
  char read_buf[64 * 1024];  // shared: reads happen one at a time on this thread
  std::unordered_set<std::shared_ptr<Conn>> conns;

 private:
  void accept() {
    acceptor_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket s) {
      if (!ec) {
        auto c = std::make_shared<Conn>(*this, std::move(s));
        conns.insert(c);
        c->start();
      }
      if (ec != asio::error::operation_aborted) accept();
    });
  }
  asio::ip::tcp::acceptor acceptor_;
};

void Conn::arm_read() {
  sock_.async_wait(asio::ip::tcp::socket::wait_read,
                   [self = shared_from_this()](const asio::error_code& ec) {
                     if (self->closed_) return;
                     if (ec) return self->close();
                     self->on_readable();
                   });
}

// One read per readiness event (a second read only when the buffer came back full).
void Conn::on_readable() {
  for (;;) {
    asio::error_code ec;
    std::size_t n = sock_.read_some(asio::buffer(server_.read_buf), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) return close();
    std::size_t used = 0;
    if (in_.empty()) {
      std::string_view view(server_.read_buf, n);
      if (!on_data(view, used)) return close();
      in_.assign(view.substr(used));
    } else {
      in_.append(server_.read_buf, n);
      if (!on_data(in_, used)) return close();
      in_.erase(0, used);
    }
    if (n < sizeof server_.read_buf) break;
  }
  send();
  if (!closed_) arm_read();
}

bool Conn::on_data(std::string_view data, std::size_t& used) {
  used = 0;
  if (!upgraded_) {
    std::size_t end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) return data.size() <= kMaxRequest;
    std::string_view key = header_value(data.substr(0, end + 2), "Sec-WebSocket-Key");
    if (key.empty()) return false;
    out_ += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    out_ += "Sec-WebSocket-Accept: " + accept_key(key) + "\r\n\r\n";
    upgraded_ = true;
    used = end + 4;
    std::size_t more = 0;
    bool ok = on_frames(data.substr(used), more);
    used += more;
    return ok;
  }
  return on_frames(data, used);
}

// Finds frame boundaries; payloads of text frames are not even unmasked (nothing reads them).
bool Conn::on_frames(std::string_view data, std::size_t& used) {
  used = 0;
  while (data.size() - used >= 2) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data() + used);
    const std::size_t avail = data.size() - used;
    const unsigned op = p[0] & 0x0F;
    const bool fin = p[0] & 0x80;
    std::size_t len = p[1] & 0x7F, head = 2;
    if (len == 126) {
      if (avail < 4) break;
      len = (std::size_t{p[2]} << 8) | p[3];
      head = 4;
    } else if (len == 127) {
      return false;  // nothing this big is expected
    }
    if (!(p[1] & 0x80) || len > kMaxFrame) return false;  // clients must mask
    head += 4;
    if (avail < head + len) break;
    if (op == 0x8) return false;  // close
    if (op == 0x9) {              // ping → pong with the unmasked payload
      std::string payload(reinterpret_cast<const char*>(p + head), len);
      for (std::size_t i = 0; i < len; ++i) payload[i] ^= static_cast<char>(p[head - 4 + (i & 3)]);
      append_frame(out_, 0xA, payload);
    } else if ((op == 0x1 || op == 0x0) && fin) {
      append_frame(out_, 0x1, handshaken_ ? kClickReply : kHandshakeReply);
      handshaken_ = true;
    }
    used += head + len;
  }
  return true;
}

void Conn::send() {
  if (out_.empty() || write_waiting_ || closed_) return;
  asio::error_code ec;
  std::size_t n = sock_.write_some(asio::buffer(out_), ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return close();
  out_.erase(0, n);
  if (out_.empty()) return;
  write_waiting_ = true;
  sock_.async_wait(asio::ip::tcp::socket::wait_write,
                   [self = shared_from_this()](const asio::error_code& e) {
                     self->write_waiting_ = false;
                     if (self->closed_) return;
                     if (e) return self->close();
                     self->send();
                   });
}

void Conn::close() {
  if (closed_) return;
  closed_ = true;
  asio::error_code ec;
  sock_.close(ec);
  server_.conns.erase(shared_from_this());
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = argc > 1 ? static_cast<unsigned short>(std::atoi(argv[1])) : 0;
  asio::io_context io{1};
  Server server(io, port);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code&, int) { io.stop(); });
  io.run();
  return 0;
}
