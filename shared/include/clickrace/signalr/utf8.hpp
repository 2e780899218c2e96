#pragma once
#include <cstddef>
#include <string_view>

// UTF-8 validation shared by the JSON and MessagePack codecs (Unicode Table 3-7: no overlongs,
// surrogates or code points above U+10FFFF).
namespace clickrace::signalr {

// Length of the valid UTF-8 sequence starting at s[i] (i < s.size(), s[i] >= 0x80), or 0 if it
// is invalid (bad lead byte, truncated, overlong, surrogate, above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i);

bool valid_utf8(std::string_view s);

}  // namespace clickrace::signalr
