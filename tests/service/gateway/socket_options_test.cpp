// The options every accepted client socket gets, read back (getsockopt) from the sockets the real
// gateway process accepted: a socket option proven on a socket the test built says nothing about
// the server's. (TCP_NODELAY was once set in websocketpp's socket-init hook, which runs before
// accept on a socket with no descriptor: it never reached a client, and Nagle held every click
// completion until the client's next click carried the ACK.)
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "gateway_fixture.hpp"
#include "remote_socket.hpp"

namespace clickrace::test {
namespace {

std::optional<int> gateway_nodelay(const Gateway& gw, int client_fd) {
  std::optional<int> v;
  // accept() may not have run yet when connect() returns: look again for a moment.
  eventually([&] {
    v = remote_socket_option(gw.proc->pid(), gw.port, local_port_of(client_fd), IPPROTO_TCP,
                             TCP_NODELAY);
    return v.has_value();
  });
  return v;
}

TEST(SocketOptions, TheGatewaysAcceptedHubSocketsHaveNoDelay) {
  RedisServer redis;
  Gateway gw(redis, "sockopt:", {{"CLICKRACE_TOKEN_SECRET", kTestSecret}});
  ASSERT_GT(gw.port, 0) << gw.proc->output();
  HubClient c;
  ASSERT_EQ(c.connect(gw.port, register_and_login(gw.port, "Nagle")), "");
  auto v = gateway_nodelay(gw, c.ws().native_handle());
  ASSERT_TRUE(v) << "the gateway's socket for this client was not found (pidfd_getfd refused?)";
  EXPECT_NE(*v, 0) << "TCP_NODELAY is off on the socket the gateway accepted";
}

TEST(SocketOptions, SetAtAcceptBeforeAnyRequestIsRead) {
  RedisServer redis;
  Gateway gw(redis, "sockopt2:", {{"CLICKRACE_TOKEN_SECRET", kTestSecret}});
  ASSERT_GT(gw.port, 0) << gw.proc->output();
  int fd = connect_loopback(gw.port);
  ASSERT_GE(fd, 0);
  auto v = gateway_nodelay(gw, fd);
  ::close(fd);
  ASSERT_TRUE(v);
  EXPECT_NE(*v, 0);
}

}  // namespace
}  // namespace clickrace::test
