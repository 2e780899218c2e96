#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "click_batch.hpp"
#include "click_codec.hpp"
#include "clickrace/core/result.hpp"
#include "clickrace/signalr/binary_framing.hpp"
#include "clickrace/signalr/framing.hpp"
#include "clickrace/signalr/handshake.hpp"
#include "clickrace/signalr/messages.hpp"

// The seam between the hub and the wire (DESIGN §4 "Codec is not transport"): the hub handles
// parsed messages and asks a HubProtocol for the bytes of what it sends. Two implementations,
// JSON (text frames, 0x1E-terminated records) and MessagePack (binary frames, VarInt-prefixed
// bodies), each with a Click fast path that needs no DOM. Stateless singletons.
//
// Values the hub sends (GetRound's answer, event arguments) are given as the JSON text the bus and
// the Redis layer produce: the JSON protocol copies it verbatim, MessagePack maps it one to one
// (objects to maps, integers to the smallest integer encoding, 64-bit where times need it).
namespace clickrace::gateway {

// A connection's inbound framing: records before the handshake (always JSON + 0x1E), then the
// negotiated protocol's.
using InboundReader = std::variant<signalr::RecordReader, signalr::BinaryFrameReader>;

// A non-owning callable reference (no allocation per message on the hot path).
template <typename Sig>
class FnRef;
template <typename R, typename... A>
class FnRef<R(A...)> {
 public:
  template <typename F>
  FnRef(F& f)  // NOLINT: implicit by design
      : obj_(&f), call_([](void* o, A... a) -> R { return (*static_cast<F*>(o))(a...); }) {}
  R operator()(A... a) const { return call_(obj_, a...); }

 private:
  void* obj_;
  R (*call_)(void*, A...);
};

class HubProtocol {
 public:
  virtual ~HubProtocol() = default;
  virtual signalr::Protocol id() const = 0;
  virtual std::string_view name() const = 0;
  // WebSocket opcode of everything sent after the handshake.
  virtual bool binary() const = 0;

  // ---- in ----
  virtual InboundReader make_reader(std::size_t max_message) const = 0;
  // Calls `f(body)` for each complete message of `payload` (in order, until f returns false),
  // keeping a split message in `reader`. An Error is a framing error (over the size limit, bad
  // length prefix): the connection must close.
  virtual Result<bool> for_each_message(InboundReader& reader, std::string_view payload,
                                        FnRef<bool(std::string_view)> f) const = 0;
  // A Click invocation recognized without a DOM; nullopt: use parse().
  virtual std::optional<FastClick> fast_click(std::string_view body) const = 0;
  virtual Result<signalr::HubMessage> parse(std::string_view body) const = 0;

  // ---- out: each appends one whole message ----
  // {"round","clicks"} result of an acknowledged click.
  virtual void click_completion(std::string& out, std::string_view id,
                                const ClickAck& ack) const = 0;
  // A result given as one JSON value (server-made text).
  virtual void completion_result(std::string& out, std::string_view id,
                                 std::string_view json_value) const = 0;
  virtual void completion_error(std::string& out, std::string_view id,
                                std::string_view text) const = 0;
  // An event: Invocation without id, one argument given as one JSON value.
  virtual void event(std::string& out, std::string_view target,
                     std::string_view json_argument) const = 0;
  virtual std::string_view ping() const = 0;
  virtual void close(std::string& out, std::optional<std::string_view> error,
                     bool allow_reconnect) const = 0;
  virtual void ack(std::string& out, std::uint64_t sequence_id) const = 0;
  virtual void sequence(std::string& out, std::uint64_t sequence_id) const = 0;
};

const HubProtocol& json_protocol();
const HubProtocol& messagepack_protocol();
const HubProtocol& protocol_for(signalr::Protocol p);

// Before the handshake: the handshake record at the start of `payload`, fed through `reader`
// (which must be the RecordReader every connection starts with). Returns the record and how many
// bytes of `payload` it used (the rest belongs to the negotiated protocol), nullopt while the
// record is incomplete, or an Error when it is over the limit.
struct HandshakeRecord {
  std::string record;
  std::size_t used = 0;
};
Result<std::optional<HandshakeRecord>> read_handshake(InboundReader& reader,
                                                      std::string_view payload);

}  // namespace clickrace::gateway
