#include "clickrace/redis/asio_adapter.hpp"

#include <hiredis/async.h>

#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <memory>

namespace clickrace::redis {
namespace {

// One per context. Owned by `self_` until hiredis calls cleanup; asio handlers hold a
// shared_ptr too, so a handler that completes after cleanup finds a live adapter with ac_ null.
class AsioAdapter : public std::enable_shared_from_this<AsioAdapter> {
 public:
  AsioAdapter(asio::io_context& io, redisAsyncContext* ac) : io_(io), ac_(ac), sd_(io, ac->c.fd) {}

  void install(std::shared_ptr<AsioAdapter> self) {
    self_ = std::move(self);
    ac_->ev.data = this;
    ac_->ev.addRead = [](void* p) { from(p)->want(true, true); };
    ac_->ev.delRead = [](void* p) { from(p)->want(true, false); };
    ac_->ev.addWrite = [](void* p) { from(p)->want(false, true); };
    ac_->ev.delWrite = [](void* p) { from(p)->want(false, false); };
    ac_->ev.cleanup = [](void* p) { from(p)->cleanup(); };
  }

 private:
  static AsioAdapter* from(void* p) { return static_cast<AsioAdapter*>(p); }

  void want(bool read, bool on) {
    (read ? want_read_ : want_write_) = on;
    if (on) arm(read);
  }

  // At most one wait per direction is outstanding; a stale one (after del*) is ignored on wake.
  void arm(bool read) {
    bool& armed = read ? read_armed_ : write_armed_;
    if (armed || ac_ == nullptr) return;
    armed = true;
    sd_.async_wait(
        read ? asio::posix::stream_descriptor::wait_read
             : asio::posix::stream_descriptor::wait_write,
        [self = shared_from_this(), read](const asio::error_code& ec) { self->ready(read, ec); });
  }

  void ready(bool read, const asio::error_code& ec) {
    (read ? read_armed_ : write_armed_) = false;
    if (ec || ac_ == nullptr || !(read ? want_read_ : want_write_)) return;
    if (read) {
      redisAsyncHandleRead(ac_);  // may free the context (cleanup sets ac_ = nullptr)
    } else {
      redisAsyncHandleWrite(ac_);
    }
    if (ac_ != nullptr && (read ? want_read_ : want_write_)) arm(read);
  }

  void cleanup() {
    ac_ = nullptr;
    want_read_ = want_write_ = false;
    asio::error_code ignored;
    sd_.cancel(ignored);
    sd_.release();  // hiredis closes the fd itself
    // Never delete ourselves inside hiredis's call: drop the owning reference later.
    asio::post(io_, [keep = std::move(self_)] {});
  }

  asio::io_context& io_;
  redisAsyncContext* ac_;
  asio::posix::stream_descriptor sd_;
  std::shared_ptr<AsioAdapter> self_;
  bool want_read_ = false, want_write_ = false;
  bool read_armed_ = false, write_armed_ = false;
};

}  // namespace

bool attach_asio(asio::io_context& io, redisAsyncContext* ac) {
  if (ac->ev.data != nullptr) return false;
  auto adapter = std::make_shared<AsioAdapter>(io, ac);
  adapter->install(adapter);
  return true;
}

}  // namespace clickrace::redis
