// libFuzzer target for the MessagePack hub protocol: arbitrary bytes go through the binary frame
// reader (split at a fuzzer-chosen point) and the message parser, and each body through the Click
// fast path. Every parsed message must serialize, parse back and serialize to the same bytes; a
// body the fast path takes must parse to a Click invocation with the same id. Built by
// tests/fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "clickrace/signalr/binary_framing.hpp"
#include "clickrace/signalr/msgpack_codec.hpp"

using namespace clickrace::signalr;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t split = size ? data[0] % (size + 1) : 0;

  BinaryFrameReader reader(4096);
  for (std::string_view chunk : {input.substr(0, split), input.substr(split)}) {
    auto bodies = reader.feed(chunk);
    if (!bodies) break;
    for (const std::string& body : *bodies) {
      std::optional<std::string> id;
      const bool fast = parse_msgpack_fast_click(body, id);
      auto message = parse_msgpack_message(body);
      if (fast) {
        if (!message) std::abort();
        auto* inv = std::get_if<InvocationMessage>(&*message);
        if (inv == nullptr || inv->invocation_id != id || !inv->arguments.empty()) std::abort();
      }
      if (!message) continue;
      std::string frame = serialize_msgpack(*message);
      BinaryFrameReader again_reader(1 << 20);
      auto again = again_reader.feed(frame);
      if (!again || again->size() != 1) std::abort();
      auto reparsed = parse_msgpack_message(again->front());
      if (!reparsed) std::abort();
      // Compared as bytes, not values: a NaN argument is a valid value unequal to itself.
      if (serialize_msgpack(*reparsed) != frame) std::abort();
    }
  }
  // The whole input as one body too (most fuzz inputs are not framed).
  (void)parse_msgpack_message(input);
  return 0;
}
