#include "clickrace/signalr/json_codec.hpp"

#include <limits>
#include <type_traits>
#include <utility>

#include "clickrace/signalr/framing.hpp"
#include "clickrace/signalr/json_parse.hpp"

namespace clickrace::signalr {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------- parsing
// Error texts follow .NET's JsonHubProtocol wording; none of them echoes client input.

Error missing(const char* name) {
  return Error{std::string("Missing required property '") + name + "'."};
}
Error wrong_type(const char* name, const char* type) {
  return Error{std::string("Expected '") + name + "' to be of type " + type + "."};
}

#define CR_TRY(var, expr) \
  auto var = (expr);      \
  if (!var) return std::move(var).error()

json* find(json& obj, const char* name) {
  const auto it = obj.find(name);
  return it == obj.end() ? nullptr : &*it;
}

Result<std::optional<std::string>> optional_id(json& obj, const char* name) {
  json* v = find(obj, name);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return wrong_type(name, "String");
  auto& s = v->get_ref<std::string&>();
  if (s.empty()) return Error{std::string("'") + name + "' must not be empty."};
  return std::optional<std::string>(std::move(s));
}

Result<std::string> required_id(json& obj, const char* name) {
  CR_TRY(id, optional_id(obj, name));
  if (!*id) return missing(name);
  return std::move(**id);
}

Result<json> required_arguments(json& obj) {
  json* v = find(obj, "arguments");
  if (v == nullptr) return missing("arguments");
  if (!v->is_array()) return wrong_type("arguments", "Array");
  return std::move(*v);
}

Result<std::vector<std::string>> optional_stream_ids(json& obj) {
  std::vector<std::string> ids;
  json* v = find(obj, "streamIds");
  if (v == nullptr) return ids;
  if (!v->is_array()) return wrong_type("streamIds", "Array");
  ids.reserve(v->size());
  for (auto& id : *v) {
    if (!id.is_string() || id.get_ref<const std::string&>().empty()) {
      return Error{"Expected 'streamIds' to contain non-empty strings."};
    }
    ids.push_back(std::move(id.get_ref<std::string&>()));
  }
  return ids;
}

Result<Headers> optional_headers(json& obj) {
  Headers headers;
  json* v = find(obj, "headers");
  if (v == nullptr) return headers;
  if (!v->is_object()) return wrong_type("headers", "Object");
  for (auto& [key, value] : v->items()) {
    if (!value.is_string()) return Error{"Expected header values to be of type String."};
    headers.emplace(key, std::move(value.get_ref<std::string&>()));
  }
  return headers;
}

Result<std::uint64_t> required_sequence_id(json& obj) {
  json* v = find(obj, "sequenceId");
  if (v == nullptr) return missing("sequenceId");
  if (v->is_number_unsigned()) return v->get<std::uint64_t>();
  if (v->is_number_integer() && v->get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(v->get<std::int64_t>());
  }
  return Error{"Expected 'sequenceId' to be a non-negative integer."};
}

// Invocation and StreamInvocation share their fields; only a stream needs an invocationId.
template <typename Message>
Result<HubMessage> parse_invocation_like(json& obj) {
  constexpr bool kIdRequired = std::is_same_v<Message, StreamInvocationMessage>;
  Message m;
  auto id = [&]() -> Result<std::optional<std::string>> {
    if constexpr (kIdRequired) {
      CR_TRY(required, required_id(obj, "invocationId"));
      return std::optional<std::string>(std::move(*required));
    } else {
      return optional_id(obj, "invocationId");
    }
  }();
  if (!id) return id.error();
  CR_TRY(target, required_id(obj, "target"));
  CR_TRY(args, required_arguments(obj));
  CR_TRY(streams, optional_stream_ids(obj));
  CR_TRY(headers, optional_headers(obj));
  if constexpr (kIdRequired) {
    m.invocation_id = std::move(**id);
  } else {
    m.invocation_id = std::move(*id);
  }
  m.target = std::move(*target);
  m.arguments = std::move(*args);
  m.stream_ids = std::move(*streams);
  m.headers = std::move(*headers);
  return HubMessage(std::move(m));
}

Result<HubMessage> parse_stream_item(json& obj) {
  StreamItemMessage m;
  CR_TRY(id, required_id(obj, "invocationId"));
  CR_TRY(headers, optional_headers(obj));
  json* item = find(obj, "item");
  if (item == nullptr) return missing("item");
  m.invocation_id = std::move(*id);
  m.item = std::move(*item);
  m.headers = std::move(*headers);
  return HubMessage(std::move(m));
}

Result<HubMessage> parse_completion(json& obj) {
  CompletionMessage m;
  CR_TRY(id, required_id(obj, "invocationId"));
  CR_TRY(headers, optional_headers(obj));
  json* result = find(obj, "result");
  json* error = find(obj, "error");
  if (result != nullptr && error != nullptr) {
    return Error{"The 'error' and 'result' properties are mutually exclusive."};
  }
  if (error != nullptr) {
    if (!error->is_string()) return wrong_type("error", "String");
    m.error = std::move(error->get_ref<std::string&>());
  }
  if (result != nullptr) m.result = std::move(*result);
  m.invocation_id = std::move(*id);
  m.headers = std::move(*headers);
  return HubMessage(std::move(m));
}

Result<HubMessage> parse_cancel(json& obj) {
  CancelInvocationMessage m;
  CR_TRY(id, required_id(obj, "invocationId"));
  CR_TRY(headers, optional_headers(obj));
  m.invocation_id = std::move(*id);
  m.headers = std::move(*headers);
  return HubMessage(std::move(m));
}

Result<HubMessage> parse_close(json& obj) {
  CloseMessage m;
  if (json* error = find(obj, "error")) {
    if (!error->is_string()) return wrong_type("error", "String");
    m.error = std::move(error->get_ref<std::string&>());
  }
  if (json* reconnect = find(obj, "allowReconnect")) {
    if (!reconnect->is_boolean()) return wrong_type("allowReconnect", "Boolean");
    m.allow_reconnect = reconnect->get<bool>();
  }
  return HubMessage(std::move(m));
}

Result<std::int64_t> message_type(json& obj) {
  json* type = find(obj, "type");
  if (type == nullptr) return missing("type");
  if (type->is_number_integer() && !type->is_number_unsigned()) return type->get<std::int64_t>();
  if (type->is_number_unsigned() &&
      type->get<std::uint64_t>() <=
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return static_cast<std::int64_t>(type->get<std::uint64_t>());
  }
  return wrong_type("type", "Integer");
}

// ---------------------------------------------------------------- writing

void append_value(std::string& out, const json& value) {
  // replace: a string with invalid UTF-8 is written with U+FFFD instead of throwing.
  out += value.dump(-1, ' ', false, json::error_handler_t::replace);
}

void append_head(std::string& out, MessageType type) {
  out += "{\"type\":";
  out += std::to_string(static_cast<int>(type));
}

void append_string_prop(std::string& out, const char* name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  append_json_string(out, value);
}

// .NET writes headers right after the type.
void append_headers(std::string& out, const Headers& headers) {
  if (headers.empty()) return;
  out += ",\"headers\":{";
  bool first = true;
  for (const auto& [key, value] : headers) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, key);
    out += ':';
    append_json_string(out, value);
  }
  out += '}';
}

void append_call(std::string& out, const std::string& target, const json& arguments,
                 const std::vector<std::string>& stream_ids) {
  append_string_prop(out, "target", target);
  out += ",\"arguments\":";
  if (arguments.is_array()) {
    append_value(out, arguments);
  } else {  // the model says "always an array"; keep the output valid anyway
    out += '[';
    if (!arguments.is_null()) append_value(out, arguments);
    out += ']';
  }
  if (!stream_ids.empty()) {
    out += ",\"streamIds\":[";
    for (std::size_t i = 0; i < stream_ids.size(); ++i) {
      if (i > 0) out += ',';
      append_json_string(out, stream_ids[i]);
    }
    out += ']';
  }
}

void append_message(std::string& out, const InvocationMessage& m) {
  append_head(out, MessageType::kInvocation);
  append_headers(out, m.headers);
  if (m.invocation_id) append_string_prop(out, "invocationId", *m.invocation_id);
  append_call(out, m.target, m.arguments, m.stream_ids);
}

void append_message(std::string& out, const StreamInvocationMessage& m) {
  append_head(out, MessageType::kStreamInvocation);
  append_headers(out, m.headers);
  append_string_prop(out, "invocationId", m.invocation_id);
  append_call(out, m.target, m.arguments, m.stream_ids);
}

void append_message(std::string& out, const StreamItemMessage& m) {
  append_head(out, MessageType::kStreamItem);
  append_headers(out, m.headers);
  append_string_prop(out, "invocationId", m.invocation_id);
  out += ",\"item\":";
  append_value(out, m.item);
}

void append_message(std::string& out, const CompletionMessage& m) {
  append_head(out, MessageType::kCompletion);
  append_headers(out, m.headers);
  append_string_prop(out, "invocationId", m.invocation_id);
  if (m.error) {  // as in .NET, an error wins over a result
    append_string_prop(out, "error", *m.error);
  } else if (m.result) {
    out += ",\"result\":";
    append_value(out, *m.result);
  }
}

void append_message(std::string& out, const CancelInvocationMessage& m) {
  append_head(out, MessageType::kCancelInvocation);
  append_headers(out, m.headers);
  append_string_prop(out, "invocationId", m.invocation_id);
}

void append_message(std::string& out, const PingMessage&) { append_head(out, MessageType::kPing); }

void append_message(std::string& out, const CloseMessage& m) {
  append_head(out, MessageType::kClose);
  if (m.error) append_string_prop(out, "error", *m.error);
  if (m.allow_reconnect) out += ",\"allowReconnect\":true";
}

void append_message(std::string& out, const AckMessage& m) {
  append_head(out, MessageType::kAck);
  out += ",\"sequenceId\":";
  out += std::to_string(m.sequence_id);
}

void append_message(std::string& out, const SequenceMessage& m) {
  append_head(out, MessageType::kSequence);
  out += ",\"sequenceId\":";
  out += std::to_string(m.sequence_id);
}

void append_message(std::string& out, const UnknownMessage& m) {
  out += "{\"type\":";
  out += std::to_string(m.type);
}

}  // namespace

Result<HubMessage> parse_message(std::string_view record) {
  try {
    CR_TRY(parsed, parse_json_object(record, kMaxJsonDepth));
    json& obj = *parsed;
    CR_TRY(type, message_type(obj));
    switch (*type) {
      case static_cast<int>(MessageType::kInvocation):
        return parse_invocation_like<InvocationMessage>(obj);
      case static_cast<int>(MessageType::kStreamItem):
        return parse_stream_item(obj);
      case static_cast<int>(MessageType::kCompletion):
        return parse_completion(obj);
      case static_cast<int>(MessageType::kStreamInvocation):
        return parse_invocation_like<StreamInvocationMessage>(obj);
      case static_cast<int>(MessageType::kCancelInvocation):
        return parse_cancel(obj);
      case static_cast<int>(MessageType::kPing):
        return HubMessage(PingMessage{});
      case static_cast<int>(MessageType::kClose):
        return parse_close(obj);
      case static_cast<int>(MessageType::kAck): {
        CR_TRY(seq, required_sequence_id(obj));
        return HubMessage(AckMessage{*seq});
      }
      case static_cast<int>(MessageType::kSequence): {
        CR_TRY(seq, required_sequence_id(obj));
        return HubMessage(SequenceMessage{*seq});
      }
      default:
        return HubMessage(UnknownMessage{*type});
    }
  } catch (...) {  // nothing below should throw; this keeps a surprise off the event loop
    return Error{"Invalid message."};
  }
}

void serialize_to(std::string& out, const HubMessage& message) {
  std::visit([&out](const auto& m) { append_message(out, m); }, message);
  out += '}';
  out += kRecordSeparator;
}

std::string serialize(const HubMessage& message) {
  std::string out;
  serialize_to(out, message);
  return out;
}

}  // namespace clickrace::signalr
