#include "clickrace/signalr/binary_framing.hpp"

namespace clickrace::signalr {
namespace {
constexpr std::size_t kMaxPrefixBytes = 5;
constexpr std::uint64_t kMaxBodySize = 0x7FFFFFFF;  // 2 GB - 1, as the spec and .NET
}  // namespace

void append_varint(std::string& out, std::uint32_t size) {
  do {
    unsigned char b = size & 0x7F;
    size >>= 7;
    if (size != 0) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (size != 0);
}

void append_binary_frame(std::string& out, std::string_view body) {
  append_varint(out, static_cast<std::uint32_t>(body.size()));
  out.append(body);
}

Result<std::optional<FramePrefix>> read_varint(std::string_view data) {
  std::uint64_t size = 0;
  for (std::size_t i = 0; i < kMaxPrefixBytes; ++i) {
    if (i == data.size()) return std::optional<FramePrefix>();
    const auto b = static_cast<unsigned char>(data[i]);
    size |= static_cast<std::uint64_t>(b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) {
      if (size > kMaxBodySize) return Error{std::string(kBadLengthPrefixError)};
      return std::optional<FramePrefix>(FramePrefix{i + 1, size});
    }
  }
  return Error{std::string(kBadLengthPrefixError)};
}

BinaryFrameReader::BinaryFrameReader(std::size_t max_body_size) : max_body_size_(max_body_size) {}

Result<std::vector<std::string>> BinaryFrameReader::feed(std::string_view chunk) {
  auto fail = [this](std::string_view why) {
    failed_ = true;
    std::string().swap(partial_);
    return Error{std::string(why)};
  };
  if (failed_) return fail(kFrameTooLargeError);
  std::vector<std::string> bodies;
  // The common case (nothing held): frames are taken from `chunk` directly.
  std::string_view input = chunk;
  if (!partial_.empty()) {
    partial_.append(chunk);
    input = partial_;
  }
  std::size_t used = 0;
  while (used < input.size()) {
    auto prefix = read_varint(input.substr(used));
    if (!prefix) return fail(prefix.error().message);
    if (!*prefix) break;  // the prefix itself is incomplete
    if ((*prefix)->body_size > max_body_size_) return fail(kFrameTooLargeError);
    const std::size_t start = used + (*prefix)->prefix_bytes;
    const auto size = static_cast<std::size_t>((*prefix)->body_size);
    if (input.size() - start < size) break;  // the body is incomplete
    bodies.emplace_back(input.substr(start, size));
    used = start + size;
  }
  // Keep only the incomplete tail (at most one prefix + one body within the limit). When the
  // tail is already partial_ (nothing consumed), it stays in place: copying it on every chunk
  // would make a frame sent a byte at a time cost quadratic time.
  if (input.data() == partial_.data()) {
    partial_.erase(0, used);
  } else {
    partial_.assign(input.substr(used));
  }
  return bodies;
}

bool whole_frames(std::string_view payload, std::size_t max_body) {
  if (payload.empty()) return false;
  while (!payload.empty()) {
    auto prefix = read_varint(payload);
    if (!prefix || !*prefix) return false;
    if ((*prefix)->body_size > max_body) return false;
    const std::size_t end =
        (*prefix)->prefix_bytes + static_cast<std::size_t>((*prefix)->body_size);
    if (end > payload.size()) return false;
    payload.remove_prefix(end);
  }
  return true;
}

}  // namespace clickrace::signalr
