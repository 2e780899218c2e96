#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "click_batch.hpp"

// The hot path of the hub without a JSON DOM: the Click invocation record in, its completion out.
// Everything here is an optimization of the general codec (clickrace/signalr/json_codec.hpp) and
// must agree with it byte for byte; tests compare both on a table of inputs.
namespace clickrace::gateway {

struct FastClick {
  std::optional<std::string> invocation_id;  // nullopt: a non-blocking send
};

// Recognizes `{"type":1,"target":"Click","arguments":[],"invocationId":"N"}` in any key order,
// with JSON whitespace, the target in any case, and without invocationId (a send). The strings
// must be printable ASCII without escapes; any other key, value or shape (headers, streamIds,
// arguments, duplicates, escapes, trailing bytes...) gives nullopt: the record then goes to the
// full parser, which answers it exactly as before. When this recognizes a record, the full
// parser + decide() would call Click with the same invocation id.
std::optional<FastClick> parse_fast_click(std::string_view record);

// Appends the completion of one acknowledged click:
// {"type":3,"invocationId":"<id>","result":{"round":R,"clicks":N}} + 0x1E
// (the bytes of signalr::completion_result with that result).
void append_click_completion(std::string& out, std::string_view invocation_id, const ClickAck& ack);

}  // namespace clickrace::gateway
