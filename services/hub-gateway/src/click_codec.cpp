#include "click_codec.hpp"

#include <cctype>
#include <charconv>

#include "clickrace/signalr/json_codec.hpp"
#include "http_types.hpp"

namespace clickrace::gateway {
namespace {

// A forward-only reader over one record; every method skips JSON whitespace first.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool eat(char c) {
    skip_ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  // A string of printable ASCII without escapes (anything else is left to the full parser).
  std::optional<std::string_view> plain_string() {
    if (!eat('"')) return std::nullopt;
    std::size_t start = i_;
    for (; i_ < s_.size(); ++i_) {
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') return s_.substr(start, i_++ - start);
      if (c == '\\' || c < 0x20 || c > 0x7e) return std::nullopt;
    }
    return std::nullopt;
  }
  // Exactly the integer 1 (not 1.0, 10, 1e0).
  bool one() {
    if (!eat('1')) return false;
    return i_ == s_.size() || !(std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
                                s_[i_] == 'e' || s_[i_] == 'E');
  }
  bool at_end() {
    skip_ws();
    return i_ == s_.size();
  }

 private:
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

std::optional<FastClick> parse_fast_click(std::string_view record) {
  Scanner in(record);
  if (!in.eat('{')) return std::nullopt;
  bool type = false, target = false, arguments = false;
  std::optional<std::string_view> id;
  do {
    auto key = in.plain_string();
    if (!key || !in.eat(':')) return std::nullopt;
    if (*key == "type" && !type) {
      if (!in.one()) return std::nullopt;
      type = true;
    } else if (*key == "target" && !target) {
      auto value = in.plain_string();
      if (!value || !iequals(*value, "Click")) return std::nullopt;
      target = true;
    } else if (*key == "arguments" && !arguments) {
      if (!in.eat('[') || !in.eat(']')) return std::nullopt;
      arguments = true;
    } else if (*key == "invocationId" && !id) {
      id = in.plain_string();
      if (!id || id->empty()) return std::nullopt;
    } else {
      return std::nullopt;  // another key, or a duplicate
    }
  } while (in.eat(','));
  if (!in.eat('}') || !in.at_end() || !type || !target || !arguments) return std::nullopt;
  FastClick click;
  if (id) click.invocation_id = std::string(*id);
  return click;
}

void append_click_completion(std::string& out, std::string_view invocation_id,
                             const ClickAck& ack) {
  char num[24];
  auto append_int = [&](std::int64_t v) {
    auto end = std::to_chars(num, num + sizeof num, v).ptr;
    out.append(num, end);
  };
  out += "{\"type\":3,\"invocationId\":";
  signalr::append_json_string(out, invocation_id);
  out += ",\"result\":{\"round\":";
  append_int(ack.round);
  out += ",\"clicks\":";
  append_int(ack.clicks);
  out += "}}\x1e";
}

}  // namespace clickrace::gateway
