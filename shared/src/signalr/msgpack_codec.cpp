#include "clickrace/signalr/msgpack_codec.hpp"

#include <type_traits>
#include <utility>

#include "clickrace/signalr/binary_framing.hpp"
#include "clickrace/signalr/msgpack.hpp"

namespace clickrace::signalr {
namespace {

using msgpack::Reader;
using nlohmann::json;

#define CR_TRY(var, expr) \
  auto var = (expr);      \
  if (!var) return std::move(var).error()

Error invalid(const char* what) { return Error{std::string("Invalid payload: ") + what + "."}; }

// A value already checked to be a str holding valid UTF-8.
Result<std::string> read_string(Reader& in, const char* what) {
  auto v = in.value(1);
  if (!v || !v->is_string()) return invalid(what);
  return std::move(v->get_ref<std::string&>());
}

Result<std::string> read_id(Reader& in) {
  CR_TRY(id, read_string(in, "invocation id"));
  if (id->empty()) return invalid("invocation id");
  return std::move(*id);
}

Result<Headers> read_headers(Reader& in) {
  auto n = in.map_header();
  if (!n) return invalid("headers");
  Headers headers;
  for (std::uint32_t i = 0; i < *n; ++i) {
    CR_TRY(key, read_string(in, "headers"));
    CR_TRY(value, read_string(in, "headers"));
    headers.emplace(std::move(*key), std::move(*value));
  }
  return headers;
}

Result<json> read_arguments(Reader& in) {
  auto v = in.value(kMaxMsgpackDepth - 1);
  if (!v) return v.error();
  if (!v->is_array()) return invalid("arguments");
  return v;
}

Result<std::vector<std::string>> read_stream_ids(Reader& in) {
  auto n = in.array_header();
  if (!n) return invalid("stream ids");
  std::vector<std::string> ids;
  for (std::uint32_t i = 0; i < *n; ++i) {
    CR_TRY(id, read_id(in));
    ids.push_back(std::move(*id));
  }
  return ids;
}

Result<std::uint64_t> read_sequence_id(Reader& in) {
  auto v = in.value(1);
  if (!v) return invalid("sequence id");
  if (v->is_number_unsigned()) return v->get<std::uint64_t>();
  if (v->is_number_integer() && v->get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(v->get<std::int64_t>());
  }
  return invalid("sequence id");
}

template <typename Message>
Result<HubMessage> parse_invocation_like(Reader& in, std::uint32_t items) {
  constexpr bool kStream = std::is_same_v<Message, StreamInvocationMessage>;
  if (items < 5) return invalid("too few elements");
  Message m;
  CR_TRY(headers, read_headers(in));
  if constexpr (kStream) {
    CR_TRY(id, read_id(in));
    m.invocation_id = std::move(*id);
  } else {
    if (!in.nil()) {
      CR_TRY(id, read_id(in));
      m.invocation_id = std::move(*id);
    }
  }
  CR_TRY(target, read_string(in, "target"));
  if (target->empty()) return invalid("target");
  CR_TRY(args, read_arguments(in));
  if (items > 5) {
    CR_TRY(streams, read_stream_ids(in));
    m.stream_ids = std::move(*streams);
  }
  m.headers = std::move(*headers);
  m.target = std::move(*target);
  m.arguments = std::move(*args);
  return HubMessage(std::move(m));
}

Result<HubMessage> parse_completion(Reader& in, std::uint32_t items) {
  if (items < 4) return invalid("too few elements");
  CompletionMessage m;
  CR_TRY(headers, read_headers(in));
  CR_TRY(id, read_id(in));
  auto kind = in.integer();
  if (!kind || *kind < 1 || *kind > 3) return invalid("result kind");
  if (*kind != 2 && items < 5) return invalid("too few elements");
  if (*kind == 1) {
    CR_TRY(error, read_string(in, "error"));
    m.error = std::move(*error);
  } else if (*kind == 3) {
    CR_TRY(result, in.value(kMaxMsgpackDepth - 1));
    m.result = std::move(*result);
  }
  m.headers = std::move(*headers);
  m.invocation_id = std::move(*id);
  return HubMessage(std::move(m));
}

Result<HubMessage> parse_body(Reader& in) {
  auto items = in.array_header();
  if (!items || *items == 0) return Error{"Invalid payload: expected a non-empty array."};
  auto type = in.integer();
  if (!type) return invalid("message type");
  switch (*type) {
    case static_cast<int>(MessageType::kInvocation):
      return parse_invocation_like<InvocationMessage>(in, *items);
    case static_cast<int>(MessageType::kStreamInvocation):
      return parse_invocation_like<StreamInvocationMessage>(in, *items);
    case static_cast<int>(MessageType::kStreamItem): {
      if (*items < 4) return invalid("too few elements");
      StreamItemMessage m;
      CR_TRY(headers, read_headers(in));
      CR_TRY(id, read_id(in));
      CR_TRY(item, in.value(kMaxMsgpackDepth - 1));
      m.headers = std::move(*headers);
      m.invocation_id = std::move(*id);
      m.item = std::move(*item);
      return HubMessage(std::move(m));
    }
    case static_cast<int>(MessageType::kCompletion):
      return parse_completion(in, *items);
    case static_cast<int>(MessageType::kCancelInvocation): {
      if (*items < 3) return invalid("too few elements");
      CancelInvocationMessage m;
      CR_TRY(headers, read_headers(in));
      CR_TRY(id, read_id(in));
      m.headers = std::move(*headers);
      m.invocation_id = std::move(*id);
      return HubMessage(std::move(m));
    }
    case static_cast<int>(MessageType::kPing):
      return HubMessage(PingMessage{});
    case static_cast<int>(MessageType::kClose): {
      if (*items < 2) return invalid("too few elements");
      CloseMessage m;
      if (!in.nil()) {
        CR_TRY(error, read_string(in, "error"));
        m.error = std::move(*error);
      }
      if (*items >= 3) {
        auto allow = in.boolean();
        if (!allow) return invalid("allowReconnect");
        m.allow_reconnect = *allow;
      }
      return HubMessage(std::move(m));
    }
    case static_cast<int>(MessageType::kAck):
    case static_cast<int>(MessageType::kSequence): {
      if (*items < 2) return invalid("too few elements");
      CR_TRY(seq, read_sequence_id(in));
      if (*type == static_cast<int>(MessageType::kAck)) return HubMessage(AckMessage{*seq});
      return HubMessage(SequenceMessage{*seq});
    }
    default:
      return HubMessage(UnknownMessage{*type});
  }
}

// ---------------------------------------------------------------- writing

// Every frame is written into `out` behind a placeholder prefix, which is then fixed up: most
// bodies are < 128 bytes (one prefix byte), so the fix-up rarely moves anything.
template <typename F>
void framed(std::string& out, F&& write_body) {
  const std::size_t at = out.size();
  out.push_back('\0');
  write_body(out);
  const std::size_t size = out.size() - at - 1;
  if (size < 0x80) {
    out[at] = static_cast<char>(size);
    return;
  }
  std::string prefix;
  append_varint(prefix, static_cast<std::uint32_t>(size));
  out.replace(at, 1, prefix);
}

void write_headers(std::string& out, const Headers& headers) {
  msgpack::write_map_header(out, static_cast<std::uint32_t>(headers.size()));
  for (const auto& [k, v] : headers) {
    msgpack::write_str(out, k);
    msgpack::write_str(out, v);
  }
}

void write_args(std::string& out, const json& arguments) {
  if (arguments.is_array()) return msgpack::write_json(out, arguments);
  if (arguments.is_null()) return msgpack::write_array_header(out, 0);
  msgpack::write_array_header(out, 1);
  msgpack::write_json(out, arguments);
}

void write_stream_ids(std::string& out, const std::vector<std::string>& ids) {
  msgpack::write_array_header(out, static_cast<std::uint32_t>(ids.size()));
  for (const auto& id : ids) msgpack::write_str(out, id);
}

void write_body(std::string& out, const InvocationMessage& m) {
  msgpack::write_array_header(out, m.stream_ids.empty() ? 5 : 6);
  msgpack::write_int(out, 1);
  write_headers(out, m.headers);
  if (m.invocation_id) {
    msgpack::write_str(out, *m.invocation_id);
  } else {
    msgpack::write_nil(out);
  }
  msgpack::write_str(out, m.target);
  write_args(out, m.arguments);
  if (!m.stream_ids.empty()) write_stream_ids(out, m.stream_ids);
}

void write_body(std::string& out, const StreamInvocationMessage& m) {
  msgpack::write_array_header(out, m.stream_ids.empty() ? 5 : 6);
  msgpack::write_int(out, 4);
  write_headers(out, m.headers);
  msgpack::write_str(out, m.invocation_id);
  msgpack::write_str(out, m.target);
  write_args(out, m.arguments);
  if (!m.stream_ids.empty()) write_stream_ids(out, m.stream_ids);
}

void write_body(std::string& out, const StreamItemMessage& m) {
  msgpack::write_array_header(out, 4);
  msgpack::write_int(out, 2);
  write_headers(out, m.headers);
  msgpack::write_str(out, m.invocation_id);
  msgpack::write_json(out, m.item);
}

void write_body(std::string& out, const CompletionMessage& m) {
  const int kind = m.error ? 1 : m.result ? 3 : 2;
  msgpack::write_array_header(out, kind == 2 ? 4 : 5);
  msgpack::write_int(out, 3);
  write_headers(out, m.headers);
  msgpack::write_str(out, m.invocation_id);
  msgpack::write_int(out, kind);
  if (kind == 1) msgpack::write_str(out, *m.error);
  if (kind == 3) msgpack::write_json(out, *m.result);
}

void write_body(std::string& out, const CancelInvocationMessage& m) {
  msgpack::write_array_header(out, 3);
  msgpack::write_int(out, 5);
  write_headers(out, m.headers);
  msgpack::write_str(out, m.invocation_id);
}

void write_body(std::string& out, const PingMessage&) {
  msgpack::write_array_header(out, 1);
  msgpack::write_int(out, 6);
}

void write_close_body(std::string& out, std::optional<std::string_view> error, bool allow) {
  msgpack::write_array_header(out, 3);
  msgpack::write_int(out, 7);
  if (error && !error->empty()) {
    msgpack::write_str(out, *error);
  } else {
    msgpack::write_nil(out);
  }
  msgpack::write_bool(out, allow);
}

void write_body(std::string& out, const CloseMessage& m) {
  write_close_body(out, m.error ? std::optional<std::string_view>(*m.error) : std::nullopt,
                   m.allow_reconnect);
}

void write_body(std::string& out, const AckMessage& m) {
  msgpack::write_array_header(out, 2);
  msgpack::write_int(out, 8);
  msgpack::write_uint(out, m.sequence_id);
}

void write_body(std::string& out, const SequenceMessage& m) {
  msgpack::write_array_header(out, 2);
  msgpack::write_int(out, 9);
  msgpack::write_uint(out, m.sequence_id);
}

void write_body(std::string& out, const UnknownMessage& m) {
  msgpack::write_array_header(out, 1);
  msgpack::write_int(out, m.type);
}

bool printable_ascii(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

bool iequals_click(std::string_view s) {
  static constexpr std::string_view kClick = "click";
  if (s.size() != kClick.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kClick[i]) return false;
  }
  return true;
}

}  // namespace

Result<HubMessage> parse_msgpack_message(std::string_view body) {
  try {
    Reader in(body);
    return parse_body(in);
  } catch (...) {  // nothing below should throw (bad_alloc aside): keep it off the event loop
    return Error{"Invalid message."};
  }
}

void serialize_msgpack_to(std::string& out, const HubMessage& message) {
  framed(out,
         [&](std::string& o) { std::visit([&o](const auto& m) { write_body(o, m); }, message); });
}

std::string serialize_msgpack(const HubMessage& message) {
  std::string out;
  serialize_msgpack_to(out, message);
  return out;
}

void append_msgpack_completion_result(std::string& out, std::string_view invocation_id,
                                      std::string_view msgpack_result) {
  framed(out, [&](std::string& o) {
    o += "\x95\x03\x80";  // [3, {}, ...
    msgpack::write_str(o, invocation_id);
    o += '\x03';
    o.append(msgpack_result);
  });
}

void append_msgpack_completion_error(std::string& out, std::string_view invocation_id,
                                     std::string_view text) {
  framed(out, [&](std::string& o) {
    o += "\x95\x03\x80";
    msgpack::write_str(o, invocation_id);
    o += '\x01';
    msgpack::write_str(o, text);
  });
}

void append_msgpack_invocation(std::string& out, std::string_view target,
                               std::string_view msgpack_argument) {
  framed(out, [&](std::string& o) {
    o += "\x95\x01\x80\xc0";  // [1, {}, nil, ...
    msgpack::write_str(o, target);
    o += '\x91';
    o.append(msgpack_argument);
  });
}

void append_msgpack_close(std::string& out, std::optional<std::string_view> error,
                          bool allow_reconnect) {
  framed(out, [&](std::string& o) { write_close_body(o, error, allow_reconnect); });
}

bool parse_msgpack_fast_click(std::string_view body, std::optional<std::string>& invocation_id) {
  Reader in(body);
  auto items = in.array_header();
  if (!items || (*items != 5 && *items != 6)) return false;
  if (in.integer() != std::optional<std::int64_t>(1)) return false;
  if (in.map_header() != std::optional<std::uint32_t>(0)) return false;
  std::optional<std::string_view> id;
  if (!in.nil()) {
    id = in.str();
    if (!id || id->empty() || !printable_ascii(*id)) return false;
  }
  auto target = in.str();
  if (!target || !iequals_click(*target)) return false;
  if (in.array_header() != std::optional<std::uint32_t>(0)) return false;
  if (*items == 6 && in.array_header() != std::optional<std::uint32_t>(0)) return false;
  if (!in.at_end()) return false;
  invocation_id = id ? std::optional<std::string>(std::string(*id)) : std::nullopt;
  return true;
}

}  // namespace clickrace::signalr
