#include "ws_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "process.hpp"

namespace clickrace::test {
namespace {

using Clock = std::chrono::steady_clock;

int tcp_connect(int port) {
  int fd = connect_loopback(port);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool write_fd(int fd, const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads what is available within `timeout` into `buf`; false on EOF/error/timeout.
bool read_fd(int fd, std::string& buf, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (r <= 0) return false;
  char tmp[65536];
  ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf.append(tmp, static_cast<std::size_t>(n));
  return true;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Parses the status line and headers of `head` (up to the blank line).
void parse_head(const std::string& head, HttpResult& out) {
  auto sp = head.find(' ');
  if (sp != std::string::npos) out.status = std::atoi(head.c_str() + sp + 1);
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    std::size_t end = head.find("\r\n", pos + 2);
    std::string line =
        head.substr(pos + 2, end == std::string::npos ? std::string::npos : end - pos - 2);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      std::string v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      out.headers[lower(line.substr(0, colon))] = v;
    }
    pos = end;
  }
}

std::string request_text(const std::string& method, const std::string& target, int port,
                         const std::map<std::string, std::string>& headers, const std::string& body,
                         bool upgrade) {
  std::string req =
      method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  if (upgrade) {
    req +=
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
  } else {
    req += "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    if (!body.empty() && !headers.count("Content-Type")) {
      req += "Content-Type: application/json\r\n";
    }
  }
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  req += body;
  return req;
}

}  // namespace

HttpResult http_request(int port, const std::string& method, const std::string& target,
                        const std::string& body, const std::map<std::string, std::string>& headers,
                        std::chrono::milliseconds timeout) {
  HttpResult out;
  int fd = tcp_connect(port);
  if (fd < 0) return out;
  if (!write_fd(fd, request_text(method, target, port, headers, body, false))) {
    ::close(fd);
    return out;
  }
  std::string buf;
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (!read_fd(fd, buf, left)) break;
    auto end = buf.find("\r\n\r\n");
    if (end != std::string::npos) {
      HttpResult h;
      parse_head(buf.substr(0, end), h);
      auto cl = h.headers.find("content-length");
      if (cl != h.headers.end() && buf.size() - end - 4 >= std::stoul(cl->second)) break;
    }
  }
  ::close(fd);
  auto end = buf.find("\r\n\r\n");
  if (end == std::string::npos) return out;
  parse_head(buf.substr(0, end), out);
  out.body = buf.substr(end + 4);
  return out;
}

WsClient::~WsClient() { close_socket(); }

void WsClient::close_socket() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int WsClient::connect(int port, const std::string& target,
                      const std::map<std::string, std::string>& headers,
                      std::chrono::milliseconds timeout) {
  close_socket();
  buf_.clear();
  closed_ = false;
  close_code_.reset();
  fd_ = tcp_connect(port);
  if (fd_ < 0) return 0;
  if (!write_all(request_text("GET", target, port, headers, "", true))) return 0;
  auto deadline = Clock::now() + timeout;
  while (buf_.find("\r\n\r\n") == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !read_fd(fd_, buf_, left)) break;
  }
  auto end = buf_.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  HttpResult h;
  parse_head(buf_.substr(0, end), h);
  buf_.erase(0, end + 4);
  if (h.status != 101) {
    // The refusal's body follows (the server closes afterwards).
    auto cl = h.headers.find("content-length");
    std::size_t want = cl == h.headers.end() ? 0 : std::stoul(cl->second);
    while (buf_.size() < want && read_fd(fd_, buf_, 1s)) {
    }
    upgrade_body_ = buf_;
    buf_.clear();
    close_socket();
  }
  return h.status;
}

bool WsClient::write_all(const std::string& bytes) { return fd_ >= 0 && write_fd(fd_, bytes); }

bool WsClient::send_raw(const std::string& bytes) { return write_all(bytes); }

bool WsClient::send_frame(int opcode, const std::string& payload, bool fin) {
  static std::mt19937 rng(12345);
  std::string f;
  f += static_cast<char>((fin ? 0x80 : 0) | (opcode & 0x0f));
  std::size_t n = payload.size();
  if (n < 126) {
    f += static_cast<char>(0x80 | n);
  } else if (n < 65536) {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>((n >> 8) & 0xff);
    f += static_cast<char>(n & 0xff);
  } else {
    f += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i)
      f += static_cast<char>((static_cast<uint64_t>(n) >> (8 * i)) & 0xff);
  }
  unsigned char mask[4];
  for (auto& m : mask) m = static_cast<unsigned char>(rng());
  f.append(reinterpret_cast<char*>(mask), 4);
  for (std::size_t i = 0; i < n; ++i) f += static_cast<char>(payload[i] ^ mask[i % 4]);
  return write_all(f);
}

bool WsClient::send_text(const std::string& payload) { return send_frame(1, payload); }
bool WsClient::send_binary(const std::string& payload) { return send_frame(2, payload); }
bool WsClient::send_close(std::uint16_t code) {
  std::string p;
  p += static_cast<char>(code >> 8);
  p += static_cast<char>(code & 0xff);
  return send_frame(8, p);
}

bool WsClient::read_some(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(std::max<long>(0, timeout.count())));
  if (r <= 0) return false;
  char tmp[65536];
  ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
  if (n <= 0) {
    closed_ = true;
    close_socket();
    return false;
  }
  buf_.append(tmp, static_cast<std::size_t>(n));
  return true;
}

std::optional<WsFrame> WsClient::recv(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string message;
  int message_opcode = 0;
  while (true) {
    // Try to parse one frame from buf_.
    if (buf_.size() >= 2) {
      auto b0 = static_cast<unsigned char>(buf_[0]);
      auto b1 = static_cast<unsigned char>(buf_[1]);
      std::size_t len = b1 & 0x7f, off = 2;
      bool have = true;
      if (len == 126) {
        have = buf_.size() >= 4;
        if (have)
          len = (static_cast<unsigned char>(buf_[2]) << 8) | static_cast<unsigned char>(buf_[3]);
        off = 4;
      } else if (len == 127) {
        have = buf_.size() >= 10;
        if (have) {
          len = 0;
          for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<unsigned char>(buf_[2 + i]);
        }
        off = 10;
      }
      if (b1 & 0x80) off += 4;  // servers never mask, but be tolerant
      if (have && buf_.size() >= off + len) {
        WsFrame f;
        f.opcode = b0 & 0x0f;
        f.fin = (b0 & 0x80) != 0;
        f.payload = buf_.substr(off, len);
        buf_.erase(0, off + len);
        if (f.opcode == 9) {
          send_frame(10, f.payload);
          continue;
        }
        if (f.opcode == 10) continue;
        if (f.opcode == 8) {
          closed_ = true;
          if (f.payload.size() >= 2) {
            close_code_ =
                static_cast<std::uint16_t>((static_cast<unsigned char>(f.payload[0]) << 8) |
                                           static_cast<unsigned char>(f.payload[1]));
          }
          return f;
        }
        if (f.opcode != 0) {
          message_opcode = f.opcode;
          message.clear();
        }
        message += f.payload;
        if (f.fin) {
          WsFrame m;
          m.opcode = message_opcode;
          m.payload = std::move(message);
          return m;
        }
        continue;
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !read_some(left)) return std::nullopt;
  }
}

bool WsClient::wait_closed(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!closed_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    if (!recv(left) && !closed_ && Clock::now() >= deadline) return false;
  }
  return true;
}

// ---- HubClient ----

std::string HubClient::connect(int port, const std::string& login_token, bool skip_negotiation) {
  std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + login_token}};
  std::string target = "/hub";
  if (!skip_negotiation) {
    auto neg = http_request(port, "POST", "/hub/negotiate?negotiateVersion=1", "", auth);
    if (neg.status != 200) return "negotiate: " + std::to_string(neg.status) + " " + neg.body;
    auto j = nlohmann::json::parse(neg.body, nullptr, false);
    if (!j.is_object() || !j.contains("connectionToken")) return "negotiate: bad body";
    target += "?id=" + j["connectionToken"].get<std::string>();
  }
  int status = ws_.connect(port, target, auth);
  if (status != 101) return "upgrade: " + std::to_string(status) + " " + ws_.upgrade_body();
  if (!send_record(R"({"protocol":"json","version":1})")) return "handshake: send failed";
  auto reply = next();
  if (!reply) return "handshake: no reply";
  if (!reply->is_object() || !reply->empty()) return "handshake: " + reply->dump();
  return "";
}

bool HubClient::send_record(const std::string& json) { return ws_.send_text(json + "\x1e"); }

std::optional<nlohmann::json> HubClient::next(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    auto rs = partial_.find('\x1e');
    if (rs != std::string::npos) {
      std::string record = partial_.substr(0, rs);
      partial_.erase(0, rs + 1);
      auto j = nlohmann::json::parse(record, nullptr, false);
      if (j.is_discarded()) return nlohmann::json(record);  // raw text for assertions
      return j;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto frame = ws_.recv(left);
    if (!frame || frame->opcode == 8) return std::nullopt;
    partial_ += frame->payload;
  }
}

std::string HubClient::invoke_async(const std::string& target, nlohmann::json args) {
  std::string id = std::to_string(next_id_++);
  nlohmann::json m = {{"type", 1}, {"invocationId", id}, {"target", target}, {"arguments", args}};
  send_record(m.dump());
  return id;
}

bool HubClient::send(const std::string& target, nlohmann::json args) {
  nlohmann::json m = {{"type", 1}, {"target", target}, {"arguments", args}};
  return send_record(m.dump());
}

// A message read while waiting for something else: completions by id, everything else in order.
void HubClient::stash(nlohmann::json m) {
  if (m.is_object() && m.value("type", 0) == 3 && m.contains("invocationId")) {
    std::string id = m["invocationId"].get<std::string>();  // before m is moved from
    completions_[id] = std::move(m);
  } else {
    events_.push_back(std::move(m));
  }
}

std::optional<nlohmann::json> HubClient::completion(const std::string& id,
                                                    std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    auto it = completions_.find(id);
    if (it != completions_.end()) {
      auto j = it->second;
      completions_.erase(it);
      return j;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto m = next(left);
    if (!m) return std::nullopt;
    stash(std::move(*m));
  }
}

std::optional<nlohmann::json> HubClient::invoke(const std::string& target, nlohmann::json args,
                                                std::chrono::milliseconds timeout) {
  return completion(invoke_async(target, std::move(args)), timeout);
}

std::optional<nlohmann::json> HubClient::wait_event(const std::string& target,
                                                    std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::size_t seen = 0;
  while (true) {
    for (; seen < events_.size(); ++seen) {
      const auto& e = events_[seen];
      if (e.is_object() && e.value("type", 0) == 1 && e.value("target", "") == target &&
          e.contains("arguments") && !e["arguments"].empty()) {
        auto arg = e["arguments"][0];
        events_.erase(events_.begin() + static_cast<long>(seen));
        return arg;
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto m = next(left);
    if (!m) return std::nullopt;
    stash(std::move(*m));
  }
}

std::string register_and_login(int port, const std::string& name, const std::string& password) {
  nlohmann::json creds = {{"name", name}, {"password", password}};
  http_request(port, "POST", "/api/accounts", creds.dump());
  auto r = http_request(port, "POST", "/api/sessions", creds.dump());
  if (r.status != 200) return "";
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_object() ? j.value("token", "") : "";
}

}  // namespace clickrace::test
