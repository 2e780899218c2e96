#include "raw_tcp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "process.hpp"

namespace clickrace::test {
namespace {

using Clock = std::chrono::steady_clock;

// Reads for at most `wait`; false once the peer closed (or on error).
bool read_for(int fd, std::string& out, std::chrono::milliseconds wait) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(std::max<long long>(0, wait.count()))) <= 0) return true;
  char buf[65536];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n <= 0) return false;
  out.append(buf, static_cast<std::size_t>(n));
  return true;
}

void finish(RawResponse& r, Clock::time_point start) {
  r.elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  if (r.text.rfind("HTTP/1.", 0) == 0 && r.text.size() > 12) r.status = std::atoi(&r.text[9]);
}

}  // namespace

RawResponse raw_exchange(int port, const std::string& bytes, std::chrono::milliseconds timeout) {
  RawResponse r;
  auto start = Clock::now();
  int fd = connect_loopback(port);
  if (fd < 0) return r;
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may refuse (and close) before reading everything
    off += static_cast<std::size_t>(n);
  }
  auto deadline = start + timeout;
  while (Clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (!read_for(fd, r.text, left)) {
      r.closed = true;
      break;
    }
  }
  ::close(fd);
  finish(r, start);
  return r;
}

RawResponse trickle(int port, const std::string& bytes, std::chrono::milliseconds gap,
                    std::chrono::milliseconds timeout) {
  RawResponse r;
  auto start = Clock::now();
  int fd = connect_loopback(port);
  if (fd < 0) return r;
  auto deadline = start + timeout;
  std::size_t i = 0;
  while (Clock::now() < deadline) {
    if (i < bytes.size() && ::send(fd, &bytes[i], 1, MSG_NOSIGNAL) == 1) ++i;
    if (!read_for(fd, r.text, gap)) {
      r.closed = true;
      break;
    }
  }
  ::close(fd);
  finish(r, start);
  return r;
}

}  // namespace clickrace::test
