#include "socket_options.hpp"

namespace clickrace::gateway {

void tune_client_socket(asio::ip::tcp::socket& socket) {
  asio::error_code ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
}

}  // namespace clickrace::gateway
