#pragma once
#include <asio/io_context.hpp>

struct redisAsyncContext;

namespace clickrace::redis {

// Drives a hiredis async context from an asio::io_context: installs the ev.addRead/delRead/
// addWrite/delWrite/cleanup hooks, which wait on the context's fd with a stream_descriptor and
// call redisAsyncHandleRead/Write. hiredis keeps owning (and closes) the fd; the adapter frees
// itself after hiredis calls cleanup. Must be called before redisAsyncSetConnectCallback.
// Returns false if the context already has an event library attached.
bool attach_asio(asio::io_context& io, redisAsyncContext* ac);

}  // namespace clickrace::redis
