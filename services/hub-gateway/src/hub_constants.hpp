#pragma once
#include <cstdint>
#include <string_view>

// Texts and codes the hub's two halves (hub.cpp, hub_outbound.cpp) share.
namespace clickrace::gateway::hub_constants {
inline constexpr std::string_view kHandshakeCanceled = "Handshake was canceled.";
inline constexpr std::string_view kClosedWithError = "Connection closed with an error.";
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseTooBig = 1009;
inline constexpr int kMaxGetRoundInFlight = 4;
inline constexpr const char* kShuttingDownError = "server shutting down";
}  // namespace clickrace::gateway::hub_constants
