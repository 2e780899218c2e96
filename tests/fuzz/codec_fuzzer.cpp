// libFuzzer target for the SignalR codec: arbitrary bytes go through the record reader (split at a
// fuzzer-chosen point), the handshake parser and the message parser. Every parsed message must
// serialize and parse back to an equal message. Built with clang by tests/fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "clickrace/signalr/framing.hpp"
#include "clickrace/signalr/handshake.hpp"
#include "clickrace/signalr/json_codec.hpp"

using namespace clickrace::signalr;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t split = size ? data[0] % (size + 1) : 0;

  RecordReader reader(4096);
  for (std::string_view chunk : {input.substr(0, split), input.substr(split)}) {
    auto records = reader.feed(chunk);
    if (!records) break;
    for (const std::string& record : *records) {
      (void)negotiate_handshake(record);
      auto message = parse_message(record);
      if (!message) continue;
      std::string bytes = serialize(*message);
      if (bytes.empty() || bytes.back() != kRecordSeparator) std::abort();
      auto again = parse_message(std::string_view(bytes).substr(0, bytes.size() - 1));
      if (!again) std::abort();
      // Equality holds except for NaN-free JSON number normalisation, which the codec keeps exact.
      if (!(*again == *message)) std::abort();
    }
  }
  return 0;
}
