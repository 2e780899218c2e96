#include "ws_codec.hpp"

#include <cstring>

namespace clickrace::bench {

void append_client_frame(std::string& out, Opcode op, std::string_view payload,
                         std::uint32_t mask_key) {
  const std::size_t n = payload.size();
  char header[14];
  std::size_t h = 0;
  header[h++] = static_cast<char>(0x80 | static_cast<std::uint8_t>(op));
  if (n < 126) {
    header[h++] = static_cast<char>(0x80 | n);
  } else if (n <= 0xFFFF) {
    header[h++] = static_cast<char>(0x80 | 126);
    header[h++] = static_cast<char>(n >> 8);
    header[h++] = static_cast<char>(n & 0xFF);
  } else {
    header[h++] = static_cast<char>(0x80 | 127);
    for (int shift = 56; shift >= 0; shift -= 8) {
      header[h++] = static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF);
    }
  }
  const unsigned char mask[4] = {
      static_cast<unsigned char>(mask_key >> 24), static_cast<unsigned char>(mask_key >> 16),
      static_cast<unsigned char>(mask_key >> 8), static_cast<unsigned char>(mask_key)};
  std::memcpy(header + h, mask, 4);
  h += 4;
  const std::size_t start = out.size();
  out.append(header, h);
  out.append(payload.data(), n);
  char* p = out.data() + start + h;
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>(p[i] ^ mask[i & 3]);
}

DecodeStatus decode_server_frame(std::string_view data, std::size_t max_payload, ServerFrame& frame,
                                 std::size_t& consumed, const char*& error) {
  if (data.size() < 2) return DecodeStatus::need_more;
  const auto b0 = static_cast<std::uint8_t>(data[0]);
  const auto b1 = static_cast<std::uint8_t>(data[1]);
  if (b0 & 0x70) {
    error = "reserved bits set (no extension was negotiated)";
    return DecodeStatus::error;
  }
  if (b1 & 0x80) {
    error = "masked frame from the server";
    return DecodeStatus::error;
  }
  const std::uint8_t op = b0 & 0x0F;
  const bool fin = (b0 & 0x80) != 0;
  const bool control = (op & 0x8) != 0;
  if (op != 0x0 && op != 0x1 && op != 0x2 && op != 0x8 && op != 0x9 && op != 0xA) {
    error = "unknown opcode";
    return DecodeStatus::error;
  }
  std::uint64_t len = b1 & 0x7F;
  std::size_t h = 2;
  if (len == 126) {
    if (data.size() < 4) return DecodeStatus::need_more;
    len = (static_cast<std::uint64_t>(static_cast<std::uint8_t>(data[2])) << 8) |
          static_cast<std::uint8_t>(data[3]);
    h = 4;
  } else if (len == 127) {
    if (data.size() < 10) return DecodeStatus::need_more;
    len = 0;
    for (int i = 2; i < 10; ++i) len = (len << 8) | static_cast<std::uint8_t>(data[i]);
    h = 10;
  }
  if (control && (!fin || len > 125)) {
    error = "fragmented or oversized control frame";
    return DecodeStatus::error;
  }
  if (len > max_payload) {
    error = "frame larger than the limit";
    return DecodeStatus::error;
  }
  if (data.size() - h < len) return DecodeStatus::need_more;
  frame.op = static_cast<Opcode>(op);
  frame.fin = fin;
  frame.payload = data.substr(h, static_cast<std::size_t>(len));
  consumed = h + static_cast<std::size_t>(len);
  return DecodeStatus::frame;
}

}  // namespace clickrace::bench
