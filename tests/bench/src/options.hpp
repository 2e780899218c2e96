#pragma once
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "http.hpp"

// Command line of clickrace-loadgen. Every field has a default that suits a quick local run;
// scripts/bench passes the sizes of ../shared/reference/performance.md.
namespace clickrace::bench {

struct Options {
  std::string scenario;                  // clicks | connections | fanout | report
  std::string label;                     // name in the table/JSON (default: scenario)
  std::string protocol = "json";         // hub protocol: json | messagepack (clicks, openloop)
  std::vector<Endpoint> gateways;        // --gateways URL[,URL...]; connections spread round-robin
  int connections = 100;                 // hub connections to open
  int inflight = 8;                      // clicks: Click invocations kept in flight per connection
  double duration_s = 10;                // clicks: measurement window
  double warmup_s = 1;                   // clicks: load before the window opens
  int threads = 1;                       // worker threads, one io_context each
  double rate = 0;                       // new connections per second; 0 = only max_connecting
  int max_connecting = 256;              // connection attempts in progress at once
  int accounts = 0;                      // accounts used; 0 = min(connections, 64|300)
  std::string account_prefix = "bench";  // accounts are <prefix>-<i>
  std::string password = "bench-password-1";
  bool negotiate = true;            // false: skipNegotiation (upgrade on /hub directly)
  int connect_timeout_ms = 15000;   // negotiate + upgrade + handshake deadline
  int keepalive_ms = 10000;         // Ping when idle (the gateway drops clients silent 30 s)
  std::vector<pid_t> gateway_pids;  // for CPU and memory
  // --redis-pid P[,P...]: the Redis processes that run the game's commands (one Redis: its pid;
  // a cluster: its primaries), summed as "redis" and listed per node. --redis-replica-pids: the
  // replicas, reported apart (their CPU is the price of replication, not of a click).
  std::vector<pid_t> redis_pids;
  std::vector<pid_t> redis_replica_pids;
  // --redis HOST:PORT[,...] for INFO commandstats, summed; node i is --redis-pid's i-th process
  // when both lists have the same length (per-node commands in the JSON).
  std::vector<Endpoint> redis;
  int rounds = 3;                   // fanout: RoundEnded events to measure
  double hold_s = 2;                // connections: keep them idle this long, then recheck
  double timeout_s = 120;           // bound on any waiting phase
  std::string json_path;            // --json: write the result here
  std::vector<std::string> inputs;  // report: result files to combine
  std::string machine;              // report: machine description line
  bool quick = false;               // report: small sizes, so no met/MISSED verdicts
  // openloop: a fixed offered rate, one Click record per frame, never waiting for answers.
  double click_rate = 10000;       // --click-rate: offered clicks/s over all connections
  std::string arrivals = "burst";  // burst: every connection's due clicks leave together on a
                                   // tick; spread: one global stream evenly spaced at 1/rate
  double tick_ms = 20;             // burst: tick period; spread: pacing step (1 ms is used)
  bool ack_fifo = false;           // --ack-order fifo: a completion answers the oldest click
                                   // (servers that answer with a fixed reply: the I/O floor)
  bool login = true;               // --no-login: no accounts (the floor has no API)
  double drain_s = 3;              // openloop: wait this long after the window for answers
  double idle_s = 2;               // openloop: the servers' idle CPU is measured this long first
  std::string server_kind = "clickrace";  // --server-kind: a label for the report
};

// Parses argv; on error prints the usage to stderr and returns nullopt.
std::optional<Options> parse_options(int argc, char** argv);
void print_usage();

}  // namespace clickrace::bench
