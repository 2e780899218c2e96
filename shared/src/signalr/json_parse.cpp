#include "clickrace/signalr/json_parse.hpp"

#include <string>

namespace clickrace::signalr {
namespace {

// True if arrays/objects nest deeper than max_depth. Only tracks strings and brackets; the real
// parser validates everything else. This keeps a 10k-deep "[[[[..." from ever reaching it.
bool nested_too_deeply(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) return true;
        break;
      case ']':
      case '}':
        --depth;
        break;
      default:
        break;
    }
  }
  return false;
}

}  // namespace

Result<nlohmann::json> parse_json_object(std::string_view text, int max_depth) {
  if (nested_too_deeply(text, max_depth)) return Error{"JSON is nested too deeply."};
  nlohmann::json value;
  try {
    // allow_exceptions=false: syntax errors, invalid UTF-8 and out-of-range numbers all come
    // back as a discarded value. The catch is for anything else (e.g. bad_alloc).
    value = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  } catch (...) {
    return Error{"Invalid JSON."};
  }
  if (value.is_discarded()) return Error{"Invalid JSON."};
  if (!value.is_object()) return Error{"Expected a JSON object."};
  return value;
}

}  // namespace clickrace::signalr
