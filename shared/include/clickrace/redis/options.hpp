#pragma once
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "clickrace/core/result.hpp"

namespace clickrace::redis {

// Where and how to connect. Every field has a safe default; parse_url() fills the address part.
struct Options {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;  // empty: `AUTH password` (Redis < 6 style); else `AUTH username password`
  std::string password;  // empty: no AUTH. Never logged.
  int db = 0;            // SELECTed on every (re)connect when non-zero

  // TCP connect plus the AUTH/SELECT/SCRIPT LOAD/PING handshake must finish within this, or the
  // attempt is dropped and retried with backoff. (A SIGSTOPped server still accepts TCP: the PING
  // catches it.)
  std::chrono::milliseconds connect_timeout{2000};
  // TCP keepalive probes on every connection (0 = off): a peer that vanished without a FIN (a
  // partition, a dead host) is noticed by the kernel, even on an idle SUBSCRIBE connection.
  std::chrono::seconds tcp_keepalive{15};
  // Used by the command() overloads without an explicit timeout.
  std::chrono::milliseconds command_timeout{1000};
  // Health policy: when a command times out and the server has sent nothing for this long while
  // commands were waiting, the connection is considered hung: it is dropped and re-established.
  std::chrono::milliseconds unhealthy_after{3000};
  // Reconnect backoff: starts at backoff_initial, doubles up to backoff_max, +-backoff_jitter.
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  double backoff_jitter = 0.2;
  // Bound on commands awaiting a reply (including timed-out ones whose reply has not arrived);
  // beyond it command() fails fast instead of queueing without limit.
  std::size_t max_in_flight = 100000;
};

// Parses `redis://[[user]:password@]host[:port][/db]` (port 6379, db 0 by default). The host may
// be a bracketed IPv6 literal. No percent-decoding. Returns an Error (without the password) when
// the URL is malformed.
Result<Options> parse_url(std::string_view url);

// The same, starting from `base` (timeouts, backoff) and overriding only the address fields.
Result<Options> parse_url(std::string_view url, Options base);

}  // namespace clickrace::redis
