#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clickrace/core/result.hpp"

// SignalR binary framing (MessagePack hub protocol): every message is `[VarInt length][body]`.
// The length is 7 bits per byte, least significant group first, high bit = more bytes follow, at
// most 5 bytes (bodies up to 2 GB - 1). A WebSocket message may carry several frames; as with the
// text framing we also accept a frame split across WebSocket messages (a byte stream, as .NET).
namespace clickrace::signalr {

// Appends the VarInt prefix of a `size`-byte body.
void append_varint(std::string& out, std::uint32_t size);
// Appends one frame: the prefix, then `body`.
void append_binary_frame(std::string& out, std::string_view body);

// The length prefix at the start of `data`.
struct FramePrefix {
  std::size_t prefix_bytes = 0;
  std::uint64_t body_size = 0;
};
// nullopt: more bytes are needed to know; Error: not a valid prefix (more than 5 bytes, or a
// length of 2 GB or more).
Result<std::optional<FramePrefix>> read_varint(std::string_view data);

// Splits an inbound byte stream into frame bodies. Memory is bounded by the body limit: a frame
// that announces a larger body fails as soon as its prefix is read.
class BinaryFrameReader {
 public:
  explicit BinaryFrameReader(std::size_t max_body_size);

  // Appends `chunk` (any size, any split) and returns the bodies it completed, in order. A frame
  // of length 0 yields "" (the caller rejects it like any malformed message). On an invalid or
  // over-limit prefix returns an Error and fails for good, as RecordReader does.
  Result<std::vector<std::string>> feed(std::string_view chunk);

  bool failed() const { return failed_; }
  std::size_t buffered() const { return partial_.size(); }
  std::size_t max_body_size() const { return max_body_size_; }

 private:
  std::size_t max_body_size_;
  std::string partial_;
  bool failed_ = false;
};

constexpr std::string_view kFrameTooLargeError = "Message is too large.";
constexpr std::string_view kBadLengthPrefixError = "Invalid message length prefix.";

// The in-place fast path, as for text records: true when `payload` is one or more complete
// frames with valid prefixes and bodies within `max_body`.
bool whole_frames(std::string_view payload, std::size_t max_body);
// Calls `f(body)` for each frame of a payload that passed whole_frames(), until `f` returns false.
template <typename F>
void for_each_frame(std::string_view payload, F&& f) {
  while (!payload.empty()) {
    auto prefix = read_varint(payload);
    if (!prefix || !*prefix) return;
    const std::size_t start = (*prefix)->prefix_bytes;
    const auto size = static_cast<std::size_t>((*prefix)->body_size);
    if (!f(payload.substr(start, size))) return;
    payload.remove_prefix(start + size);
  }
}

}  // namespace clickrace::signalr
