#include "clickrace/client/http_api.hpp"

#include "clickrace/client/http_request.hpp"

namespace clickrace::client {
namespace {

Result<nlohmann::json> json_body(const HttpReply& reply) {
  auto body = nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return make_error("the server answered with malformed JSON");
  return body;
}

Result<Session> to_session(const HttpReply& reply) {
  if (reply.status != 200) return make_error(reply.error_text());
  auto body = json_body(reply);
  if (!body) return body.error();
  const auto& j = *body;
  if (!j.is_object() || !j.contains("token") || !j["token"].is_string()) {
    return make_error("the login answer has no token");
  }
  Session s;
  s.token = j["token"].get<std::string>();
  if (j.contains("name") && j["name"].is_string()) s.name = j["name"].get<std::string>();
  if (j.contains("expiresAt") && j["expiresAt"].is_number()) {
    s.expires_at_ms = j["expiresAt"].get<std::int64_t>();
  }
  return s;
}

std::string credentials(const std::string& name, const std::string& password) {
  return nlohmann::json{{"name", name}, {"password", password}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string HttpReply::error_text() const {
  if (status == 0) return transport_error.empty() ? "no answer from the server" : transport_error;
  auto body = nlohmann::json::parse(this->body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_string()) {
    return body["error"].get<std::string>();
  }
  return "HTTP status " + std::to_string(status);
}

AccountApi::AccountApi(std::string base_url, HttpTimeouts timeouts)
    : base_url_(std::move(base_url)), timeouts_(timeouts) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

HttpReply AccountApi::request(const std::string& method, const std::string& target,
                              const std::string& json_body) {
  auto url = parse_url(base_url_);
  if (!url) return HttpReply{0, "", url.error().message};
  HttpHeaders headers;
  return http_request(*url, method, url->path == "/" ? target : url->path + target, headers,
                      json_body, timeouts_);
}

Result<std::string> AccountApi::register_account(const std::string& name,
                                                 const std::string& password) {
  HttpReply reply = request("POST", "/api/accounts", credentials(name, password));
  if (reply.status != 201) return make_error(reply.error_text());
  auto body = json_body(reply);
  if (body && body->is_object() && body->contains("name") && (*body)["name"].is_string()) {
    return (*body)["name"].get<std::string>();
  }
  return name;
}

Result<Session> AccountApi::login(const std::string& name, const std::string& password) {
  return to_session(request("POST", "/api/sessions", credentials(name, password)));
}

Result<Session> AccountApi::login_or_register(const std::string& name,
                                              const std::string& password) {
  HttpReply reply = request("POST", "/api/sessions", credentials(name, password));
  if (reply.status != 401) return to_session(reply);
  HttpReply created = request("POST", "/api/accounts", credentials(name, password));
  // 409: someone registered the name meanwhile (or the password was wrong): the login decides.
  if (created.status != 201 && created.status != 409) return make_error(created.error_text());
  return login(name, password);
}

Result<nlohmann::json> AccountApi::get_json(const std::string& target) {
  HttpReply reply = request("GET", target, "");
  if (reply.status != 200) return make_error(reply.error_text());
  return json_body(reply);
}

std::string hub_url_for(const std::string& base_url) {
  std::string base = base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/hub";
}

}  // namespace clickrace::client
