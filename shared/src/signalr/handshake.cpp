#include "clickrace/signalr/handshake.hpp"

#include <limits>

#include "clickrace/signalr/framing.hpp"
#include "clickrace/signalr/json_codec.hpp"
#include "clickrace/signalr/json_parse.hpp"

namespace clickrace::signalr {
namespace {

// A handshake is flat; anything deeper is not a handshake.
constexpr int kHandshakeMaxDepth = 8;
// Protocol names are echoed in error texts; bound what a client can make us echo.
constexpr std::size_t kMaxEchoedName = 64;

std::string shortened(const std::string& name) {
  if (name.size() <= kMaxEchoedName) return name;
  std::size_t cut = kMaxEchoedName;
  // Back off to a UTF-8 boundary (the name came from the JSON parser, so it is valid UTF-8).
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  return name.substr(0, cut) + "...";
}

}  // namespace

Result<HandshakeRequest> parse_handshake_request(std::string_view record) {
  auto parsed = parse_json_object(record, kHandshakeMaxDepth);
  if (!parsed) return Error{"Invalid handshake request: " + parsed.error().message};
  const nlohmann::json& obj = *parsed;

  HandshakeRequest request;
  const auto protocol = obj.find("protocol");
  if (protocol == obj.end()) return Error{"Missing required property 'protocol'."};
  if (!protocol->is_string()) return Error{"Expected 'protocol' to be of type String."};
  request.protocol = protocol->get<std::string>();

  const auto version = obj.find("version");
  if (version == obj.end()) return Error{"Missing required property 'version'."};
  if (version->is_number_unsigned()) {
    const auto v = version->get<std::uint64_t>();
    request.version = v > static_cast<std::uint64_t>(std::numeric_limits<long long>::max())
                          ? std::numeric_limits<long long>::max()
                          : static_cast<long long>(v);
  } else if (version->is_number_integer()) {
    request.version = version->get<long long>();
  } else {
    return Error{"Expected 'version' to be of type Integer."};
  }
  return request;
}

Result<NegotiatedHandshake> negotiate_handshake(std::string_view record) {
  auto request = parse_handshake_request(record);
  if (!request) return request.error();
  NegotiatedHandshake out;
  if (request->protocol == kJsonProtocolName) {
    out.protocol = Protocol::json;
  } else if (request->protocol == kMessagePackProtocolName) {
    out.protocol = Protocol::messagepack;
  } else {
    return Error{"The protocol '" + shortened(request->protocol) + "' is not supported."};
  }
  if (request->version < kMinJsonProtocolVersion || request->version > kMaxJsonProtocolVersion) {
    return Error{"The server does not support version " + std::to_string(request->version) +
                 " of the '" + request->protocol + "' protocol."};
  }
  out.version = request->version;
  return out;
}

std::string handshake_error_frame(std::string_view text) {
  std::string out = "{\"error\":";
  append_json_string(out, text);
  out += '}';
  out += kRecordSeparator;
  return out;
}

}  // namespace clickrace::signalr
