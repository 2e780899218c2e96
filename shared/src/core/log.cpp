#include "clickrace/core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace clickrace::core {
namespace {

std::atomic<LogLevel> g_level{LogLevel::info};
std::mutex g_component_mutex;
std::string g_component = "clickrace";

constexpr std::string_view kLevelNames[] = {"trace", "debug", "info", "warn", "error", "off"};

bool is_secret_param(std::string_view key) {
  return key == "access_token" || key == "id" || key == "token" || key == "password";
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view name) {
  for (size_t i = 0; i < std::size(kLevelNames); ++i) {
    if (kLevelNames[i] == name) return static_cast<LogLevel>(i);
  }
  if (name == "warning") return LogLevel::warn;
  return std::nullopt;
}

std::string_view log_level_name(LogLevel level) { return kLevelNames[static_cast<int>(level)]; }

void set_log_level(LogLevel level) { g_level.store(level); }
LogLevel log_level() { return g_level.load(std::memory_order_relaxed); }

void set_log_component(std::string name) {
  std::lock_guard<std::mutex> lock(g_component_mutex);
  g_component = std::move(name);
}

std::string redact_query(std::string_view url) {
  auto q = url.find('?');
  std::string out(url.substr(0, q == std::string_view::npos ? url.size() : q + 1));
  if (q == std::string_view::npos) {
    // A bare query string ("a=1&b=2") is redacted too.
    if (url.find('=') == std::string_view::npos) return out;
    out.clear();
    q = static_cast<size_t>(-1);
  }
  std::string_view rest = url.substr(q + 1);
  bool first = true;
  while (!rest.empty() || first) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (!first) out += '&';
    first = false;
    if (eq != std::string_view::npos && is_secret_param(key)) {
      out.append(key).append("=***");
    } else {
      out.append(pair);
    }
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return out;
}

LogLine::~LogLine() {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t secs = system_clock::to_time_t(now);
  int ms = static_cast<int>(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  std::string component;
  {
    std::lock_guard<std::mutex> lock(g_component_mutex);
    component = g_component;
  }
  std::string line;
  line.reserve(64 + out_.tellp());
  line.append(stamp).append(" ").append(log_level_name(level_)).append(" [").append(component);
  line.append("] ").append(out_.str()).append("\n");
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace clickrace::core
