#include "clickrace/redis/cluster_slots.hpp"

#include <array>
#include <cctype>
#include <charconv>

namespace clickrace::redis::cluster {
namespace {

constexpr std::array<std::uint16_t, 256> make_crc16_table() {
  std::array<std::uint16_t, 256> table{};
  for (int i = 0; i < 256; ++i) {
    std::uint16_t crc = static_cast<std::uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021)
                           : static_cast<std::uint16_t>(crc << 1);
    }
    table[i] = crc;
  }
  return table;
}

constexpr auto kCrc16Table = make_crc16_table();

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

std::uint16_t crc16(std::string_view data) {
  std::uint16_t crc = 0;
  for (unsigned char c : data) {
    crc = static_cast<std::uint16_t>((crc << 8) ^ kCrc16Table[((crc >> 8) ^ c) & 0xff]);
  }
  return crc;
}

std::string_view hash_tag(std::string_view key) {
  auto open = key.find('{');
  if (open == std::string_view::npos) return key;
  auto close = key.find('}', open + 1);
  if (close == std::string_view::npos || close == open + 1) return key;
  return key.substr(open + 1, close - open - 1);
}

int key_slot(std::string_view key) { return crc16(hash_tag(key)) & (kSlotCount - 1); }

std::optional<std::string_view> routing_key(const std::vector<std::string>& args) {
  if (args.size() < 2) return std::nullopt;
  std::string upper;
  for (char c : args[0])
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (upper == "EVAL" || upper == "EVALSHA" || upper == "EVAL_RO" || upper == "EVALSHA_RO" ||
      upper == "FCALL" || upper == "FCALL_RO") {
    if (args.size() < 4 || args[2] == "0") return std::nullopt;
    return std::string_view(args[3]);
  }
  static const char* const kKeyless[] = {
      "PING",   "TIME",     "INFO",    "SCRIPT", "WAIT",     "CLUSTER", "ECHO",   "DBSIZE",
      "CONFIG", "FLUSHALL", "FLUSHDB", "ASKING", "READONLY", "AUTH",    "SELECT", "FUNCTION"};
  for (const char* k : kKeyless) {
    if (upper == k) return std::nullopt;
  }
  return std::string_view(args[1]);
}

std::string NodeAddress::str() const {
  std::string p = std::to_string(port);
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + p;
  return host + ":" + p;
}

Result<NodeAddress> parse_address(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return make_error("redis cluster: address needs a port");
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) {
    return make_error("redis cluster: bad port in address");
  }
  return NodeAddress{std::string(host), p};
}

Result<std::vector<NodeAddress>> parse_seeds(std::string_view text) {
  std::vector<NodeAddress> out;
  while (true) {
    auto comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    if (!item.empty()) {
      auto a = parse_address(item);
      if (!a) return a.error();
      if (a->host.empty()) return make_error("redis cluster: seed address needs a host");
      out.push_back(std::move(*a));
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (out.empty()) return make_error("redis cluster: no seed address (host:port,...)");
  return out;
}

}  // namespace clickrace::redis::cluster
