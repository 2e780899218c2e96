#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

// The server side of RFC 6455 framing for upgraded connections, with no I/O: client frames in
// (masked, possibly fragmented, split anywhere across reads), events out; and the header of the
// unmasked frames a server sends. ws_connection.cpp is its transport.
namespace clickrace::gateway::ws {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

// Close codes this layer sends (RFC 6455 §7.4.1).
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseInvalidPayload = 1007;
inline constexpr std::uint16_t kCloseTooBig = 1009;

// The header of a final, unmasked frame (what a server sends): 2, 4 or 10 bytes.
std::string frame_header(Opcode op, std::size_t payload_size);
// A Close frame: the code (none when 0) and the reason (cut to the 123 bytes a control frame
// leaves), header included.
std::string close_frame(std::uint16_t code, std::string_view reason);

// What the peer sent. The views point into the bytes given to feed() (or into the reader's own
// buffers) and are valid only during the callback.
struct Event {
  enum class Kind { message, ping, pong, close, fail };
  Kind kind = Kind::message;
  bool text = false;         // message: a text (else binary) message
  std::string_view payload;  // message, ping, pong: the payload; close, fail: the reason
  std::uint16_t code = 0;    // close: the peer's code (0: none given); fail: the code to send
};

// Reads client frames. The payload of a complete frame is unmasked in place (8 bytes at a time)
// and handed out without a copy; only an incomplete frame's bytes and the fragments of an
// unfinished message are kept, so an idle connection holds no buffer. A frame is refused from
// its header: an oversized message is failed before its payload is read, and the bytes kept are
// bounded by the message limit. After a close or fail event the reader reports nothing more.
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_message_bytes) : max_message_(max_message_bytes) {}

  // Parses `data` (modified). `on(const Event&)` is called for every event, in order.
  template <class OnEvent>
  void feed(char* data, std::size_t size, OnEvent&& on);

  bool done() const { return done_; }
  // Bytes held for an incomplete frame or message (the tests' view of the memory bound).
  std::size_t held() const { return pending_.size() + message_.size(); }

 private:
  struct Frame {
    bool fin = false;
    Opcode op = Opcode::continuation;
    char* payload = nullptr;
    std::size_t size = 0;
  };
  // The size of the complete frame at [p, p + n) (unmasked into `f`), 0 when it is not complete
  // yet; on a protocol violation sets `failure` and returns 0.
  std::size_t next_frame(char* p, std::size_t n, Frame& f, Event& failure);
  // Turns a frame into its event; false when there is none (a non-final fragment).
  bool to_event(const Frame& f, Event& e);
  template <class OnEvent>
  std::size_t parse(char* p, std::size_t n, OnEvent& on);
  void finish_message();

  std::size_t max_message_;
  std::string pending_;  // the bytes of an incomplete frame
  std::string message_;  // the fragments of an unfinished message
  bool in_message_ = false;
  bool message_text_ = false;
  bool done_ = false;
};

template <class OnEvent>
std::size_t FrameReader::parse(char* p, std::size_t n, OnEvent& on) {
  std::size_t used = 0;
  while (!done_ && used < n) {
    Frame f;
    Event e;
    std::size_t size = next_frame(p + used, n - used, f, e);
    if (e.kind == Event::Kind::fail) {
      done_ = true;
      on(static_cast<const Event&>(e));
      break;
    }
    if (size == 0) break;
    used += size;
    if (!to_event(f, e)) continue;
    if (e.kind == Event::Kind::close || e.kind == Event::Kind::fail) done_ = true;
    on(static_cast<const Event&>(e));
    if (e.kind == Event::Kind::message && in_message_) finish_message();
  }
  return used;
}

template <class OnEvent>
void FrameReader::feed(char* data, std::size_t size, OnEvent&& on) {
  if (done_) return;
  if (pending_.empty()) {
    std::size_t used = parse(data, size, on);
    if (!done_ && used < size) pending_.assign(data + used, size - used);
    return;
  }
  pending_.append(data, size);
  std::size_t used = parse(pending_.data(), pending_.size(), on);
  if (done_ || used == pending_.size()) {
    std::string().swap(pending_);  // an idle connection holds no buffer
  } else {
    pending_.erase(0, used);
  }
}

}  // namespace clickrace::gateway::ws
