#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clickrace/core/result.hpp"

// Redis Cluster key distribution (cluster spec, "Key distribution model"): pure functions, no I/O.
namespace clickrace::redis::cluster {

inline constexpr int kSlotCount = 16384;

// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0, not reflected), the checksum Redis
// Cluster hashes keys with. crc16("123456789") == 0x31C3.
std::uint16_t crc16(std::string_view data);

// The part of `key` that is hashed: the text between the first '{' and the first '}' after it
// when that text is not empty ("{user1}.a" and "{user1}.b" share a slot), else the whole key.
std::string_view hash_tag(std::string_view key);

// The slot of `key`: crc16(hash_tag(key)) mod 16384.
int key_slot(std::string_view key);

// A node's address as clients reach it.
struct NodeAddress {
  std::string host;
  int port = 0;
  std::string str() const;  // "host:port" ("[v6]:port" for an IPv6 literal)
  bool operator==(const NodeAddress& o) const { return port == o.port && host == o.host; }
  bool operator!=(const NodeAddress& o) const { return !(*this == o); }
  bool operator<(const NodeAddress& o) const {
    return host != o.host ? host < o.host : port < o.port;
  }
};

// Parses "host:port" or "[v6]:port". An empty host (Redis 7 "unknown endpoint", e.g. ":6380")
// is allowed and left empty: the caller substitutes the host it was talking to.
Result<NodeAddress> parse_address(std::string_view text);

// The key that routes a raw command: the first key of EVAL/EVALSHA/FCALL (none when numkeys is
// 0), none for key-less commands (PING, TIME, INFO, SCRIPT, WAIT, CLUSTER, ...), else args[1].
// (Commands with several keys are routed by their first; they must share its slot anyway.)
std::optional<std::string_view> routing_key(const std::vector<std::string>& args);

// Parses a seed list "host:port,host:port,..." (CLICKRACE_REDIS_CLUSTER); spaces around entries
// are ignored; at least one entry, every host non-empty.
Result<std::vector<NodeAddress>> parse_seeds(std::string_view text);

}  // namespace clickrace::redis::cluster
