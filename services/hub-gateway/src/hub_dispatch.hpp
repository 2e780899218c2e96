#pragma once
#include <optional>
#include <string>

#include "clickrace/signalr/messages.hpp"

// What to do with one parsed hub message: a pure decision, so the method table, argument checks
// and .NET error texts are tested without a socket.
namespace clickrace::gateway {

enum class HubMethod { click, get_round };

struct HubAction {
  enum class Kind {
    ignore,       // nothing to do (ping, ack, cancel, upload items, sends that failed checks...)
    call,         // run `method`; reply to `invocation_id` if set
    reply_error,  // send Completion{invocation_id, error}
    close,        // the client sent Close: close the connection
  };
  Kind kind = Kind::ignore;
  HubMethod method = HubMethod::click;
  std::optional<std::string> invocation_id;
  std::string error;
};

// .NET's texts (DefaultHubDispatcher / ErrorMessageHelper).
std::string unknown_method_error(const std::string& target);
std::string bad_arguments_error(const std::string& target);
std::string streaming_mismatch_error(const std::string& target);

// Method names match case-insensitively, as in ASP.NET Core. Errors are only ever answered
// when the client sent an invocationId: a non-blocking send gets no reply at all.
HubAction decide(const signalr::HubMessage& message);

}  // namespace clickrace::gateway
