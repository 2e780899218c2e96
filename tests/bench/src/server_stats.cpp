#include "server_stats.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

namespace clickrace::bench {

std::int64_t process_cpu_us(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  // The command name may contain spaces and parentheses: fields start after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(line.substr(close + 2));
  std::string f;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoll(f);
    if (i == 15) stime = std::stoll(f);
  }
  static const long ticks = ::sysconf(_SC_CLK_TCK);
  return (utime + stime) * 1'000'000LL / (ticks > 0 ? ticks : 100);
}

std::int64_t process_rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

RedisCounters read_redis_counters(const Endpoint& redis) {
  RedisCounters c;
  std::string info = redis_command(redis, "INFO commandstats");
  if (info.empty()) return c;
  c.ok = true;
  std::istringstream in(info);
  for (std::string line; std::getline(in, line);) {
    // cmdstat_evalsha:calls=12,usec=34,usec_per_call=2.83,...
    if (line.rfind("cmdstat_", 0) != 0) continue;
    auto colon = line.find(':');
    std::string name = line.substr(8, colon - 8);
    auto field = [&](const std::string& key) -> std::uint64_t {
      auto p = line.find(key + "=", colon);
      return p == std::string::npos ? 0 : std::stoull(line.substr(p + key.size() + 1));
    };
    std::uint64_t calls = field("calls");
    c.calls_total += calls;
    c.usec_total += field("usec");
    if (name == "evalsha" || name == "eval") c.calls_scripts += calls;
  }
  return c;
}

std::map<std::string, double> read_metrics(const Endpoint& gateway) {
  std::map<std::string, double> out;
  HttpResponse res = http_request(gateway, "GET", "/metrics", {});
  if (res.status != 200) return out;
  std::istringstream in(res.body);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.rfind(' ');
    if (sp == std::string::npos) continue;
    try {
      out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
    } catch (...) {
    }
  }
  return out;
}

ServerSnapshot take_snapshot(const std::vector<pid_t>& pids, const std::vector<Endpoint>& redis,
                             const std::vector<Endpoint>& gateways) {
  ServerSnapshot s;
  for (pid_t p : pids) s.cpu_us.push_back(process_cpu_us(p));
  s.redis.ok = !redis.empty();
  for (const auto& node : redis) {
    s.redis_nodes.push_back(read_redis_counters(node));
    const RedisCounters& c = s.redis_nodes.back();
    s.redis.ok = s.redis.ok && c.ok;
    s.redis.calls_total += c.calls_total;
    s.redis.calls_scripts += c.calls_scripts;
    s.redis.usec_total += c.usec_total;
  }
  for (const auto& g : gateways) {
    auto m = read_metrics(g);
    s.click_batches += m["clickrace_gateway_click_batches_total"];
    s.clicks_accepted += m["clickrace_gateway_clicks_accepted_total"];
    for (auto& [k, v] : m) s.metrics[k] += v;
  }
  return s;
}

}  // namespace clickrace::bench
