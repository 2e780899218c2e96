// The MessagePack hub protocol behind the HubProtocol seam: binary frames, VarInt-prefixed bodies.
#include <charconv>

#include "clickrace/core/log.hpp"
#include "clickrace/signalr/binary_framing.hpp"
#include "clickrace/signalr/msgpack.hpp"
#include "clickrace/signalr/msgpack_codec.hpp"
#include "hub_protocol.hpp"

namespace clickrace::gateway {
namespace {

// Server-made JSON text as one MessagePack value; nil (logged) if it is not JSON, which would be
// a bug of ours, not client input.
void append_value(std::string& out, std::string_view json_text) {
  auto v = nlohmann::json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (v.is_discarded()) {
    CR_LOG(error) << "not a JSON value, sent as nil: " << json_text.substr(0, 80);
    return signalr::msgpack::write_nil(out);
  }
  signalr::msgpack::write_json(out, v);
}

class MessagePackProtocol final : public HubProtocol {
 public:
  signalr::Protocol id() const override { return signalr::Protocol::messagepack; }
  std::string_view name() const override { return signalr::kMessagePackProtocolName; }
  bool binary() const override { return true; }

  InboundReader make_reader(std::size_t max_message) const override {
    return signalr::BinaryFrameReader(max_message);
  }

  Result<bool> for_each_message(InboundReader& reader, std::string_view payload,
                                FnRef<bool(std::string_view)> f) const override {
    auto& frames = std::get<signalr::BinaryFrameReader>(reader);
    if (frames.buffered() == 0 && !frames.failed() &&
        signalr::whole_frames(payload, frames.max_body_size())) {
      signalr::for_each_frame(payload, f);
      return true;
    }
    auto got = frames.feed(payload);
    if (!got) return got.error();
    for (const auto& body : *got) {
      if (!f(body)) break;
    }
    return true;
  }

  std::optional<FastClick> fast_click(std::string_view body) const override {
    FastClick click;
    if (!signalr::parse_msgpack_fast_click(body, click.invocation_id)) return std::nullopt;
    return click;
  }
  Result<signalr::HubMessage> parse(std::string_view body) const override {
    return signalr::parse_msgpack_message(body);
  }

  // [3, {}, id, 3, {"round": R, "clicks": N}] without a DOM.
  void click_completion(std::string& out, std::string_view id, const ClickAck& ack) const override {
    std::string result;
    result += '\x82';
    signalr::msgpack::write_str(result, "round");
    signalr::msgpack::write_int(result, ack.round);
    signalr::msgpack::write_str(result, "clicks");
    signalr::msgpack::write_int(result, ack.clicks);
    signalr::append_msgpack_completion_result(out, id, result);
  }
  void completion_result(std::string& out, std::string_view id,
                         std::string_view json_value) const override {
    std::string value;
    append_value(value, json_value);
    signalr::append_msgpack_completion_result(out, id, value);
  }
  void completion_error(std::string& out, std::string_view id,
                        std::string_view text) const override {
    signalr::append_msgpack_completion_error(out, id, text);
  }
  void event(std::string& out, std::string_view target,
             std::string_view json_argument) const override {
    std::string value;
    append_value(value, json_argument);
    signalr::append_msgpack_invocation(out, target, value);
  }
  std::string_view ping() const override { return signalr::kMsgpackPingFrame; }
  void close(std::string& out, std::optional<std::string_view> error,
             bool allow_reconnect) const override {
    signalr::append_msgpack_close(out, error, allow_reconnect);
  }
  void ack(std::string& out, std::uint64_t sequence_id) const override {
    signalr::serialize_msgpack_to(out, signalr::AckMessage{sequence_id});
  }
  void sequence(std::string& out, std::uint64_t sequence_id) const override {
    signalr::serialize_msgpack_to(out, signalr::SequenceMessage{sequence_id});
  }
};

}  // namespace

const HubProtocol& messagepack_protocol() {
  static const MessagePackProtocol instance;
  return instance;
}

}  // namespace clickrace::gateway
