#pragma once
#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "process.hpp"

namespace clickrace::test {

// A real redis-server on a free loopback port with AOF on, its data in a temp dir. kill() and
// start() again keep the port and the data, as a real crash and restart would.
class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  void start();   // waits until PING answers
  void kill();    // SIGKILL
  void stop();    // SIGTERM
  void pause();   // SIGSTOP: the port stays open but nothing answers
  void resume();  // SIGCONT
  int port() const { return port_; }
  std::string url(int db = 0) const;  // redis://127.0.0.1:<port>/<db>
  Process* process() { return proc_.get(); }

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<Process> proc_;
};

// A plain synchronous hiredis connection for tests to inspect and poke Redis.
struct Reply {
  int type = 0;  // REDIS_REPLY_*
  long long integer = 0;
  std::string str;
  std::vector<Reply> elements;
  bool is_nil() const { return type == REDIS_REPLY_NIL; }
  bool is_error() const { return type == REDIS_REPLY_ERROR; }
};

class RedisSync {
 public:
  explicit RedisSync(int port);
  ~RedisSync();
  Reply cmd(const std::vector<std::string>& args);
  bool ok() const { return ctx_ != nullptr && ctx_->err == 0; }

 private:
  redisContext* ctx_ = nullptr;
};

}  // namespace clickrace::test
