#include "clickrace/redis/reply.hpp"

#include <hiredis/hiredis.h>

namespace clickrace::redis {

Reply Reply::status(std::string text) {
  Reply r;
  r.type_ = Type::status;
  r.str_ = std::move(text);
  return r;
}

Reply Reply::error(std::string text) {
  Reply r;
  r.type_ = Type::error;
  r.str_ = std::move(text);
  return r;
}

Reply Reply::integer(long long value) {
  Reply r;
  r.type_ = Type::integer;
  r.integer_ = value;
  return r;
}

Reply Reply::string(std::string bytes) {
  Reply r;
  r.type_ = Type::string;
  r.str_ = std::move(bytes);
  return r;
}

Reply Reply::array(std::vector<Reply> elements) {
  Reply r;
  r.type_ = Type::array;
  r.elements_ = std::move(elements);
  return r;
}

Reply Reply::from_hiredis(const redisReply* r) {
  if (r == nullptr) return Reply{};
  switch (r->type) {
    case REDIS_REPLY_STATUS:
      return status(std::string(r->str, r->len));
    case REDIS_REPLY_ERROR:
      return error(std::string(r->str, r->len));
    case REDIS_REPLY_INTEGER:
      return integer(r->integer);
    case REDIS_REPLY_STRING:
      return string(std::string(r->str, r->len));
    case REDIS_REPLY_ARRAY: {
      std::vector<Reply> elements;
      elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) elements.push_back(from_hiredis(r->element[i]));
      return array(std::move(elements));
    }
    default:
      return Reply{};
  }
}

bool Reply::is_error_code(std::string_view code) const {
  if (type_ != Type::error || str_.size() < code.size()) return false;
  if (std::string_view(str_).substr(0, code.size()) != code) return false;
  return str_.size() == code.size() || str_[code.size()] == ' ';
}

std::string Reply::debug_string() const {
  switch (type_) {
    case Type::nil:
      return "(nil)";
    case Type::status:
      return "+" + str_;
    case Type::error:
      return "-" + str_;
    case Type::integer:
      return ":" + std::to_string(integer_);
    case Type::string:
      return "\"" + str_ + "\"";
    case Type::array: {
      std::string out = "[";
      for (size_t i = 0; i < elements_.size(); ++i) {
        if (i) out += ", ";
        out += elements_[i].debug_string();
      }
      return out + "]";
    }
  }
  return "?";
}

std::vector<std::pair<std::string, std::string>> hash_pairs(const Reply& reply) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i + 1 < reply.size(); i += 2) {
    out.emplace_back(reply[i].str(), reply[i + 1].str());
  }
  return out;
}

}  // namespace clickrace::redis
