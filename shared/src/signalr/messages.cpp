#include "clickrace/signalr/messages.hpp"

namespace clickrace::signalr {

bool operator==(const InvocationMessage& a, const InvocationMessage& b) {
  return a.invocation_id == b.invocation_id && a.target == b.target && a.arguments == b.arguments &&
         a.stream_ids == b.stream_ids && a.headers == b.headers;
}
bool operator==(const StreamItemMessage& a, const StreamItemMessage& b) {
  return a.invocation_id == b.invocation_id && a.item == b.item && a.headers == b.headers;
}
bool operator==(const CompletionMessage& a, const CompletionMessage& b) {
  return a.invocation_id == b.invocation_id && a.result == b.result && a.error == b.error &&
         a.headers == b.headers;
}
bool operator==(const StreamInvocationMessage& a, const StreamInvocationMessage& b) {
  return a.invocation_id == b.invocation_id && a.target == b.target && a.arguments == b.arguments &&
         a.stream_ids == b.stream_ids && a.headers == b.headers;
}
bool operator==(const CancelInvocationMessage& a, const CancelInvocationMessage& b) {
  return a.invocation_id == b.invocation_id && a.headers == b.headers;
}
bool operator==(const PingMessage&, const PingMessage&) { return true; }
bool operator==(const CloseMessage& a, const CloseMessage& b) {
  return a.error == b.error && a.allow_reconnect == b.allow_reconnect;
}
bool operator==(const AckMessage& a, const AckMessage& b) { return a.sequence_id == b.sequence_id; }
bool operator==(const SequenceMessage& a, const SequenceMessage& b) {
  return a.sequence_id == b.sequence_id;
}
bool operator==(const UnknownMessage& a, const UnknownMessage& b) { return a.type == b.type; }

}  // namespace clickrace::signalr
