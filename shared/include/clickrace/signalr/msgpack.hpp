#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "clickrace/core/result.hpp"

// The MessagePack value format (msgpack.org spec), the part the SignalR MessagePack hub protocol
// needs: a writer that appends to a std::string and a bounds-checked reader over untrusted bytes.
//
// Written by hand rather than with Debian's msgpack-c (libmsgpack-dev): the hub's hot path reads
// a Click invocation in place and writes its completion straight into the connection's output,
// with no allocation; msgpack-c's unpacker builds an object tree in a zone per message and its
// packer writes through a callback, and the hub's values (nlohmann::json, as in the JSON
// protocol) would still need a converter on top. What remains is ~300 lines over a small,
// stable spec, tested byte by byte and fuzzed (tests/unit/signalr, tests/fuzz).
namespace clickrace::signalr::msgpack {

// ---- writing (always the smallest encoding, as .NET's MessagePack writer) ----
void write_nil(std::string& out);
void write_bool(std::string& out, bool v);
void write_int(std::string& out, std::int64_t v);
void write_uint(std::string& out, std::uint64_t v);
void write_double(std::string& out, double v);
// `s` is written as a str; its bytes are not checked (pass valid UTF-8).
void write_str(std::string& out, std::string_view s);
void write_bin(std::string& out, std::string_view bytes);
void write_array_header(std::string& out, std::uint32_t n);
void write_map_header(std::string& out, std::uint32_t n);
// Any JSON value: null/bool/integers/floats/strings/arrays/objects map one to one; json binary
// values become bin (or ext, when they carry a subtype).
void write_json(std::string& out, const nlohmann::json& value);

// ---- reading ----
// A cursor over one message body. Every read checks the remaining bytes and the type, and
// leaves the cursor unchanged on failure. No method throws.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  std::size_t remaining() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ == data_.size(); }

  std::optional<std::uint32_t> array_header();
  std::optional<std::uint32_t> map_header();
  // Any integer format, as a signed 64-bit value (a uint64 above INT64_MAX fails).
  std::optional<std::int64_t> integer();
  // A str, as a view into the input (not checked for UTF-8).
  std::optional<std::string_view> str();
  bool nil();  // consumes a nil if one is next
  bool is_nil() const;
  std::optional<bool> boolean();
  // Skips one complete value of any type (nested to at most `max_depth`).
  bool skip(int max_depth);
  // Reads one complete value as JSON (nested to at most `max_depth`). Map keys must be str;
  // str values must be valid UTF-8; bin becomes a json binary, ext a json binary with subtype.
  Result<nlohmann::json> value(int max_depth);

 private:
  // Next byte without consuming it; nullopt at the end.
  std::optional<unsigned char> peek() const;
  // Reads a big-endian unsigned integer of `n` bytes (1, 2, 4, 8) at pos_ + offset.
  std::uint64_t be(std::size_t offset, std::size_t n) const;
  bool has(std::size_t n) const { return remaining() >= n; }
  // For str/bin/ext/array/map: the header length and the declared size of what follows.
  struct Head {
    std::size_t header = 0;
    std::uint64_t size = 0;
  };
  std::optional<Head> str_head() const;

  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace clickrace::signalr::msgpack
