#pragma once
#include <asio/ip/tcp.hpp>

// Options for every accepted client socket, apart from websocketpp so they can be tested on a
// plain socket.
namespace clickrace::gateway {

// TCP_NODELAY: click completions and events are small writes that must leave at once; Nagle
// would hold one back while an earlier segment is unacknowledged. Errors are ignored (the
// socket works without the option).
void tune_client_socket(asio::ip::tcp::socket& socket);

}  // namespace clickrace::gateway
