#pragma once
#include <map>
#include <memory>
#include <string>

#include "process.hpp"
#include "redis_server.hpp"
#include "ws_client.hpp"

// A real hub-gateway process on a free port, talking to a test's real redis-server.
namespace clickrace::test {

inline const std::string kTestSecret = "0123456789abcdef0123456789abcdef-test-secret";

struct Gateway {
  Gateway(RedisServer& redis, const std::string& prefix,
          std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> env = {
        {"CLICKRACE_REDIS_URL", redis.url()},
        {"CLICKRACE_KEY_PREFIX", prefix},
        {"CLICKRACE_GATEWAY_PORT", "0"},
        {"CLICKRACE_FAST_PASSWORD_HASH", "1"},
        {"CLICKRACE_LOGIN_ATTEMPTS_PER_MIN", "100000"},
        {"CLICKRACE_LOG_LEVEL", "debug"},
    };
    for (auto& [k, v] : extra) env[k] = v;
    proc =
        std::make_unique<Process>("hub-gateway", std::vector<std::string>{bin("hub-gateway")}, env);
    proc->start();
    port = proc->wait_listening();
  }
  std::unique_ptr<Process> proc;
  int port = 0;
};

// Writes a schedule whose round 1 started a moment ago (as the scheduler would).
inline void write_schedule(RedisSync& r, const std::string& prefix, long long len_ms = 60000) {
  auto now = r.cmd({"TIME"});
  long long ms = std::stoll(now.elements[0].str) * 1000 + std::stoll(now.elements[1].str) / 1000;
  r.cmd({"HSET", prefix + "schedule", "epoch", std::to_string(ms - 10), "len",
         std::to_string(len_ms), "base", "1"});
}

}  // namespace clickrace::test
