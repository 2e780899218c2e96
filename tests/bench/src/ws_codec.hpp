#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// Client side of RFC 6455 framing, no I/O: the load generator masks what it sends and reads the
// server's unmasked frames. No extensions (the gateway negotiates none).
namespace clickrace::bench {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Appends one complete (FIN) frame carrying `payload`, masked with `mask_key`, to `out`.
void append_client_frame(std::string& out, Opcode op, std::string_view payload,
                         std::uint32_t mask_key);

struct ServerFrame {
  Opcode op = Opcode::text;
  bool fin = true;
  std::string_view payload;  // points into the decoded buffer
};

enum class DecodeStatus { frame, need_more, error };

// Decodes the first frame of `data`. On `frame`, `consumed` is its total length. On `error`,
// `error` says why (masked server frame, bad control frame, payload above `max_payload`, ...).
DecodeStatus decode_server_frame(std::string_view data, std::size_t max_payload, ServerFrame& frame,
                                 std::size_t& consumed, const char*& error);

}  // namespace clickrace::bench
