#include "clickrace/signalr/msgpack.hpp"
#include "clickrace/signalr/utf8.hpp"

#include <cstring>
#include <limits>

namespace clickrace::signalr::msgpack {
namespace {

void put_be(std::string& out, unsigned char tag, std::uint64_t v, int bytes) {
  out.push_back(static_cast<char>(tag));
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// Writes the header of a str/bin/array/map of `n` elements: `fix` (or -1 when the type has no
// fix form) and the 8/16/32-bit forms (tag8 -1 when absent).
void sized_header(std::string& out, std::uint64_t n, int fix_base, std::uint64_t fix_max, int tag8,
                  int tag16, int tag32) {
  if (fix_base >= 0 && n <= fix_max) {
    out.push_back(static_cast<char>(fix_base | static_cast<int>(n)));
  } else if (tag8 >= 0 && n <= 0xFF) {
    put_be(out, static_cast<unsigned char>(tag8), n, 1);
  } else if (n <= 0xFFFF) {
    put_be(out, static_cast<unsigned char>(tag16), n, 2);
  } else {
    put_be(out, static_cast<unsigned char>(tag32), n, 4);
  }
}

}  // namespace

void write_nil(std::string& out) { out.push_back(static_cast<char>(0xC0)); }

void write_bool(std::string& out, bool v) { out.push_back(static_cast<char>(v ? 0xC3 : 0xC2)); }

void write_uint(std::string& out, std::uint64_t v) {
  if (v <= 0x7F) {
    out.push_back(static_cast<char>(v));
  } else if (v <= 0xFF) {
    put_be(out, 0xCC, v, 1);
  } else if (v <= 0xFFFF) {
    put_be(out, 0xCD, v, 2);
  } else if (v <= 0xFFFFFFFFull) {
    put_be(out, 0xCE, v, 4);
  } else {
    put_be(out, 0xCF, v, 8);
  }
}

void write_int(std::string& out, std::int64_t v) {
  if (v >= 0) return write_uint(out, static_cast<std::uint64_t>(v));
  const auto u = static_cast<std::uint64_t>(v);
  if (v >= -32) {
    out.push_back(static_cast<char>(v));  // negative fixint 0xe0..0xff
  } else if (v >= std::numeric_limits<std::int8_t>::min()) {
    put_be(out, 0xD0, u, 1);
  } else if (v >= std::numeric_limits<std::int16_t>::min()) {
    put_be(out, 0xD1, u, 2);
  } else if (v >= std::numeric_limits<std::int32_t>::min()) {
    put_be(out, 0xD2, u, 4);
  } else {
    put_be(out, 0xD3, u, 8);
  }
}

void write_double(std::string& out, double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  put_be(out, 0xCB, bits, 8);
}

void write_str(std::string& out, std::string_view s) {
  sized_header(out, s.size(), 0xA0, 31, 0xD9, 0xDA, 0xDB);
  out.append(s);
}

void write_bin(std::string& out, std::string_view bytes) {
  sized_header(out, bytes.size(), -1, 0, 0xC4, 0xC5, 0xC6);
  out.append(bytes);
}

void write_array_header(std::string& out, std::uint32_t n) {
  sized_header(out, n, 0x90, 15, -1, 0xDC, 0xDD);
}

void write_map_header(std::string& out, std::uint32_t n) {
  sized_header(out, n, 0x80, 15, -1, 0xDE, 0xDF);
}

void write_json(std::string& out, const nlohmann::json& value) {
  using T = nlohmann::json::value_t;
  switch (value.type()) {
    case T::null:
    case T::discarded:
      return write_nil(out);
    case T::boolean:
      return write_bool(out, value.get<bool>());
    case T::number_integer:
      return write_int(out, value.get<std::int64_t>());
    case T::number_unsigned:
      return write_uint(out, value.get<std::uint64_t>());
    case T::number_float:
      return write_double(out, value.get<double>());
    case T::string:
      return write_str(out, value.get_ref<const std::string&>());
    case T::array:
      write_array_header(out, static_cast<std::uint32_t>(value.size()));
      for (const auto& v : value) write_json(out, v);
      return;
    case T::object:
      write_map_header(out, static_cast<std::uint32_t>(value.size()));
      for (const auto& [k, v] : value.items()) {
        write_str(out, k);
        write_json(out, v);
      }
      return;
    case T::binary: {
      const auto& bin = value.get_binary();
      std::string_view bytes(reinterpret_cast<const char*>(bin.data()), bin.size());
      if (!bin.has_subtype()) return write_bin(out, bytes);
      sized_header(out, bytes.size(), -1, 0, 0xC7, 0xC8, 0xC9);
      out.push_back(static_cast<char>(static_cast<std::int8_t>(bin.subtype())));
      out.append(bytes);
      return;
    }
  }
}

// ---------------------------------------------------------------- Reader

std::optional<unsigned char> Reader::peek() const {
  if (at_end()) return std::nullopt;
  return static_cast<unsigned char>(data_[pos_]);
}

std::uint64_t Reader::be(std::size_t offset, std::size_t n) const {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    v = (v << 8) | static_cast<unsigned char>(data_[pos_ + offset + i]);
  }
  return v;
}

std::optional<Reader::Head> Reader::str_head() const {
  auto t = peek();
  if (!t) return std::nullopt;
  if (*t >= 0xA0 && *t <= 0xBF) return Head{1, static_cast<std::uint64_t>(*t & 0x1F)};
  std::size_t n = *t == 0xD9 ? 1 : *t == 0xDA ? 2 : *t == 0xDB ? 4 : 0;
  if (n == 0 || !has(1 + n)) return std::nullopt;
  return Head{1 + n, be(1, n)};
}

std::optional<std::uint32_t> Reader::array_header() {
  auto t = peek();
  if (!t) return std::nullopt;
  std::size_t header = 1;
  std::uint64_t n;
  if (*t >= 0x90 && *t <= 0x9F) {
    n = *t & 0x0F;
  } else if ((*t == 0xDC && has(3)) || (*t == 0xDD && has(5))) {
    header = *t == 0xDC ? 3 : 5;
    n = be(1, header - 1);
  } else {
    return std::nullopt;
  }
  // Every element takes at least one byte: a declared size beyond the input is a lie.
  if (n > remaining() - header) return std::nullopt;
  pos_ += header;
  return static_cast<std::uint32_t>(n);
}

std::optional<std::uint32_t> Reader::map_header() {
  auto t = peek();
  if (!t) return std::nullopt;
  std::size_t header = 1;
  std::uint64_t n;
  if (*t >= 0x80 && *t <= 0x8F) {
    n = *t & 0x0F;
  } else if ((*t == 0xDE && has(3)) || (*t == 0xDF && has(5))) {
    header = *t == 0xDE ? 3 : 5;
    n = be(1, header - 1);
  } else {
    return std::nullopt;
  }
  if (n > (remaining() - header) / 2) return std::nullopt;  // a key and a value each
  pos_ += header;
  return static_cast<std::uint32_t>(n);
}

std::optional<std::int64_t> Reader::integer() {
  auto t = peek();
  if (!t) return std::nullopt;
  if (*t <= 0x7F) {
    ++pos_;
    return static_cast<std::int64_t>(*t);
  }
  if (*t >= 0xE0) {
    ++pos_;
    return static_cast<std::int64_t>(static_cast<std::int8_t>(*t));
  }
  std::size_t n;
  bool is_signed;
  switch (*t) {
    case 0xCC:
      n = 1, is_signed = false;
      break;
    case 0xCD:
      n = 2, is_signed = false;
      break;
    case 0xCE:
      n = 4, is_signed = false;
      break;
    case 0xCF:
      n = 8, is_signed = false;
      break;
    case 0xD0:
      n = 1, is_signed = true;
      break;
    case 0xD1:
      n = 2, is_signed = true;
      break;
    case 0xD2:
      n = 4, is_signed = true;
      break;
    case 0xD3:
      n = 8, is_signed = true;
      break;
    default:
      return std::nullopt;
  }
  if (!has(1 + n)) return std::nullopt;
  std::uint64_t raw = be(1, n);
  std::int64_t v;
  if (is_signed) {
    // Sign-extend from n bytes.
    const unsigned shift = static_cast<unsigned>(64 - 8 * n);
    v = static_cast<std::int64_t>(raw << shift) >> shift;
  } else {
    if (raw > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    v = static_cast<std::int64_t>(raw);
  }
  pos_ += 1 + n;
  return v;
}

std::optional<std::string_view> Reader::str() {
  auto h = str_head();
  if (!h || h->size > remaining() - h->header) return std::nullopt;
  std::string_view s = data_.substr(pos_ + h->header, static_cast<std::size_t>(h->size));
  pos_ += h->header + static_cast<std::size_t>(h->size);
  return s;
}

bool Reader::is_nil() const { return peek() == 0xC0; }

bool Reader::nil() {
  if (!is_nil()) return false;
  ++pos_;
  return true;
}

std::optional<bool> Reader::boolean() {
  auto t = peek();
  if (t != 0xC2 && t != 0xC3) return std::nullopt;
  ++pos_;
  return *t == 0xC3;
}

bool Reader::skip(int max_depth) { return value(max_depth).ok(); }

Result<nlohmann::json> Reader::value(int max_depth) {
  using nlohmann::json;
  auto t = peek();
  if (!t) return Error{"Unexpected end of message."};
  const unsigned char tag = *t;
  if (tag <= 0x7F || tag >= 0xE0 || (tag >= 0xCC && tag <= 0xD3)) {
    auto v = integer();
    if (v) return json(*v);
    // uint64 above INT64_MAX: still a valid value.
    if (tag == 0xCF && has(9)) {
      std::uint64_t u = be(1, 8);
      pos_ += 9;
      return json(u);
    }
    return Error{"Unexpected end of message."};
  }
  if ((tag >= 0x80 && tag <= 0x8F) || tag == 0xDE || tag == 0xDF) {
    if (max_depth <= 0) return Error{"Message is nested too deeply."};
    auto n = map_header();
    if (!n) return Error{"Invalid map."};
    json obj = json::object();
    for (std::uint32_t i = 0; i < *n; ++i) {
      auto key = str();
      if (!key) return Error{"Map keys must be strings."};
      if (!valid_utf8(*key)) return Error{"Invalid UTF-8 in a string."};
      auto v = value(max_depth - 1);
      if (!v) return v;
      obj[std::string(*key)] = std::move(*v);
    }
    return obj;
  }
  if ((tag >= 0x90 && tag <= 0x9F) || tag == 0xDC || tag == 0xDD) {
    if (max_depth <= 0) return Error{"Message is nested too deeply."};
    auto n = array_header();
    if (!n) return Error{"Invalid array."};
    json arr = json::array();
    for (std::uint32_t i = 0; i < *n; ++i) {
      auto v = value(max_depth - 1);
      if (!v) return v;
      arr.push_back(std::move(*v));
    }
    return arr;
  }
  if ((tag >= 0xA0 && tag <= 0xBF) || (tag >= 0xD9 && tag <= 0xDB)) {
    auto s = str();
    if (!s) return Error{"Invalid string."};
    if (!valid_utf8(*s)) return Error{"Invalid UTF-8 in a string."};
    return json(std::string(*s));
  }
  switch (tag) {
    case 0xC0:
      ++pos_;
      return json(nullptr);
    case 0xC2:
    case 0xC3:
      ++pos_;
      return json(tag == 0xC3);
    case 0xCA:
    case 0xCB: {
      std::size_t n = tag == 0xCA ? 4 : 8;
      if (!has(1 + n)) return Error{"Unexpected end of message."};
      std::uint64_t raw = be(1, n);
      pos_ += 1 + n;
      if (n == 4) {
        auto bits = static_cast<std::uint32_t>(raw);
        float f;
        std::memcpy(&f, &bits, sizeof f);
        return json(static_cast<double>(f));
      }
      double d;
      std::memcpy(&d, &raw, sizeof d);
      return json(d);
    }
    case 0xC4:
    case 0xC5:
    case 0xC6:
    case 0xC7:
    case 0xC8:
    case 0xC9: {
      const bool ext = tag >= 0xC7;
      const std::size_t n = std::size_t{1} << ((tag - (ext ? 0xC7 : 0xC4)));  // 1, 2, 4
      const std::size_t header = 1 + n + (ext ? 1 : 0);
      if (!has(header)) return Error{"Unexpected end of message."};
      std::uint64_t size = be(1, n);
      if (size > remaining() - header) return Error{"Unexpected end of message."};
      const auto* p = reinterpret_cast<const std::uint8_t*>(data_.data() + pos_ + header);
      json::binary_t bytes(std::vector<std::uint8_t>(p, p + size));
      if (ext) bytes.set_subtype(static_cast<std::uint8_t>(data_[pos_ + 1 + n]));
      pos_ += header + static_cast<std::size_t>(size);
      return json::binary(std::move(bytes));
    }
    case 0xD4:
    case 0xD5:
    case 0xD6:
    case 0xD7:
    case 0xD8: {  // fixext 1, 2, 4, 8, 16
      const std::size_t size = std::size_t{1} << (tag - 0xD4);
      if (!has(2 + size)) return Error{"Unexpected end of message."};
      const auto* p = reinterpret_cast<const std::uint8_t*>(data_.data() + pos_ + 2);
      json::binary_t bytes(std::vector<std::uint8_t>(p, p + size));
      bytes.set_subtype(static_cast<std::uint8_t>(data_[pos_ + 1]));
      pos_ += 2 + size;
      return json::binary(std::move(bytes));
    }
    default:  // 0xC1 is never used
      return Error{"Invalid MessagePack type."};
  }
}

}  // namespace clickrace::signalr::msgpack
