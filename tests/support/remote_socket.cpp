#include "remote_socket.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace clickrace::test {
namespace {

int port_of(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return -1;
}

}  // namespace

int local_port_of(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return -1;
  return port_of(a);
}

std::optional<int> remote_socket_option(pid_t pid, int local_port, int peer_port, int level,
                                        int name) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return std::nullopt;
  std::optional<int> found;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    auto target = std::filesystem::read_symlink(entry.path(), ec);
    if (ec || target.string().rfind("socket:", 0) != 0) continue;
    int remote_fd = std::stoi(entry.path().filename().string());
    int fd = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, remote_fd, 0));
    if (fd < 0) continue;
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    bool match = local_port_of(fd) == local_port &&
                 getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0 &&
                 port_of(peer) == peer_port;
    if (match) {
      int value = 0;
      socklen_t vlen = sizeof value;
      if (getsockopt(fd, level, name, &value, &vlen) == 0) found = value;
    }
    ::close(fd);
    if (match) break;
  }
  ::close(pidfd);
  return found;
}

}  // namespace clickrace::test
