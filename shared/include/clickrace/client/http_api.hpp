#pragma once
#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "clickrace/client/url.hpp"
#include "clickrace/core/result.hpp"

// A small blocking client for the gateway's account and round API (DESIGN.md §1.2), for the CLI
// and tests. Thread-safe: every call opens its own HTTP connection.
namespace clickrace::client {

struct HttpTimeouts {
  std::chrono::milliseconds connect{5000};
  std::chrono::milliseconds read{10000};
};

// A login: the bearer token for the hub, and when it stops being accepted.
struct Session {
  std::string token;
  std::string name;                // as registered (case kept)
  std::int64_t expires_at_ms = 0;  // Unix epoch ms
};

// The answer to one request: status 0 means no HTTP answer at all (see `transport_error`).
struct HttpReply {
  int status = 0;
  std::string body;
  std::string transport_error;
  // The server's {"error":...} text, else a short description of the status.
  std::string error_text() const;
};

class AccountApi {
 public:
  // `base_url`: the gateway (or load balancer) root, e.g. http://127.0.0.1:8080.
  explicit AccountApi(std::string base_url, HttpTimeouts timeouts = {});

  // POST /api/accounts. Returns the registered name.
  Result<std::string> register_account(const std::string& name, const std::string& password);
  // POST /api/sessions.
  Result<Session> login(const std::string& name, const std::string& password);
  // Logs in; when the account does not exist yet (401), registers it and logs in.
  Result<Session> login_or_register(const std::string& name, const std::string& password);
  // GET <target> expecting 200 with a JSON body, e.g. "/api/rounds/current".
  Result<nlohmann::json> get_json(const std::string& target);

  // The raw request, for callers that care about the status.
  HttpReply request(const std::string& method, const std::string& target,
                    const std::string& json_body);

  const std::string& base_url() const { return base_url_; }

 private:
  std::string base_url_;
  HttpTimeouts timeouts_;
};

// The hub URL of a gateway root: <base>/hub.
std::string hub_url_for(const std::string& base_url);

}  // namespace clickrace::client
