#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "clickrace/client/http_api.hpp"
#include "clickrace/client/hub_client.hpp"

// What every command shares: stopping on Ctrl-C, logging in, connecting, printing results.
namespace clickrace::cli {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

// SIGINT/SIGTERM (and internal requests) end a command. Construct it in main() before any other
// thread starts: it blocks those signals process-wide and waits for them on its own thread.
class Stopper {
 public:
  Stopper();
  ~Stopper();
  void request_stop(int exit_code = kExitOk);
  bool stopped() const { return stopped_.load(); }
  int exit_code() const { return exit_code_.load(); }
  // Waits until stopped or `timeout` passed; returns stopped().
  bool wait_for(std::chrono::milliseconds timeout);
  void wait();

 private:
  std::atomic<bool> stopped_{false};
  std::atomic<int> exit_code_{kExitOk};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread signal_thread_;
};

// One line to stdout (or stderr), whole, flushed: several threads print.
void say(const std::string& line);
void warn(const std::string& line);

// "round 12 ended: winners alice, bob with 17 clicks; total 120 clicks by 20 players"
std::string format_round_result(const nlohmann::json& result);

// Random [a-z0-9] text.
std::string random_text(std::size_t length);

// A login that renews its token shortly before it expires; safe to call from any thread.
class Login {
 public:
  Login(std::string base_url, std::string name, std::string password);
  // Logs in, registering the account first if needed (`new_account`: register straight away,
  // saving one attempt). Retries for up to a minute while the server rate-limits logins.
  Result<client::Session> sign_in(bool new_account = false);
  std::string token();  // for HubClientOptions::access_token_factory
  std::string name() const;

 private:
  client::HttpReply post_with_retry(const std::string& target);
  Result<client::Session> take(const client::HttpReply& reply);

  client::AccountApi api_;
  std::string name_;
  std::string password_;
  mutable std::mutex mu_;
  client::Session session_;
};

// Hub options for `base_url` with the official client's reconnect delays.
client::HubClientOptions hub_options(const std::string& base_url, std::shared_ptr<Login> login);

}  // namespace clickrace::cli
