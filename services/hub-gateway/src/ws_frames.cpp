#include "ws_frames.hpp"

#include <cstring>

// websocketpp's validator (header-only, no other websocketpp header): the same UTF-8 rules the
// opening handshake's side of websocketpp applies.
#include <websocketpp/utf8_validator.hpp>

namespace clickrace::gateway::ws {
namespace {

constexpr std::size_t kMaxControlPayload = 125;

bool is_control(Opcode op) { return static_cast<std::uint8_t>(op) & 0x8; }

bool known(std::uint8_t op) { return op <= 0x2 || (op >= 0x8 && op <= 0xA); }

// RFC 6455 §7.4: codes a peer may send in a Close frame (as websocketpp's close::status).
bool valid_close_code(std::uint16_t code) {
  if (code < 1000 || code >= 5000) return false;
  if (code == 1004 || code == 1005 || code == 1006 || code == 1015) return false;
  return !(code >= 1016 && code < 3000);
}

// Hub records are ASCII; the DFA runs only when a byte says otherwise.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (w & 0x8080808080808080ull) break;
  }
  while (i < s.size() && !(static_cast<unsigned char>(s[i]) & 0x80)) ++i;
  if (i == s.size()) return true;
  websocketpp::utf8_validator::validator v;
  return v.decode(s.begin() + static_cast<std::ptrdiff_t>(i), s.end()) && v.complete();
}

// XOR with the 4-byte key, 8 bytes at a time (the key repeated twice is the same in either byte
// order, and every word starts at a multiple of 4).
void unmask(char* p, std::size_t n, const unsigned char key[4]) {
  std::uint32_t k32;
  std::memcpy(&k32, key, 4);
  const std::uint64_t k64 = (static_cast<std::uint64_t>(k32) << 32) | k32;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    w ^= k64;
    std::memcpy(p + i, &w, 8);
  }
  for (; i < n; ++i) p[i] = static_cast<char>(p[i] ^ key[i & 3]);
}

Event failure(std::uint16_t code, std::string_view why) {
  Event e;
  e.kind = Event::Kind::fail;
  e.code = code;
  e.payload = why;
  return e;
}

}  // namespace

std::string frame_header(Opcode op, std::size_t size) {
  std::string h;
  h.reserve(10);
  h.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(op)));
  if (size < 126) {
    h.push_back(static_cast<char>(size));
  } else if (size <= 0xFFFF) {
    h.push_back(static_cast<char>(126));
    h.push_back(static_cast<char>(size >> 8));
    h.push_back(static_cast<char>(size & 0xFF));
  } else {
    h.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      h.push_back(static_cast<char>((static_cast<std::uint64_t>(size) >> shift) & 0xFF));
    }
  }
  return h;
}

std::string close_frame(std::uint16_t code, std::string_view reason) {
  std::string payload;
  if (code != 0) {
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    payload.append(reason.substr(0, kMaxControlPayload - 2));
  }
  return frame_header(Opcode::close, payload.size()) + payload;
}

std::size_t FrameReader::next_frame(char* p, std::size_t n, Frame& f, Event& failed) {
  if (n < 2) return 0;
  const auto b0 = static_cast<std::uint8_t>(p[0]);
  const auto b1 = static_cast<std::uint8_t>(p[1]);
  if (b0 & 0x70) return failed = failure(kCloseProtocolError, "reserved bits set"), 0;
  if (!known(b0 & 0x0F)) return failed = failure(kCloseProtocolError, "unknown opcode"), 0;
  if (!(b1 & 0x80)) return failed = failure(kCloseProtocolError, "unmasked client frame"), 0;
  f.fin = b0 & 0x80;
  f.op = static_cast<Opcode>(b0 & 0x0F);
  std::size_t head = 2;
  std::uint64_t size = b1 & 0x7F;
  if (size == 126 || size == 127) {
    const std::size_t extra = size == 126 ? 2 : 8;
    if (n < head + extra) return 0;
    size = 0;
    for (std::size_t i = 0; i < extra; ++i)
      size = (size << 8) | static_cast<std::uint8_t>(p[2 + i]);
    if (size >> 63) return failed = failure(kCloseProtocolError, "bad frame length"), 0;
    // RFC 6455 §5.2: the minimal number of bytes must be used (websocketpp refuses others too).
    if (size < (extra == 2 ? 126u : 0x10000u)) {
      return failed = failure(kCloseProtocolError, "length not minimally encoded"), 0;
    }
    head += extra;
  }
  if (is_control(f.op)) {
    if (!f.fin) return failed = failure(kCloseProtocolError, "fragmented control frame"), 0;
    if (size > kMaxControlPayload) {
      return failed = failure(kCloseProtocolError, "control frame too long"), 0;
    }
  } else {
    if (f.op == Opcode::continuation && !in_message_) {
      return failed = failure(kCloseProtocolError, "continuation without a message"), 0;
    }
    if (f.op != Opcode::continuation && in_message_) {
      return failed = failure(kCloseProtocolError, "a new message inside a fragmented one"), 0;
    }
    const std::size_t before = in_message_ ? message_.size() : 0;
    if (size > max_message_ || before + size > max_message_) {
      return failed = failure(kCloseTooBig, "message too big"), 0;
    }
  }
  if (n < head + 4 || n - head - 4 < size) return 0;
  unsigned char key[4];
  std::memcpy(key, p + head, 4);
  f.payload = p + head + 4;
  f.size = static_cast<std::size_t>(size);
  unmask(f.payload, f.size, key);
  return head + 4 + f.size;
}

bool FrameReader::to_event(const Frame& f, Event& e) {
  const std::string_view payload(f.payload, f.size);
  switch (f.op) {
    case Opcode::ping:
      e.kind = Event::Kind::ping;
      e.payload = payload;
      return true;
    case Opcode::pong:
      e.kind = Event::Kind::pong;
      e.payload = payload;
      return true;
    case Opcode::close:
      e.kind = Event::Kind::close;
      if (payload.size() == 1) return e = failure(kCloseProtocolError, "bad close payload"), true;
      if (payload.size() >= 2) {
        e.code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                            static_cast<std::uint8_t>(payload[1]));
        if (!valid_close_code(e.code)) {
          return e = failure(kCloseProtocolError, "invalid close code"), true;
        }
        e.payload = payload.substr(2);
        if (!valid_utf8(e.payload)) {
          return e = failure(kCloseInvalidPayload, "invalid UTF-8 in the close reason"), true;
        }
      }
      return true;
    case Opcode::text:
    case Opcode::binary:
      if (!f.fin) {
        in_message_ = true;
        message_text_ = f.op == Opcode::text;
        message_.assign(payload);
        return false;
      }
      e.kind = Event::Kind::message;
      e.text = f.op == Opcode::text;
      e.payload = payload;
      break;
    case Opcode::continuation:
      message_.append(payload);
      if (!f.fin) return false;
      e.kind = Event::Kind::message;
      e.text = message_text_;
      e.payload = message_;
      break;
  }
  if (e.text && !valid_utf8(e.payload)) {
    e = failure(kCloseInvalidPayload, "invalid UTF-8 in a text message");
  }
  return true;
}

void FrameReader::finish_message() {
  in_message_ = false;
  std::string().swap(message_);
}

}  // namespace clickrace::gateway::ws
