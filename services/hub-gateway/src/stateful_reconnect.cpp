#include "stateful_reconnect.hpp"

#include "clickrace/signalr/binary_framing.hpp"
#include "clickrace/signalr/framing.hpp"
#include "clickrace/signalr/json_codec.hpp"
#include "clickrace/signalr/msgpack_codec.hpp"

namespace clickrace::gateway {

bool OutboundLog::record(std::shared_ptr<const std::string> bytes, std::uint32_t count) {
  if (count == 0) return true;
  bytes_ += bytes->size();
  entries_.push_back(Entry{sent_ + 1, count, std::move(bytes)});
  sent_ += count;
  return bytes_ <= limit_;
}

void OutboundLog::ack(std::uint64_t sequence_id) {
  // An entry half acknowledged is kept whole: a replay starts at its first message and the
  // receiver skips the ones it has (ids at or below its latest).
  auto done = entries_.begin();
  while (done != entries_.end() && done->first + done->count - 1 <= sequence_id) {
    bytes_ -= done->bytes->size();
    ++done;
  }
  entries_.erase(entries_.begin(), done);
}

std::uint64_t OutboundLog::resend_from() const {
  return entries_.empty() ? sent_ + 1 : entries_.front().first;
}

bool InboundSequence::accept() {
  const std::uint64_t current = next_++;
  if (current <= latest_) return false;
  latest_ = current;
  ack_due_ = true;
  return true;
}

void InboundSequence::ack_again() { ack_due_ = latest_ > 0; }

bool InboundSequence::reset(std::uint64_t sequence_id) {
  if (sequence_id > next_ || sequence_id == 0) return false;
  next_ = sequence_id;
  return true;
}

bool trackable(const signalr::HubMessage& message) {
  return std::holds_alternative<signalr::InvocationMessage>(message) ||
         std::holds_alternative<signalr::StreamItemMessage>(message) ||
         std::holds_alternative<signalr::CompletionMessage>(message) ||
         std::holds_alternative<signalr::StreamInvocationMessage>(message) ||
         std::holds_alternative<signalr::CancelInvocationMessage>(message);
}

bool is_resume_attempt(std::string_view payload) {
  // JSON: the first record. A handshake never parses as a hub message (it has no "type").
  const std::size_t sep = payload.find(signalr::kRecordSeparator);
  if (sep != std::string_view::npos) {
    auto m = signalr::parse_message(payload.substr(0, sep));
    if (m && std::holds_alternative<signalr::SequenceMessage>(*m)) return true;
  }
  // MessagePack: the first frame (a JSON handshake's '{' would announce a 123-byte body whose
  // first byte '"' is not an array).
  auto prefix = signalr::read_varint(payload);
  if (!prefix || !*prefix) return false;
  const std::size_t start = (*prefix)->prefix_bytes;
  if ((*prefix)->body_size > payload.size() - start) return false;
  auto m = signalr::parse_msgpack_message(
      payload.substr(start, static_cast<std::size_t>((*prefix)->body_size)));
  return m && std::holds_alternative<signalr::SequenceMessage>(*m);
}

}  // namespace clickrace::gateway
