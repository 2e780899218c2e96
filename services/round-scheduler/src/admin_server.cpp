#include "admin_server.hpp"

#include <httplib.h>

#include "clickrace/core/log.hpp"

namespace clickrace::scheduler {

AdminServer::AdminServer(const StatusBoard& board, const Metrics& metrics, int64_t lease_ms,
                         std::function<int64_t()> mono_now)
    : board_(board),
      metrics_(metrics),
      lease_ms_(lease_ms),
      mono_now_(std::move(mono_now)),
      server_(std::make_unique<httplib::Server>()) {
  routes();
}

AdminServer::~AdminServer() { stop(); }

void AdminServer::routes() {
  // Small and bounded: nothing here reads a body.
  server_->set_payload_max_length(4096);
  server_->set_read_timeout(5, 0);
  server_->set_write_timeout(5, 0);
  server_->new_task_queue = [] { return new httplib::ThreadPool(2); };

  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    bool ready = is_ready(board_.get(), mono_now_(), lease_ms_);
    res.status = ready ? 200 : 503;
    res.set_content(ready ? "ready\n" : "redis unreachable\n", "text/plain");
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(), "text/plain; version=0.0.4");
  });
  server_->Get("/status", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(status_json(board_.get()), "application/json");
  });
}

Result<int> AdminServer::start(const std::string& host, int port) {
  int bound = port;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
    if (bound <= 0) return make_error("admin: cannot bind a port on " + host);
  } else if (!server_->bind_to_port(host, port)) {
    return make_error("admin: cannot bind " + host + ":" + std::to_string(port));
  }
  thread_ = std::thread([this] {
    if (!server_->listen_after_bind()) {
      CR_LOG(error) << "admin server stopped with an error";
    }
  });
  return bound;
}

void AdminServer::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace clickrace::scheduler
