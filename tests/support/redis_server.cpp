#include "redis_server.hpp"

#include <signal.h>

#include <stdexcept>

namespace clickrace::test {
namespace {

Reply convert(const redisReply* r) {
  Reply out;
  if (r == nullptr) {
    out.type = REDIS_REPLY_ERROR;
    out.str = "no reply";
    return out;
  }
  out.type = r->type;
  out.integer = r->integer;
  if (r->str != nullptr) out.str.assign(r->str, r->len);
  for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
  return out;
}

}  // namespace

RedisServer::RedisServer() : port_(free_port()) { start(); }

RedisServer::~RedisServer() {
  if (proc_) proc_->kill();
}

void RedisServer::start() {
  proc_ = std::make_unique<Process>(
      "redis-" + std::to_string(port_),
      std::vector<std::string>{"redis-server", "--port", std::to_string(port_), "--bind",
                               "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync",
                               "always", "--dir", dir_.path(), "--daemonize", "no"});
  proc_->start();
  bool up = eventually(
      [&] {
        RedisSync c(port_);
        return c.ok() && c.cmd({"PING"}).str == "PONG";
      },
      10s);
  if (!up) throw std::runtime_error("redis-server did not start: " + proc_->output());
}

void RedisServer::kill() { proc_->kill(); }
void RedisServer::stop() { proc_->stop(); }
void RedisServer::pause() { proc_->signal(SIGSTOP); }
void RedisServer::resume() { proc_->signal(SIGCONT); }

std::string RedisServer::url(int db) const {
  return "redis://127.0.0.1:" + std::to_string(port_) + "/" + std::to_string(db);
}

RedisSync::RedisSync(int port) {
  timeval tv{2, 0};
  ctx_ = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (ctx_ != nullptr) redisSetTimeout(ctx_, tv);
}

RedisSync::~RedisSync() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

Reply RedisSync::cmd(const std::vector<std::string>& args) {
  if (!ok()) {
    Reply r;
    r.type = REDIS_REPLY_ERROR;
    r.str = "not connected";
    return r;
  }
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
  Reply out = convert(reply);
  if (reply != nullptr) freeReplyObject(reply);
  return out;
}

}  // namespace clickrace::test
