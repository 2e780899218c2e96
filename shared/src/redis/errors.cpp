#include "clickrace/redis/errors.hpp"

#include <hiredis/async.h>

#include <string>

namespace clickrace::redis {

Error error_from_context(const redisAsyncContext* ac, std::string_view what) {
  std::string msg = "redis: ";
  msg += what;
  if (ac == nullptr) return make_error(msg + ": out of memory");
  // During the connect callback only the inner context carries the error; ac->err is a copy
  // made later.
  int err = ac->c.err != 0 ? ac->c.err : ac->err;
  const char* errstr = ac->c.err != 0 ? ac->c.errstr : ac->errstr;
  switch (err) {
    case 0:
      return make_error(msg);
    case REDIS_ERR_IO:
      msg += ": i/o error";
      break;
    case REDIS_ERR_EOF:
      msg += ": server closed the connection";
      return make_error(msg);
    case REDIS_ERR_PROTOCOL:
      msg += ": protocol error";
      break;
    case REDIS_ERR_OOM:
      msg += ": out of memory";
      break;
    default:
      msg += ": error";
      break;
  }
  // hiredis's errstr holds strerror/protocol text only (never command data or credentials).
  if (errstr[0] != '\0') {
    msg += " (";
    msg += errstr;
    msg += ")";
  }
  return make_error(msg);
}

}  // namespace clickrace::redis
