#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct redisReply;

namespace clickrace::redis {

// An owned copy of a Redis reply (RESP2). hiredis frees its own reply when the callback returns,
// so callbacks receive this value type instead.
//
// A server error reply (`-ERR ...`, `-NOSCRIPT ...`, a Lua `error_reply`) is a Reply of type
// `error` inside an ok Result; transport problems (timeout, disconnect, closed) are Result errors.
class Reply {
 public:
  enum class Type { nil, status, error, integer, string, array };

  Reply() = default;  // nil
  static Reply status(std::string text);
  static Reply error(std::string text);
  static Reply integer(long long value);
  static Reply string(std::string bytes);
  static Reply array(std::vector<Reply> elements);
  // Deep copy of a hiredis reply (nullptr -> nil).
  static Reply from_hiredis(const redisReply* reply);

  Type type() const { return type_; }
  bool is_nil() const { return type_ == Type::nil; }
  bool is_status() const { return type_ == Type::status; }
  bool is_error() const { return type_ == Type::error; }
  bool is_integer() const { return type_ == Type::integer; }
  bool is_string() const { return type_ == Type::string; }
  bool is_array() const { return type_ == Type::array; }

  // Integer value (0 unless is_integer()).
  long long integer() const { return integer_; }
  // Bytes of a string, text of a status or an error ("" otherwise).
  const std::string& str() const { return str_; }
  // Elements of an array (empty otherwise).
  const std::vector<Reply>& elements() const { return elements_; }
  std::size_t size() const { return elements_.size(); }
  const Reply& operator[](std::size_t i) const { return elements_.at(i); }

  // True for an error reply whose first word is `code`, e.g. is_error_code("NOSCRIPT").
  bool is_error_code(std::string_view code) const;
  // A short human-readable rendering for logs and test failures.
  std::string debug_string() const;

 private:
  Type type_ = Type::nil;
  long long integer_ = 0;
  std::string str_;
  std::vector<Reply> elements_;
};

// A flat field/value array (HGETALL) as pairs, in reply order; a trailing odd element is ignored.
std::vector<std::pair<std::string, std::string>> hash_pairs(const Reply& reply);

}  // namespace clickrace::redis
