#include "args.hpp"

#include <cstdlib>

#include "clickrace/core/config.hpp"

namespace clickrace::cli {

std::optional<std::string> Args::value(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

Result<long long> Args::integer(const std::string& name, long long fallback, long long min,
                                long long max) const {
  auto text = value(name);
  if (!text) return fallback;
  auto v = core::parse_int(*text);
  if (!v || *v < min || *v > max) {
    return make_error("--" + name + " must be an integer from " + std::to_string(min) + " to " +
                      std::to_string(max) + " (got '" + *text + "')");
  }
  return static_cast<long long>(*v);
}

Result<double> Args::number(const std::string& name, double fallback, double min,
                            double max) const {
  auto text = value(name);
  if (!text) return fallback;
  char* end = nullptr;
  double v = std::strtod(text->c_str(), &end);
  if (text->empty() || end != text->c_str() + text->size() || !(v >= min && v <= max)) {
    return make_error("--" + name + " must be a number from " + std::to_string(min) + " to " +
                      std::to_string(max) + " (got '" + *text + "')");
  }
  return v;
}

Result<Args> parse_args(const std::vector<std::string>& argv, const std::set<std::string>& valued,
                        const std::set<std::string>& switches) {
  Args out;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
      if (a == "-h") {
        out.switches.insert("help");
      } else {
        out.positional.push_back(a);
      }
      continue;
    }
    std::string name = a.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (switches.count(name)) {
      if (inline_value) return make_error("--" + name + " takes no value");
      out.switches.insert(name);
    } else if (valued.count(name)) {
      if (inline_value) {
        out.values[name] = *inline_value;
      } else if (i + 1 < argv.size()) {
        out.values[name] = argv[++i];
      } else {
        return make_error("--" + name + " needs a value");
      }
    } else {
      return make_error("unknown option --" + name);
    }
  }
  return out;
}

}  // namespace clickrace::cli
