#include "clickrace/core/config.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace clickrace::core {

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::optional<int64_t> parse_int(const std::string& text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || end != text.c_str() + text.size()) return std::nullopt;
  return static_cast<int64_t>(v);
}

// A value as it may be printed in an error: secrets become "***", and URL credentials
// ("scheme://user:password@host") are masked, since a bad URL may still carry a real password.
std::string printable_value(const std::string& value, bool secret) {
  if (secret) return "***";
  auto scheme = value.find("://");
  if (scheme == std::string::npos) return value;
  auto start = scheme + 3;
  auto at = value.find('@', start);
  auto slash = value.find('/', start);
  if (at == std::string::npos || (slash != std::string::npos && slash < at)) return value;
  return value.substr(0, start) + "***" + value.substr(at);
}

OptionSet::OptionSet(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

std::string OptionSet::flag_for(const std::string& env) {
  std::string name = env.rfind("CLICKRACE_", 0) == 0 ? env.substr(10) : env;
  std::string flag = "--";
  for (char c : name) flag += c == '_' ? '-' : static_cast<char>(std::tolower(c));
  return flag;
}

OptionSet::Option& OptionSet::push(const std::string& env, std::string help,
                                   std::string default_text) {
  Option o;
  o.env = env;
  o.flag = flag_for(env);
  o.help = std::move(help);
  o.default_text = std::move(default_text);
  options_.push_back(std::move(o));
  return options_.back();
}

OptionSet& OptionSet::add(const std::string& env, std::string* target, std::string help) {
  Option& o = push(env, std::move(help), *target);
  o.set = [target](const std::string& v) -> std::optional<std::string> {
    *target = v;
    return std::nullopt;
  };
  return *this;
}

OptionSet& OptionSet::add_secret(
    const std::string& env, std::string* target, std::string help,
    std::function<std::optional<std::string>(const std::string&)> validate) {
  if (validate) {
    add_checked(env, target, std::move(help), std::move(validate));
  } else {
    add(env, target, std::move(help));
  }
  options_.back().secret = true;
  return *this;
}

OptionSet& OptionSet::add_checked(
    const std::string& env, std::string* target, std::string help,
    std::function<std::optional<std::string>(const std::string&)> validate) {
  Option& o = push(env, std::move(help), *target);
  o.set = [target, validate](const std::string& v) -> std::optional<std::string> {
    if (auto err = validate(v)) return err;
    *target = v;
    return std::nullopt;
  };
  return *this;
}

OptionSet& OptionSet::add(const std::string& env, int64_t* target, std::string help, int64_t min,
                          int64_t max) {
  Option& o = push(env, std::move(help), std::to_string(*target));
  o.set = [target, min, max](const std::string& v) -> std::optional<std::string> {
    auto n = parse_int(v);
    if (!n) return "expected an integer";
    if (*n < min || *n > max) {
      return "must be between " + std::to_string(min) + " and " + std::to_string(max);
    }
    *target = *n;
    return std::nullopt;
  };
  return *this;
}

OptionSet& OptionSet::add(const std::string& env, int* target, std::string help, int min, int max) {
  Option& o = push(env, std::move(help), std::to_string(*target));
  o.set = [target, min, max](const std::string& v) -> std::optional<std::string> {
    auto n = parse_int(v);
    if (!n) return "expected an integer";
    if (*n < min || *n > max) {
      return "must be between " + std::to_string(min) + " and " + std::to_string(max);
    }
    *target = static_cast<int>(*n);
    return std::nullopt;
  };
  return *this;
}

OptionSet& OptionSet::add(const std::string& env, bool* target, std::string help) {
  Option& o = push(env, std::move(help), *target ? "true" : "false");
  o.is_bool = true;
  o.set = [target](const std::string& v) -> std::optional<std::string> {
    if (v == "1" || v == "true" || v == "yes" || v == "on") {
      *target = true;
    } else if (v == "0" || v == "false" || v == "no" || v == "off") {
      *target = false;
    } else {
      return "expected true or false";
    }
    return std::nullopt;
  };
  return *this;
}

OptionSet::Outcome OptionSet::parse(int argc, const char* const* argv, const EnvLookup& env) {
  Outcome out;
  for (Option& o : options_) {
    if (auto v = env(o.env)) {
      if (auto err = o.set(*v)) {
        // Never echo a secret's value back.
        out.error = o.env + "=" + printable_value(*v, o.secret) + ": " + *err;
        return out;
      }
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out.help_requested = true;
      return out;
    }
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    Option* match = nullptr;
    for (Option& o : options_) {
      if (o.flag == arg) match = &o;
    }
    if (match == nullptr) {
      out.error = "unknown option '" + arg + "' (see --help)";
      return out;
    }
    if (!has_value) {
      if (match->is_bool && (i + 1 >= argc || std::string(argv[i + 1]).rfind("--", 0) == 0)) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        out.error = "option " + arg + " needs a value";
        return out;
      }
    }
    if (auto err = match->set(value)) {
      out.error = arg + "=" + printable_value(value, match->secret) + ": " + *err;
      return out;
    }
  }
  return out;
}

std::string OptionSet::help() const {
  std::ostringstream out;
  out << "usage: " << program_ << " [options]\n" << summary_ << "\n\n";
  out << "Every option can also be set by its environment variable; a flag wins.\n\n";
  for (const Option& o : options_) {
    out << "  " << o.flag << (o.is_bool ? "" : " VALUE") << "\n      " << o.help << "\n      env "
        << o.env << ", default "
        << (o.secret ? "(none)" : (o.default_text.empty() ? "(empty)" : o.default_text)) << "\n";
  }
  out << "  --help\n      print this help and exit\n";
  return out.str();
}

void OptionSet::parse_or_exit(int argc, const char* const* argv) {
  Outcome out = parse(argc, argv);
  if (out.help_requested) {
    std::fputs(help().c_str(), stdout);
    std::exit(0);
  }
  if (out.error) {
    std::fprintf(stderr, "%s: %s\n", program_.c_str(), out.error->c_str());
    std::exit(2);
  }
}

}  // namespace clickrace::core
