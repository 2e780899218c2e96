#include "hub_dispatch.hpp"

#include "http_types.hpp"

namespace clickrace::gateway {

std::string unknown_method_error(const std::string& target) {
  return "Unknown hub method '" + target + "'";
}
std::string bad_arguments_error(const std::string& target) {
  return "Failed to invoke '" + target + "' due to an error on the server.";
}
std::string streaming_mismatch_error(const std::string& target) {
  return "The client attempted to invoke the non-streaming '" + target +
         "' method with a streaming invocation.";
}

namespace {

std::optional<HubMethod> lookup(const std::string& target) {
  if (iequals(target, "Click")) return HubMethod::click;
  if (iequals(target, "GetRound")) return HubMethod::get_round;
  return std::nullopt;
}

HubAction error_or_ignore(const std::optional<std::string>& id, std::string text) {
  HubAction a;
  if (!id) return a;  // a send: never answered, not even with an error
  a.kind = HubAction::Kind::reply_error;
  a.invocation_id = id;
  a.error = std::move(text);
  return a;
}

HubAction on_invocation(const signalr::InvocationMessage& m) {
  auto method = lookup(m.target);
  if (!method) return error_or_ignore(m.invocation_id, unknown_method_error(m.target));
  // Both methods take no arguments and no upload streams.
  if (!m.arguments.empty() || !m.stream_ids.empty()) {
    return error_or_ignore(m.invocation_id, bad_arguments_error(m.target));
  }
  // GetRound has only a result: as a send it would do nothing visible, so it is skipped.
  if (*method == HubMethod::get_round && !m.invocation_id) return {};
  HubAction a;
  a.kind = HubAction::Kind::call;
  a.method = *method;
  a.invocation_id = m.invocation_id;
  return a;
}

HubAction on_stream_invocation(const signalr::StreamInvocationMessage& m) {
  if (!lookup(m.target)) return error_or_ignore(m.invocation_id, unknown_method_error(m.target));
  return error_or_ignore(m.invocation_id, streaming_mismatch_error(m.target));
}

}  // namespace

HubAction decide(const signalr::HubMessage& message) {
  if (auto* inv = std::get_if<signalr::InvocationMessage>(&message)) return on_invocation(*inv);
  if (auto* s = std::get_if<signalr::StreamInvocationMessage>(&message)) {
    return on_stream_invocation(*s);
  }
  if (std::holds_alternative<signalr::CloseMessage>(message)) {
    HubAction a;
    a.kind = HubAction::Kind::close;
    return a;
  }
  // Ping only refreshes activity; cancel/stream items/completions refer to streams we never
  // start; ack/sequence need stateful reconnect, which we do not offer; unknown types are ignored
  // as the spec says.
  return {};
}

}  // namespace clickrace::gateway
