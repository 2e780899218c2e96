// The options every accepted client socket gets (ws_server.cpp applies them in websocketpp's
// socket-init hook), checked on a real loopback connection.
#include <gtest/gtest.h>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "socket_options.hpp"

namespace clickrace::gateway {
namespace {

TEST(SocketOptions, AcceptedSocketsGetNoDelay) {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket client(io), server(io);
  client.connect(acceptor.local_endpoint());
  acceptor.accept(server);
  asio::ip::tcp::no_delay before;
  server.get_option(before);
  EXPECT_FALSE(before.value()) << "the kernel default; the test would prove nothing";
  tune_client_socket(server);
  asio::ip::tcp::no_delay after;
  server.get_option(after);
  EXPECT_TRUE(after.value());
}

}  // namespace
}  // namespace clickrace::gateway
