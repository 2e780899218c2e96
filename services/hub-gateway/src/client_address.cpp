#include "client_address.hpp"

#include <asio/ip/address.hpp>

namespace clickrace::gateway {
namespace {

std::string_view trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// As 16 bytes, IPv4 mapped into IPv6, so "127.0.0.1" and "::ffff:127.0.0.1" are one address.
bool to_bytes(std::string_view text, std::array<std::uint8_t, 16>& out, bool* v4 = nullptr) {
  asio::error_code ec;
  auto a = asio::ip::make_address(std::string(text), ec);
  if (ec) return false;
  if (a.is_v4()) {
    out = asio::ip::make_address_v6(asio::ip::v4_mapped, a.to_v4()).to_bytes();
    if (v4) *v4 = true;
  } else {
    out = a.to_v6().to_bytes();
    if (v4) *v4 = false;
  }
  return true;
}

bool valid_address(std::string_view text) {
  std::array<std::uint8_t, 16> ignored{};
  return !text.empty() && to_bytes(text, ignored);
}

}  // namespace

Result<TrustedProxies> TrustedProxies::parse(std::string_view list) {
  TrustedProxies t;
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (item.empty()) continue;
    auto bad = [&] { return make_error("bad trusted proxy '" + std::string(item) + "'"); };
    Net n;
    auto slash = item.find('/');
    bool v4 = false;
    if (!to_bytes(item.substr(0, slash), n.bytes, &v4)) return bad();
    if (slash != std::string_view::npos) {
      std::string_view bits = item.substr(slash + 1);
      if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != bits.npos) {
        return bad();
      }
      int p = std::stoi(std::string(bits));
      if (p > (v4 ? 32 : 128)) return bad();
      n.prefix = v4 ? 96 + p : p;
    }
    t.nets_.push_back(n);
  }
  return t;
}

bool TrustedProxies::contains(std::string_view address) const {
  std::array<std::uint8_t, 16> a{};
  if (nets_.empty() || !to_bytes(address, a)) return false;
  for (const Net& n : nets_) {
    int bits = n.prefix;
    bool match = true;
    for (std::size_t i = 0; i < 16 && bits > 0 && match; ++i, bits -= 8) {
      std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
      match = (a[i] & mask) == (n.bytes[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::string client_address(const HttpRequest& request, const TrustedProxies& trusted) {
  if (!trusted.contains(request.remote_address)) return request.remote_address;
  std::string real = std::string(trim(request.header("X-Real-IP")));
  if (valid_address(real)) return real;
  std::string forwarded = request.header("X-Forwarded-For");
  auto comma = forwarded.rfind(',');
  std::string_view last =
      trim(comma == std::string::npos ? std::string_view(forwarded)
                                      : std::string_view(forwarded).substr(comma + 1));
  if (valid_address(last)) return std::string(last);
  return request.remote_address;
}

std::string client_limit_key(std::string_view address) {
  asio::error_code ec;
  auto a = asio::ip::make_address(std::string(address.substr(0, 128)), ec);
  if (ec) return "?" + std::string(address.substr(0, 64));
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  }
  if (a.is_v4()) return a.to_v4().to_string();
  auto bytes = a.to_v6().to_bytes();
  for (std::size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;
  return asio::ip::address_v6(bytes).to_string() + "/64";  // the scope id is dropped too
}

}  // namespace clickrace::gateway
