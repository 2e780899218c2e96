#pragma once
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

// Levelled logging to stderr, one line per call, written with a single write(2) so lines from
// several threads never interleave.
//
//   CR_LOG(info) << "gateway listening on " << port;
//
// Never log secrets: tokens, passwords, the token secret, or raw query strings (they can carry
// access_token). Use redact_query() for URLs.
namespace clickrace::core {

enum class LogLevel { trace = 0, debug, info, warn, error, off };

std::optional<LogLevel> parse_log_level(std::string_view name);
std::string_view log_level_name(LogLevel level);

void set_log_level(LogLevel level);
LogLevel log_level();
inline bool log_enabled(LogLevel level) { return level >= log_level(); }

// Sets the component name printed on each line (e.g. "hub-gateway").
void set_log_component(std::string name);

// Replaces the values of credential-bearing query parameters (access_token, id, token) with "***".
std::string redact_query(std::string_view url_or_query);

class LogLine {
 public:
  explicit LogLine(LogLevel level) : level_(level) {}
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  std::ostream& stream() { return out_; }

 private:
  LogLevel level_;
  std::ostringstream out_;
};

}  // namespace clickrace::core

#define CR_LOG(level)                                                        \
  if (!::clickrace::core::log_enabled(::clickrace::core::LogLevel::level)) { \
  } else                                                                     \
    ::clickrace::core::LogLine(::clickrace::core::LogLevel::level).stream()
