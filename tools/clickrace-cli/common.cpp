#include "common.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <random>

namespace clickrace::cli {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);  // our own wake-up on shutdown
  return set;
}

std::mutex print_mu;

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

Stopper::Stopper() {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal_thread_ = std::thread([this, set] {
    int sig = 0;
    while (sigwait(&set, &sig) == 0) {
      if (sig == SIGUSR1 && stopped()) return;
      if (sig == SIGINT || sig == SIGTERM) request_stop(kExitOk);
    }
  });
}

Stopper::~Stopper() {
  stopped_ = true;
  pthread_kill(signal_thread_.native_handle(), SIGUSR1);
  signal_thread_.join();
}

void Stopper::request_stop(int exit_code) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopped_) exit_code_ = exit_code;
    stopped_ = true;
  }
  cv_.notify_all();
}

bool Stopper::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return stopped_.load(); });
}

void Stopper::wait() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return stopped_.load(); });
}

void say(const std::string& line) {
  std::lock_guard<std::mutex> lock(print_mu);
  std::cout << line << std::endl;
}

void warn(const std::string& line) {
  std::lock_guard<std::mutex> lock(print_mu);
  std::cerr << line << std::endl;
}

std::string format_round_result(const nlohmann::json& r) {
  auto num = [&](const char* key) -> long long {
    auto it = r.find(key);
    return it != r.end() && it->is_number() ? it->get<long long>() : 0;
  };
  std::string winners;
  if (auto it = r.find("winners"); it != r.end() && it->is_array()) {
    for (const auto& w : *it) {
      if (!w.is_string()) continue;
      if (!winners.empty()) winners += ", ";
      winners += w.get<std::string>();
    }
  }
  std::string line = "round " + std::to_string(num("round")) + " ended: ";
  if (winners.empty()) {
    line += "no winner";
  } else {
    line += "winners " + winners + " with " + std::to_string(num("winningClicks")) + " clicks";
  }
  line += "; total " + std::to_string(num("totalClicks")) + " clicks by " +
          std::to_string(num("players")) + " players";
  return line;
}

std::string random_text(std::size_t length) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, sizeof(kChars) - 2);
  std::string out;
  for (std::size_t i = 0; i < length; ++i) out += kChars[pick(rng)];
  return out;
}

Login::Login(std::string base_url, std::string name, std::string password)
    : api_(std::move(base_url)), name_(std::move(name)), password_(std::move(password)) {}

std::string Login::name() const {
  std::lock_guard<std::mutex> lock(mu_);
  return name_;
}

client::HttpReply Login::post_with_retry(const std::string& target) {
  static std::atomic<bool> told{false};
  auto body = nlohmann::json{{"name", name()}, {"password", password_}}.dump();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto pause = std::chrono::milliseconds(500);
  while (true) {
    client::HttpReply reply = api_.request("POST", target, body);
    if (reply.status != 429 || std::chrono::steady_clock::now() + pause > deadline) return reply;
    if (!told.exchange(true)) warn("the server is rate-limiting logins; retrying");
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(5000));
  }
}

Result<client::Session> Login::take(const client::HttpReply& reply) {
  if (reply.status != 200) return make_error(reply.error_text());
  auto j = nlohmann::json::parse(reply.body, nullptr, false);
  if (!j.is_object() || !j.contains("token") || !j["token"].is_string()) {
    return make_error("the login answer has no token");
  }
  client::Session s;
  s.token = j["token"].get<std::string>();
  s.name = j.value("name", name());
  s.expires_at_ms = j.value("expiresAt", std::int64_t{0});
  std::lock_guard<std::mutex> lock(mu_);
  session_ = s;
  name_ = s.name;
  return s;
}

Result<client::Session> Login::sign_in(bool new_account) {
  if (!new_account) {
    client::HttpReply reply = post_with_retry("/api/sessions");
    if (reply.status != 401) return take(reply);
  }
  client::HttpReply created = post_with_retry("/api/accounts");
  // 409: the name exists (maybe registered meanwhile); the login decides.
  if (created.status != 201 && created.status != 409) return make_error(created.error_text());
  return take(post_with_retry("/api/sessions"));
}

std::string Login::token() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Renew a minute early so a reconnect never presents an expired token.
    if (!session_.token.empty() && session_.expires_at_ms - now_ms() > 60'000) {
      return session_.token;
    }
  }
  auto s = take(post_with_retry("/api/sessions"));
  if (!s) throw std::runtime_error("login failed: " + s.error().message);
  return s->token;
}

client::HubClientOptions hub_options(const std::string& base_url, std::shared_ptr<Login> login) {
  client::HubClientOptions o;
  o.url = client::hub_url_for(base_url);
  o.access_token_factory = [login] { return login->token(); };
  return o;
}

}  // namespace clickrace::cli
