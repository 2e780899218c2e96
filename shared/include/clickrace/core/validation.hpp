#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// Account field rules (DESIGN.md §1.2). Validators return an error text fit for a 400 body, or
// nullopt when the value is valid.
namespace clickrace::core {

inline constexpr std::size_t kNameMin = 3;
inline constexpr std::size_t kNameMax = 24;
inline constexpr std::size_t kPasswordMin = 8;
inline constexpr std::size_t kPasswordMax = 128;

// 3–24 characters of A-Z a-z 0-9 _ -
std::optional<std::string> validate_name(std::string_view name);

// 8–128 bytes, any bytes.
std::optional<std::string> validate_password(std::string_view password);

// The uniqueness key of a name: ASCII lowercase ("Alice" and "alice" collide).
std::string name_key(std::string_view name);

}  // namespace clickrace::core
