#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

// Bad-input rows for the MessagePack hub protocol (binary frames after a messagepack handshake),
// each run against the suite's gateway (port, a login token) by badinput_test.cpp's table.
namespace clickrace::test {

using MsgpackCase = std::pair<std::string, std::function<void(int port, const std::string& token)>>;
std::vector<MsgpackCase> msgpack_hub_cases();

}  // namespace clickrace::test
