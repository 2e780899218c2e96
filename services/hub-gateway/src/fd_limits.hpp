#pragma once
#include <cstddef>
#include <cstdint>

// The open-file budget. Every client socket costs a file descriptor, also before its upgrade
// (an idle TCP connection may sit 15 s in the opening handshake). Running out (EMFILE) used to
// make the accept loop spin; now the soft RLIMIT_NOFILE is raised to the hard limit at start-up,
// WebSocket connections are clamped to what fits, and every accepted socket beyond the budget is
// closed at once.
namespace clickrace::gateway {

// Descriptors kept for everything but client sockets: stdio, the listener, the event loop's
// epoll/eventfd/timerfd, the signal pipe, two Redis connections, libsodium's /dev/urandom, logs.
inline constexpr std::uint64_t kReservedFds = 32;

struct FdBudget {
  std::uint64_t nofile = 0;     // the soft RLIMIT_NOFILE in force
  std::size_t max_sockets = 0;  // accepted client sockets (upgraded or not) at once
  int max_connections = 0;      // WebSocket connections: the option, clamped to max_sockets
  bool clamped = false;         // the option did not fit
};

// Pure: what `nofile` descriptors allow for `max_connections` WebSocket connections.
FdBudget fit_fd_budget(std::uint64_t nofile, int max_connections);
// Raises the soft RLIMIT_NOFILE to the hard limit (best effort); returns the soft limit now.
std::uint64_t raise_nofile_limit();
// The soft RLIMIT_NOFILE now.
std::uint64_t current_nofile_limit();

}  // namespace clickrace::gateway
