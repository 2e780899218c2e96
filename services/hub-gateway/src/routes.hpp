#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "clickrace/core/result.hpp"

// HTTP routing and request-body validation (DESIGN.md §1.2), pure so they are unit-tested.
namespace clickrace::gateway {

enum class Route {
  create_account,  // POST /api/accounts
  create_session,  // POST /api/sessions
  current_round,   // GET /api/rounds/current
  list_rounds,     // GET /api/rounds?limit=N
  get_round,       // GET /api/rounds/{id}
  healthz,
  readyz,
  metrics,
  negotiate,     // POST /hub/negotiate
  preflight,     // OPTIONS anything
  static_file,   // GET anything else
  bad_round_id,  // GET /api/rounds/<not a positive integer>
  not_found,
  method_not_allowed,
};

struct RouteMatch {
  Route route = Route::not_found;
  std::int64_t round_id = 0;
};

RouteMatch route(std::string_view method, std::string_view path);

struct Credentials {
  std::string name;
  std::string password;
};

// {"name": string, "password": string}; other fields ignored. Errors are safe 400 texts.
Result<Credentials> parse_credentials(std::string_view body);

// ?limit=N: default 20, 1..100. Error text for a 400 otherwise.
Result<int> parse_limit(const std::optional<std::string>& value);

}  // namespace clickrace::gateway
