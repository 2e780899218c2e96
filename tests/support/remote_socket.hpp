#pragma once
#include <sys/types.h>

#include <optional>

// Reads a socket option from a socket held by ANOTHER process (the real gateway): the socket is
// duplicated into this process with pidfd_getfd(2) (Linux 5.6+, needs ptrace rights over the
// target: the test runs as the same user or root). This checks an option where it lands, on the
// socket the server really accepted, not on a socket the test built.
namespace clickrace::test {

// The value of (level, name) on `pid`'s TCP socket whose local port is `local_port` and whose
// peer port is `peer_port`; nullopt if no such socket (or pidfd_getfd is not permitted).
std::optional<int> remote_socket_option(pid_t pid, int local_port, int peer_port, int level,
                                        int name);

// The local (ephemeral) port of a connected socket of this process.
int local_port_of(int fd);

}  // namespace clickrace::test
