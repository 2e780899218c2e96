#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "clickrace/core/result.hpp"
#include "metrics.hpp"
#include "status.hpp"

namespace httplib {
class Server;
}

namespace clickrace::scheduler {

// The admin HTTP server (/healthz /readyz /metrics /status) on its own thread. It only reads the
// StatusBoard and the atomics in Metrics, so it never touches the event loop's state.
class AdminServer {
 public:
  // `mono_now` gives local monotonic ms (the clock StatusSnapshot::redis_ok_at is taken on).
  AdminServer(const StatusBoard& board, const Metrics& metrics, int64_t lease_ms,
              std::function<int64_t()> mono_now);
  ~AdminServer();  // stops
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds `host`:`port` (0: a free port) and starts serving. Returns the bound port.
  Result<int> start(const std::string& host, int port);
  void stop();

 private:
  void routes();

  const StatusBoard& board_;
  const Metrics& metrics_;
  int64_t lease_ms_;
  std::function<int64_t()> mono_now_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace clickrace::scheduler
