#pragma once
#include <cstddef>
#include <string_view>

#include "clickrace/signalr/framing.hpp"

// The common WebSocket message carries whole records (each ending with 0x1E) and nothing is left
// over from an earlier message: those records can be handled in place, without copying them out
// through signalr::RecordReader. Anything else (a partial record, one over the limit) goes through
// the reader, which then yields the same records or the same error.
namespace clickrace::gateway {

// True when `payload` is one or more complete records, none longer than `max_record`.
inline bool whole_records(std::string_view payload, std::size_t max_record) {
  if (payload.empty() || payload.back() != signalr::kRecordSeparator) return false;
  std::size_t start = 0;
  while (start < payload.size()) {
    std::size_t end = payload.find(signalr::kRecordSeparator, start);
    if (end - start > max_record) return false;
    start = end + 1;
  }
  return true;
}

// Calls `f(record)` for each record of a payload that passed whole_records(), in order, until
// `f` returns false.
template <typename F>
void for_each_record(std::string_view payload, F&& f) {
  std::size_t start = 0;
  while (start < payload.size()) {
    std::size_t end = payload.find(signalr::kRecordSeparator, start);
    if (!f(payload.substr(start, end - start))) return;
    start = end + 1;
  }
}

}  // namespace clickrace::gateway
