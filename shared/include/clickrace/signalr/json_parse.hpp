#pragma once
#include <string_view>

#include <nlohmann/json.hpp>

#include "clickrace/core/result.hpp"

// Bounded, exception-free JSON parsing for untrusted input (hub messages and the handshake).
namespace clickrace::signalr {

// Parses `text` as one JSON object. Rejects, with a short client-safe Error and no exception:
// nesting deeper than `max_depth` (checked by a linear pre-scan before any DOM is built),
// malformed JSON, invalid UTF-8, numbers out of double range, trailing data, non-objects.
Result<nlohmann::json> parse_json_object(std::string_view text, int max_depth);

}  // namespace clickrace::signalr
