#include "hub_protocol.hpp"

namespace clickrace::gateway {

const HubProtocol& protocol_for(signalr::Protocol p) {
  return p == signalr::Protocol::messagepack ? messagepack_protocol() : json_protocol();
}

Result<std::optional<HandshakeRecord>> read_handshake(InboundReader& reader,
                                                      std::string_view payload) {
  auto* records = std::get_if<signalr::RecordReader>(&reader);
  if (records == nullptr) return Error{"Invalid handshake state."};
  // Only up to the first separator: what follows is framed by the negotiated protocol.
  const std::size_t sep = payload.find(signalr::kRecordSeparator);
  const std::size_t used = sep == std::string_view::npos ? payload.size() : sep + 1;
  auto got = records->feed(payload.substr(0, used));
  if (!got) return got.error();
  if (got->empty()) return std::optional<HandshakeRecord>();
  return std::optional<HandshakeRecord>(HandshakeRecord{std::move(got->front()), used});
}

}  // namespace clickrace::gateway
