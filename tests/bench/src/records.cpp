#include "records.hpp"

namespace clickrace::bench {
namespace {

// Position just after `"key":` (whitespace after the colon skipped), or npos.
std::size_t value_pos(std::string_view json, std::string_view key) {
  std::size_t from = 0;
  while (from < json.size()) {
    std::size_t q = json.find(key, from);
    if (q == std::string_view::npos) return q;
    std::size_t end = q + key.size();
    if (q > 0 && json[q - 1] == '"' && end < json.size() && json[end] == '"') {
      std::size_t p = end + 1;
      while (p < json.size() && (json[p] == ' ' || json[p] == '\t')) ++p;
      if (p < json.size() && json[p] == ':') {
        ++p;
        while (p < json.size() && (json[p] == ' ' || json[p] == '\t')) ++p;
        return p;
      }
    }
    from = q + 1;
  }
  return std::string_view::npos;
}

}  // namespace

std::optional<std::int64_t> find_int(std::string_view json, std::string_view key) {
  std::size_t p = value_pos(json, key);
  if (p == std::string_view::npos || p >= json.size()) return std::nullopt;
  bool neg = false;
  if (json[p] == '-') {
    neg = true;
    ++p;
  }
  if (p >= json.size() || json[p] < '0' || json[p] > '9') return std::nullopt;
  std::int64_t v = 0;
  while (p < json.size() && json[p] >= '0' && json[p] <= '9') {
    v = v * 10 + (json[p] - '0');
    ++p;
  }
  return neg ? -v : v;
}

std::optional<std::string_view> find_string(std::string_view json, std::string_view key) {
  std::size_t p = value_pos(json, key);
  if (p == std::string_view::npos || p >= json.size() || json[p] != '"') return std::nullopt;
  std::size_t end = json.find('"', p + 1);
  if (end == std::string_view::npos) return std::nullopt;
  return json.substr(p + 1, end - p - 1);
}

std::optional<std::uint64_t> parse_u64(std::string_view digits) {
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

RecordInfo scan_record(std::string_view json) {
  RecordInfo info;
  if (auto t = find_int(json, "type")) info.type = static_cast<int>(*t);
  if (info.type == 3) {
    if (auto id = find_string(json, "invocationId")) info.invocation_id = *id;
    info.has_error = value_pos(json, "error") != std::string_view::npos;
  } else if (info.type == 1) {
    if (auto target = find_string(json, "target")) info.target = *target;
  } else if (info.type == -1) {
    info.has_error = value_pos(json, "error") != std::string_view::npos;
  }
  return info;
}

}  // namespace clickrace::bench
