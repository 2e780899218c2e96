#include "clickrace/core/validation.hpp"

namespace clickrace::core {
namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

std::optional<std::string> validate_name(std::string_view name) {
  if (name.size() < kNameMin || name.size() > kNameMax) {
    return "name must be 3 to 24 characters long";
  }
  for (char c : name) {
    if (!name_char(c)) return "name may contain only letters, digits, '_' and '-'";
  }
  return std::nullopt;
}

std::optional<std::string> validate_password(std::string_view password) {
  if (password.size() < kPasswordMin) return "password must be at least 8 bytes long";
  if (password.size() > kPasswordMax) return "password must be at most 128 bytes long";
  return std::nullopt;
}

std::string name_key(std::string_view name) {
  std::string key(name);
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return key;
}

}  // namespace clickrace::core
