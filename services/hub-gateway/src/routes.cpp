#include "routes.hpp"

#include <nlohmann/json.hpp>

#include "clickrace/core/config.hpp"

namespace clickrace::gateway {

RouteMatch route(std::string_view method, std::string_view path) {
  RouteMatch m;
  if (method == "OPTIONS") {
    m.route = Route::preflight;
    return m;
  }
  auto only = [&](std::string_view wanted, Route r) {
    m.route = method == wanted ? r : Route::method_not_allowed;
    return m;
  };
  if (path == "/api/accounts") return only("POST", Route::create_account);
  if (path == "/api/sessions") return only("POST", Route::create_session);
  if (path == "/hub/negotiate") return only("POST", Route::negotiate);
  if (path == "/api/rounds/current") return only("GET", Route::current_round);
  if (path == "/api/rounds") return only("GET", Route::list_rounds);
  if (path == "/healthz") return only("GET", Route::healthz);
  if (path == "/readyz") return only("GET", Route::readyz);
  if (path == "/metrics") return only("GET", Route::metrics);
  constexpr std::string_view kRounds = "/api/rounds/";
  if (path.substr(0, kRounds.size()) == kRounds) {
    if (method != "GET") return only("GET", Route::get_round);
    auto id = core::parse_int(std::string(path.substr(kRounds.size())));
    if (!id || *id < 1) {
      m.route = Route::bad_round_id;
      return m;
    }
    m.route = Route::get_round;
    m.round_id = *id;
    return m;
  }
  if (path.substr(0, 5) == "/api/" || path == "/api" || path.substr(0, 4) == "/hub") {
    m.route = Route::not_found;
    return m;
  }
  if (method == "GET" || method == "HEAD") {
    m.route = Route::static_file;
    return m;
  }
  m.route = Route::method_not_allowed;
  return m;
}

Result<Credentials> parse_credentials(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return make_error("request body must be JSON");
  if (!j.is_object()) return make_error("request body must be a JSON object");
  auto name = j.find("name");
  auto password = j.find("password");
  if (name == j.end() || !name->is_string()) return make_error("name must be a string");
  if (password == j.end() || !password->is_string()) {
    return make_error("password must be a string");
  }
  return Credentials{name->get<std::string>(), password->get<std::string>()};
}

Result<int> parse_limit(const std::optional<std::string>& value) {
  if (!value) return 20;
  auto n = core::parse_int(*value);
  if (!n || *n < 1 || *n > 100) return make_error("limit must be an integer from 1 to 100");
  return static_cast<int>(*n);
}

}  // namespace clickrace::gateway
