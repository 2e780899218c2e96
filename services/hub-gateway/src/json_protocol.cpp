// The JSON hub protocol behind the HubProtocol seam: text frames, records ending with 0x1E.
#include "click_codec.hpp"
#include "clickrace/signalr/json_codec.hpp"
#include "hub_protocol.hpp"
#include "inbound_records.hpp"

namespace clickrace::gateway {
namespace {

class JsonProtocol final : public HubProtocol {
 public:
  signalr::Protocol id() const override { return signalr::Protocol::json; }
  std::string_view name() const override { return signalr::kJsonProtocolName; }
  bool binary() const override { return false; }

  InboundReader make_reader(std::size_t max_message) const override {
    return signalr::RecordReader(max_message);
  }

  Result<bool> for_each_message(InboundReader& reader, std::string_view payload,
                                FnRef<bool(std::string_view)> f) const override {
    auto& records = std::get<signalr::RecordReader>(reader);
    // The common message holds whole records and nothing is held over: handled in place.
    if (records.buffered() == 0 && !records.failed() &&
        whole_records(payload, records.max_record_size())) {
      for_each_record(payload, f);
      return true;
    }
    auto got = records.feed(payload);
    if (!got) return got.error();
    for (const auto& record : *got) {
      if (!f(record)) break;
    }
    return true;
  }

  std::optional<FastClick> fast_click(std::string_view body) const override {
    return parse_fast_click(body);
  }
  Result<signalr::HubMessage> parse(std::string_view body) const override {
    return signalr::parse_message(body);
  }

  void click_completion(std::string& out, std::string_view id, const ClickAck& ack) const override {
    append_click_completion(out, id, ack);
  }
  void completion_result(std::string& out, std::string_view id,
                         std::string_view json_value) const override {
    out += signalr::completion_result(id, json_value);
  }
  void completion_error(std::string& out, std::string_view id,
                        std::string_view text) const override {
    out += signalr::completion_error(id, text);
  }
  void event(std::string& out, std::string_view target,
             std::string_view json_argument) const override {
    out += signalr::invocation_frame(target, json_argument);
  }
  std::string_view ping() const override { return signalr::kPingFrame; }
  void close(std::string& out, std::optional<std::string_view> error,
             bool allow_reconnect) const override {
    out += signalr::close_frame(error, allow_reconnect);
  }
  void ack(std::string& out, std::uint64_t sequence_id) const override {
    signalr::serialize_to(out, signalr::AckMessage{sequence_id});
  }
  void sequence(std::string& out, std::uint64_t sequence_id) const override {
    signalr::serialize_to(out, signalr::SequenceMessage{sequence_id});
  }
};

}  // namespace

const HubProtocol& json_protocol() {
  static const JsonProtocol instance;
  return instance;
}

}  // namespace clickrace::gateway
