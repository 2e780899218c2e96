#include "msgpack_records.hpp"

namespace clickrace::bench {
namespace {

void append_varint(std::string& out, std::size_t n) {
  do {
    unsigned char b = n & 0x7F;
    n >>= 7;
    if (n) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (n);
}

// A cursor over one message body; every read is bounds-checked.
struct Reader {
  std::string_view s;
  std::size_t p = 0;
  bool ok = true;

  unsigned char byte() {
    if (p >= s.size()) {
      ok = false;
      return 0;
    }
    return static_cast<unsigned char>(s[p++]);
  }
  std::uint64_t be(int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | byte();
    return v;
  }
  // Array header: the element count.
  std::size_t array() {
    unsigned char b = byte();
    if ((b & 0xF0) == 0x90) return b & 0x0F;
    if (b == 0xDC) return be(2);
    if (b == 0xDD) return be(4);
    ok = false;
    return 0;
  }
  std::optional<std::int64_t> integer() {
    unsigned char b = byte();
    if (b <= 0x7F) return b;
    if (b >= 0xE0) return static_cast<std::int8_t>(b);
    switch (b) {
      case 0xCC:
        return be(1);
      case 0xCD:
        return be(2);
      case 0xCE:
        return be(4);
      case 0xCF:
        return static_cast<std::int64_t>(be(8));
      case 0xD0:
        return static_cast<std::int8_t>(be(1));
      case 0xD1:
        return static_cast<std::int16_t>(be(2));
      case 0xD2:
        return static_cast<std::int32_t>(be(4));
      case 0xD3:
        return static_cast<std::int64_t>(be(8));
      default:
        ok = false;
        return std::nullopt;
    }
  }
  std::optional<std::string_view> str() {
    unsigned char b = byte();
    std::size_t n;
    if ((b & 0xE0) == 0xA0) {
      n = b & 0x1F;
    } else if (b == 0xD9) {
      n = be(1);
    } else if (b == 0xDA) {
      n = be(2);
    } else if (b == 0xDB) {
      n = be(4);
    } else {
      if (b != 0xC0) ok = false;  // nil is a legal "no string"
      return std::nullopt;
    }
    if (!ok || s.size() - p < n) {
      ok = false;
      return std::nullopt;
    }
    auto v = s.substr(p, n);
    p += n;
    return v;
  }
  // Skips the headers map (the hub sends an empty one; keys and values are strings).
  void headers() {
    unsigned char b = byte();
    std::size_t n;
    if ((b & 0xF0) == 0x80) {
      n = b & 0x0F;
    } else if (b == 0xDE) {
      n = be(2);
    } else {
      ok = false;
      return;
    }
    for (std::size_t i = 0; i < 2 * n && ok; ++i) str();
  }
};

}  // namespace

void append_msgpack_click(std::string& out, std::uint64_t id) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + id % 10);
    id /= 10;
  } while (id);
  // 0x95 [ 0x01, 0x80 {}, fixstr id, fixstr "Click", 0x90 [] ]
  std::size_t body = 1 + 1 + 1 + (1 + n) + 6 + 1;
  append_varint(out, body);
  out.push_back(static_cast<char>(0x95));
  out.push_back(0x01);
  out.push_back(static_cast<char>(0x80));
  out.push_back(static_cast<char>(0xA0 | n));
  for (int i = n - 1; i >= 0; --i) out.push_back(digits[i]);
  out.append(
      "\xA5"
      "Click",
      6);
  out.push_back(static_cast<char>(0x90));
}

void append_msgpack_ping(std::string& out) { out.append("\x02\x91\x06", 3); }

std::optional<std::string_view> next_msgpack_frame(std::string_view& data, bool& bad) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < 5; ++i) {
    if (i >= data.size()) return std::nullopt;
    auto b = static_cast<unsigned char>(data[i]);
    n |= static_cast<std::size_t>(b & 0x7F) << (7 * i);
    if (!(b & 0x80)) {
      if (data.size() - (i + 1) < n) return std::nullopt;
      auto body = data.substr(i + 1, n);
      data.remove_prefix(i + 1 + n);
      return body;
    }
  }
  bad = true;
  return std::nullopt;
}

MsgpackInfo scan_msgpack(std::string_view body) {
  MsgpackInfo info;
  Reader r{body};
  std::size_t count = r.array();
  auto type = r.integer();
  if (!r.ok || count < 1 || !type) return info;
  info.type = static_cast<int>(*type);
  if (info.type == 3 && count >= 4) {  // [3, headers, id, kind, result?]
    r.headers();
    auto id = r.str();
    auto kind = r.integer();
    if (!r.ok || !id || !kind) return MsgpackInfo{};
    std::uint64_t v = 0;
    info.has_id = !id->empty() && id->size() <= 19;
    for (char ch : *id) {
      if (ch < '0' || ch > '9') info.has_id = false;
      v = v * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    info.invocation_id = v;
    if (*kind == 1) {
      info.has_error = true;
      if (auto e = r.str()) info.error = *e;
    }
  } else if (info.type == 1 && count >= 5) {  // [1, headers, id|nil, target, args]
    r.headers();
    r.str();
    if (auto t = r.str()) info.target = *t;
  }
  return info;
}

}  // namespace clickrace::bench
