#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "clickrace/core/result.hpp"

// SignalR text framing: every JSON record (handshake included) ends with one 0x1E. JSON cannot
// contain a raw 0x1E, so splitting on it is safe. A WebSocket message may carry several records,
// and we also accept a record split across messages (as .NET does, treating input as a stream).
namespace clickrace::signalr {

constexpr char kRecordSeparator = '\x1e';

// .NET's MaximumReceiveMessageSize default; it also bounds the handshake.
constexpr std::size_t kDefaultMaxRecordSize = 32 * 1024;

// Splits an inbound byte stream into records. Memory is bounded by the record limit: a record
// (without its separator) longer than the limit is an error even before its separator arrives.
// Not thread-safe; one reader per connection.
class RecordReader {
 public:
  explicit RecordReader(std::size_t max_record_size = kDefaultMaxRecordSize);

  // Appends `chunk` (any size, any split) and returns the records it completed, in order,
  // without separators. Empty records (two separators in a row) are returned as "" so the caller
  // can reject them like any other malformed record.
  // On an over-limit record returns an Error and the reader is failed for good: this call's
  // other records are dropped and every later call returns the same Error. Close the connection.
  Result<std::vector<std::string>> feed(std::string_view chunk);

  bool failed() const { return failed_; }
  // Bytes of an incomplete record currently held.
  std::size_t buffered() const { return partial_.size(); }
  std::size_t max_record_size() const { return max_record_size_; }

 private:
  std::size_t max_record_size_;
  std::string partial_;
  bool failed_ = false;
};

// The Error text returned by RecordReader when a record is over the limit.
constexpr std::string_view kRecordTooLargeError = "Message is too large.";

// Appends `json` and one record separator to `out`. `json` must not contain 0x1E.
void append_record(std::string& out, std::string_view json);

}  // namespace clickrace::signalr
