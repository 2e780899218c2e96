#pragma once
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "clickrace/core/result.hpp"

// A tiny command-line parser: `--name value`, `--name=value`, `--switch`, positionals.
namespace clickrace::cli {

struct Args {
  std::map<std::string, std::string> values;  // by option name without dashes
  std::set<std::string> switches;
  std::vector<std::string> positional;

  bool has(const std::string& name) const { return switches.count(name) > 0; }
  std::optional<std::string> value(const std::string& name) const;
  // Integer option within [min, max]; `fallback` when absent; Error names the option.
  Result<long long> integer(const std::string& name, long long fallback, long long min,
                            long long max) const;
  Result<double> number(const std::string& name, double fallback, double min, double max) const;
};

// `valued`: options that take a value; `switches`: options that do not. Anything else that
// starts with "--" is an error.
Result<Args> parse_args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
                        const std::set<std::string>& switches);

}  // namespace clickrace::cli
