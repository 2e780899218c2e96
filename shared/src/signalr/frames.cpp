// Hot-path frames written by hand (no JSON DOM), and the JSON string escaper they share with
// the full serializer.
#include <cstdint>

#include "clickrace/signalr/framing.hpp"
#include "clickrace/signalr/json_codec.hpp"
#include "clickrace/signalr/utf8.hpp"

namespace clickrace::signalr {
namespace {

void append_frame_head(std::string& out, int type) {
  out += "{\"type\":";
  out += std::to_string(type);
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t len = utf8_sequence_length(s, i);
      if (len == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

std::string completion_result(std::string_view invocation_id, std::string_view raw_json_result) {
  std::string out;
  out.reserve(48 + invocation_id.size() + raw_json_result.size());
  append_frame_head(out, 3);
  out += ",\"invocationId\":";
  append_json_string(out, invocation_id);
  out += ",\"result\":";
  out.append(raw_json_result);
  out += '}';
  out += kRecordSeparator;
  return out;
}

std::string completion_error(std::string_view invocation_id, std::string_view text) {
  std::string out;
  out.reserve(48 + invocation_id.size() + text.size());
  append_frame_head(out, 3);
  out += ",\"invocationId\":";
  append_json_string(out, invocation_id);
  out += ",\"error\":";
  append_json_string(out, text);
  out += '}';
  out += kRecordSeparator;
  return out;
}

std::string invocation_frame(std::string_view target, std::string_view raw_json_argument) {
  std::string out;
  out.reserve(48 + target.size() + raw_json_argument.size());
  append_frame_head(out, 1);
  out += ",\"target\":";
  append_json_string(out, target);
  out += ",\"arguments\":[";
  out.append(raw_json_argument);
  out += "]}";
  out += kRecordSeparator;
  return out;
}

std::string close_frame(std::optional<std::string_view> error, bool allow_reconnect) {
  std::string out;
  append_frame_head(out, 7);
  if (error) {
    out += ",\"error\":";
    append_json_string(out, *error);
  }
  if (allow_reconnect) out += ",\"allowReconnect\":true";
  out += '}';
  out += kRecordSeparator;
  return out;
}

}  // namespace clickrace::signalr
