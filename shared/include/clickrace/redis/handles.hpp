#pragma once
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <memory>

// RAII owners for hiredis handles (redis-plus-plus style): every handle we own lives in one of
// these. Note: hiredis itself frees an async context after its disconnect callback and after a
// failed connect callback; the owner must release() the pointer in those callbacks.
namespace clickrace::redis {

struct AsyncContextDeleter {
  void operator()(redisAsyncContext* ac) const { redisAsyncFree(ac); }
};
using AsyncContextPtr = std::unique_ptr<redisAsyncContext, AsyncContextDeleter>;

// For replies we own (synchronous API). Async replies are freed by hiredis after the callback.
struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

}  // namespace clickrace::redis
