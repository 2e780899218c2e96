#include "accounts.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

namespace clickrace::bench {
namespace {

// One account: register (201, or 409 when it exists from an earlier run), then log in.
// 429 (login rate limit) and 503 are retried a bounded number of times.
std::string token_for(const Endpoint& gw, const std::string& name, const std::string& password,
                      std::string& error) {
  const std::string body = nlohmann::json{{"name", name}, {"password", password}}.dump();
  for (int attempt = 0; attempt < 20; ++attempt) {
    HttpResponse reg = http_request(gw, "POST", "/api/accounts", body, {}, 30000);
    if (reg.status == 201 || reg.status == 409) break;
    if (reg.status != 429 && reg.status != 503 && reg.status != 0) {
      error = "register " + name + ": HTTP " + std::to_string(reg.status) + " " + reg.body;
      return {};
    }
    if (attempt == 19) {
      error = "register " + name + ": " +
              (reg.status ? "HTTP " + std::to_string(reg.status) : reg.error);
      return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  for (int attempt = 0; attempt < 20; ++attempt) {
    HttpResponse login = http_request(gw, "POST", "/api/sessions", body, {}, 30000);
    if (login.status == 200) {
      auto j = nlohmann::json::parse(login.body, nullptr, false);
      if (j.is_object() && j.contains("token") && j["token"].is_string()) return j["token"];
      error = "login " + name + ": no token in reply";
      return {};
    }
    if (login.status != 429 && login.status != 503 && login.status != 0) {
      error = "login " + name + ": HTTP " + std::to_string(login.status) + " " + login.body;
      return {};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  error = "login " + name + ": retries exhausted";
  return {};
}

}  // namespace

std::vector<std::string> obtain_tokens(const Endpoint& gateway, const std::string& prefix,
                                       const std::string& password, int count, std::string& error) {
  std::vector<std::string> tokens(static_cast<std::size_t>(count));
  std::atomic<int> next{0};
  std::mutex error_mutex;
  auto work = [&] {
    for (int i = next++; i < count; i = next++) {
      std::string err;
      tokens[static_cast<std::size_t>(i)] =
          token_for(gateway, prefix + "-" + std::to_string(i), password, err);
      if (!err.empty()) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (error.empty()) error = err;
        next = count;  // stop the others early
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::min(count, 8); ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  if (!error.empty()) return {};
  return tokens;
}

}  // namespace clickrace::bench
