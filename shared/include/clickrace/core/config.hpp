#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

// Configuration: default (the value already in the options struct) → environment variable →
// command-line flag. The flag name is derived from the variable: CLICKRACE_ROUND_MS → --round-ms.
//
//   GatewayOptions opts;                       // defaults live in the struct, with comments
//   core::OptionSet set("hub-gateway", "The clickrace SignalR gateway.");
//   set.add("CLICKRACE_ROUND_MS", &opts.round_ms, "round length in ms", 50, 86'400'000);
//   set.parse_or_exit(argc, argv);             // --help → exit 0; bad value → message, exit 2
namespace clickrace::core {

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Reads the real process environment.
std::optional<std::string> process_env(const std::string& name);

class OptionSet {
 public:
  OptionSet(std::string program, std::string summary);

  OptionSet& add(const std::string& env, std::string* target, std::string help);
  // A secret: its value is never printed (help shows no default, errors show ***). `validate`,
  // when given, returns an error text for a bad value (a bad value exits 2 like any other).
  OptionSet& add_secret(
      const std::string& env, std::string* target, std::string help,
      std::function<std::optional<std::string>(const std::string&)> validate = nullptr);
  OptionSet& add(const std::string& env, int64_t* target, std::string help, int64_t min,
                 int64_t max);
  OptionSet& add(const std::string& env, int* target, std::string help, int min, int max);
  OptionSet& add(const std::string& env, bool* target, std::string help);
  // A string restricted by a validator that returns an error text, or nullopt when valid.
  // (A distinct name: a plain function would otherwise convert to another overload's bool.)
  OptionSet& add_checked(const std::string& env, std::string* target, std::string help,
                         std::function<std::optional<std::string>(const std::string&)> validate);

  struct Outcome {
    bool help_requested = false;
    std::optional<std::string> error;  // fit to print: names the flag or variable and the value
  };
  Outcome parse(int argc, const char* const* argv, const EnvLookup& env = process_env);

  std::string help() const;

  // Prints help and exits 0 on --help; prints the error and exits 2 on a bad value.
  void parse_or_exit(int argc, const char* const* argv);

  static std::string flag_for(const std::string& env);

 private:
  struct Option {
    std::string env;
    std::string flag;
    std::string help;
    std::string default_text;
    bool secret = false;
    bool is_bool = false;
    std::function<std::optional<std::string>(const std::string&)> set;  // returns error
  };
  Option& push(const std::string& env, std::string help, std::string default_text);

  std::string program_;
  std::string summary_;
  std::vector<Option> options_;
};

// What an error may print of a value: "***" for secrets; URL credentials masked otherwise.
std::string printable_value(const std::string& value, bool secret);

// Strict integer parsing: the whole text must be a number in range.
std::optional<int64_t> parse_int(const std::string& text);

}  // namespace clickrace::core
