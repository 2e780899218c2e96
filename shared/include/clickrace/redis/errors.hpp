#pragma once
#include <string_view>

#include "clickrace/core/result.hpp"

struct redisAsyncContext;

// Transport-level outcomes of a command, reported as the Error of a Result<Reply>. The messages
// are fixed, short and safe to show; is_*() test for them.
namespace clickrace::redis {

inline constexpr std::string_view kErrTimeout = "redis: timeout";
inline constexpr std::string_view kErrNotConnected = "redis: not connected";
inline constexpr std::string_view kErrConnectionLost = "redis: connection lost";
inline constexpr std::string_view kErrClosed = "redis: closed";
inline constexpr std::string_view kErrOverloaded = "redis: too many commands in flight";
// ClusterClient with CallOptions::wait_replicas: the command ran on the primary, but fewer
// replicas than asked acknowledged it in time (it may be lost with the primary).
inline constexpr std::string_view kErrNotReplicated = "redis: not replicated in time";
// ... and refused before sending: the slot's primary has fewer replicas than asked (nothing ran).
inline constexpr std::string_view kErrTooFewReplicas = "redis: too few replicas";

inline bool is_timeout(const Error& e) { return e.message == kErrTimeout; }
inline bool is_not_connected(const Error& e) { return e.message == kErrNotConnected; }

// The one place a hiredis context error (err/errstr) becomes our Error. Used for logging and for
// failures while sending; the message names the failure kind, never credentials.
Error error_from_context(const redisAsyncContext* ac, std::string_view what);

}  // namespace clickrace::redis
