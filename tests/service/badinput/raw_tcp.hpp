#pragma once
#include <chrono>
#include <string>

// One raw TCP exchange with a server, for requests a well-behaved HTTP client cannot send
// (no Host, bad request lines, duplicate lengths, bytes trickled slowly).
namespace clickrace::test {

struct RawResponse {
  int status = 0;       // from the status line; 0 = no HTTP answer
  std::string text;     // everything received
  bool closed = false;  // the server closed the connection
  long long elapsed_ms = 0;
};

// Sends `bytes`, then reads until the server closes or `timeout` passes.
RawResponse raw_exchange(int port, const std::string& bytes,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

// Sends `bytes` one byte every `gap` (a slowloris), stopping early when the server closes.
// Reads whatever comes back until close or `timeout` after the start.
RawResponse trickle(int port, const std::string& bytes, std::chrono::milliseconds gap,
                    std::chrono::milliseconds timeout);

}  // namespace clickrace::test
