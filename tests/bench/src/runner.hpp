#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine.hpp"
#include "options.hpp"

// Shared plumbing of the scenarios: tokens, workers, paced connection start, bounded waits.
namespace clickrace::bench {

struct Totals {
  std::uint64_t opened = 0, failed = 0, dropped = 0, acked = 0, click_errors = 0, round_ended = 0,
                pings = 0, offered = 0, sent = 0, unmatched = 0;
};

class Runner {
 public:
  Runner(const Options& opt, Behavior& behavior);
  ~Runner();

  // Logs in `accounts` accounts (through the first gateway). False (and `error`) on failure.
  bool prepare(int accounts, std::string& error);
  // Creates the connections (round-robin over gateways and workers) and starts the workers.
  void create_connections();
  // Starts every connection at opt.rate (0 = as fast as max_connecting allows) and waits until
  // each one is open or failed. Returns seconds from the first start to the last resolution.
  double connect_all();
  Totals totals() const;
  // Polls `done` every 20 ms for at most `timeout_s`; returns whether it became true.
  bool wait_until(const std::function<bool()>& done, double timeout_s);
  void stop();  // closes everything and joins; worker data may be read afterwards

  SharedState shared;
  std::vector<std::unique_ptr<Worker>> workers;

 private:
  const Options& opt_;
  Behavior& behavior_;
  std::vector<std::string> tokens_;
  std::vector<std::pair<Worker*, std::size_t>> order_;  // start order
};

void sleep_seconds(double s);
// "reason": count of every error seen by any worker (after stop()).
std::map<std::string, std::uint64_t> merged_errors(const Runner& r);
// Prints a progress line to stderr.
void progress(const std::string& line);

}  // namespace clickrace::bench
