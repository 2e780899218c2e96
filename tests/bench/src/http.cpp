#include "http.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <cctype>
#include <sstream>
#include <vector>

namespace clickrace::bench {
namespace {

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) !=
        std::tolower(static_cast<unsigned char>(name[i])))
      return false;
  }
  return true;
}

bool open_socket(asio::io_context& io, asio::ip::tcp::socket& sock, const Endpoint& ep,
                 int timeout_ms, std::string& error) {
  asio::error_code ec;
  auto addr = asio::ip::make_address(ep.host, ec);
  if (ec) {
    error = "bad address " + ep.host;
    return false;
  }
  sock.connect(asio::ip::tcp::endpoint(addr, ep.port), ec);
  if (ec) {
    error = "connect: " + ec.message();
    return false;
  }
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(sock.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return true;
}

}  // namespace

bool parse_http_url(std::string_view url, Endpoint& out) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) return false;
  url.remove_prefix(kScheme.size());
  url = url.substr(0, url.find('/'));
  auto colon = url.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  out.host = std::string(url.substr(0, colon));
  if (out.host == "localhost") out.host = "127.0.0.1";
  long port = 0;
  for (char c : url.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + (c - '0');
    if (port > 65535) return false;
  }
  if (port == 0) return false;
  out.port = static_cast<std::uint16_t>(port);
  return true;
}

std::size_t parse_response_head(std::string_view data, int& status, long& content_length) {
  auto end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) return std::string_view::npos;
  std::string_view head = data.substr(0, end);
  status = 0;
  content_length = -1;
  // "HTTP/1.1 200 OK"
  auto sp = head.find(' ');
  if (sp != std::string_view::npos && sp + 4 <= head.size()) {
    int s = 0;
    for (std::size_t i = sp + 1; i < sp + 4; ++i) {
      if (head[i] < '0' || head[i] > '9') {
        s = 0;
        break;
      }
      s = s * 10 + (head[i] - '0');
    }
    status = s;
  }
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos) {
    std::size_t next = head.find("\r\n", pos + 2);
    std::string_view line =
        head.substr(pos + 2, next == std::string_view::npos ? head.npos : next - pos - 2);
    if (iequals_prefix(line, "content-length:")) {
      long v = 0;
      for (char c : line.substr(15)) {
        if (c >= '0' && c <= '9') v = v * 10 + (c - '0');
      }
      content_length = v;
    }
    pos = next;
  }
  return end + 4;
}

namespace {

// The body of a `Transfer-Encoding: chunked` response (Kestrel sends JSON results that way; the
// request says Connection: close, so the whole body is already read).
std::string dechunk(std::string_view data) {
  std::string out;
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t eol = data.find("\r\n", pos);
    if (eol == std::string_view::npos) break;
    std::size_t size = std::strtoul(std::string(data.substr(pos, eol - pos)).c_str(), nullptr, 16);
    if (size == 0 || eol + 2 + size > data.size()) break;
    out.append(data.substr(eol + 2, size));
    pos = eol + 2 + size + 2;
  }
  return out;
}

bool is_chunked(std::string_view head) {
  std::string lower(head);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("transfer-encoding: chunked") != std::string::npos;
}

}  // namespace

HttpResponse http_request(const Endpoint& ep, std::string_view method, std::string_view target,
                          std::string_view body, std::string_view bearer_token, int timeout_ms) {
  HttpResponse res;
  asio::io_context io(1);
  asio::ip::tcp::socket sock(io);
  if (!open_socket(io, sock, ep, timeout_ms, res.error)) return res;
  std::string req;
  req.reserve(256 + body.size());
  req.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
  req.append(ep.host).append(":").append(std::to_string(ep.port)).append("\r\n");
  req.append("Connection: close\r\n");
  if (!bearer_token.empty())
    req.append("Authorization: Bearer ").append(bearer_token).append("\r\n");
  if (!body.empty() || method == "POST") {
    req.append("Content-Type: application/json\r\nContent-Length: ")
        .append(std::to_string(body.size()))
        .append("\r\n");
  }
  req.append("\r\n").append(body);
  asio::error_code ec;
  asio::write(sock, asio::buffer(req), ec);
  if (ec) {
    res.error = "write: " + ec.message();
    return res;
  }
  std::string data;
  char buf[16384];
  long content_length = -1;
  std::size_t body_at = std::string::npos;
  int status = 0;
  for (int i = 0; i < 4096; ++i) {  // bounded: 64 MB at most
    std::size_t n = sock.read_some(asio::buffer(buf), ec);
    data.append(buf, n);
    if (body_at == std::string::npos) body_at = parse_response_head(data, status, content_length);
    if (body_at != std::string::npos && content_length >= 0 &&
        data.size() >= body_at + static_cast<std::size_t>(content_length))
      break;
    if (ec) break;
  }
  if (body_at == std::string::npos) {
    res.error = ec ? "read: " + ec.message() : "incomplete response";
    return res;
  }
  res.status = status;
  res.body = data.substr(
      body_at, content_length >= 0 ? static_cast<std::size_t>(content_length) : std::string::npos);
  if (content_length < 0 && is_chunked(std::string_view(data).substr(0, body_at))) {
    res.body = dechunk(res.body);
  }
  return res;
}

std::string redis_command(const Endpoint& ep, std::string_view words, int timeout_ms) {
  asio::io_context io(1);
  asio::ip::tcp::socket sock(io);
  std::string error;
  if (!open_socket(io, sock, ep, timeout_ms, error)) return {};
  std::vector<std::string> parts;
  std::istringstream in{std::string(words)};
  for (std::string w; in >> w;) parts.push_back(w);
  std::string cmd = "*" + std::to_string(parts.size()) + "\r\n";
  for (auto& p : parts) cmd += "$" + std::to_string(p.size()) + "\r\n" + p + "\r\n";
  asio::error_code ec;
  asio::write(sock, asio::buffer(cmd), ec);
  if (ec) return {};
  std::string data;
  char buf[16384];
  for (int i = 0; i < 4096; ++i) {
    std::size_t n = sock.read_some(asio::buffer(buf), ec);
    data.append(buf, n);
    auto nl = data.find("\r\n");
    if (nl != std::string::npos) {
      if (data[0] != '$' && data[0] != '+') return {};
      if (data[0] == '+') return data.substr(1, nl - 1);
      long len = std::atol(data.c_str() + 1);
      if (len < 0) return {};
      if (data.size() >= nl + 2 + static_cast<std::size_t>(len))
        return data.substr(nl + 2, static_cast<std::size_t>(len));
    }
    if (ec) break;
  }
  return {};
}

}  // namespace clickrace::bench
