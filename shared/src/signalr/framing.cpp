#include "clickrace/signalr/framing.hpp"

namespace clickrace::signalr {

RecordReader::RecordReader(std::size_t max_record_size) : max_record_size_(max_record_size) {}

Result<std::vector<std::string>> RecordReader::feed(std::string_view chunk) {
  auto fail = [this]() {
    failed_ = true;
    std::string().swap(partial_);  // give the memory back now; the connection is closing
    return Error{std::string(kRecordTooLargeError)};
  };
  if (failed_) return fail();

  std::vector<std::string> records;
  std::size_t pos = 0;
  while (pos <= chunk.size()) {
    const std::size_t sep = chunk.find(kRecordSeparator, pos);
    const std::size_t end = sep == std::string_view::npos ? chunk.size() : sep;
    const std::string_view piece = chunk.substr(pos, end - pos);
    // Checked before buffering, so a peer can never make us hold more than the limit.
    if (partial_.size() + piece.size() > max_record_size_) return fail();
    if (sep == std::string_view::npos) {
      partial_.append(piece);
      break;
    }
    if (partial_.empty()) {
      records.emplace_back(piece);
    } else {
      partial_.append(piece);
      records.push_back(std::move(partial_));
      partial_.clear();
    }
    pos = sep + 1;
  }
  return records;
}

void append_record(std::string& out, std::string_view json) {
  out.reserve(out.size() + json.size() + 1);
  out.append(json);
  out.push_back(kRecordSeparator);
}

}  // namespace clickrace::signalr
