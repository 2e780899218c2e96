#include "fd_limits.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <limits>

namespace clickrace::gateway {

FdBudget fit_fd_budget(std::uint64_t nofile, int max_connections) {
  FdBudget b;
  b.nofile = nofile;
  std::uint64_t sockets = nofile > kReservedFds + 1 ? nofile - kReservedFds : 1;
  sockets = std::min<std::uint64_t>(sockets, std::numeric_limits<int>::max());
  b.max_sockets = static_cast<std::size_t>(sockets);
  b.max_connections = static_cast<int>(
      std::min<std::uint64_t>(static_cast<std::uint64_t>(std::max(max_connections, 1)), sockets));
  b.clamped = b.max_connections < max_connections;
  return b;
}

std::uint64_t current_nofile_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return 1024;
  return r.rlim_cur == RLIM_INFINITY ? std::numeric_limits<int>::max() : r.rlim_cur;
}

std::uint64_t raise_nofile_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    rlimit want = r;
    want.rlim_cur = r.rlim_max;
    // A hard limit of "unlimited" may be refused (above fs.nr_open): keep the old soft one.
    setrlimit(RLIMIT_NOFILE, &want);
  }
  return current_nofile_limit();
}

}  // namespace clickrace::gateway
