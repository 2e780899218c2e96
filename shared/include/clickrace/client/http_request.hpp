#pragma once
#include <string>
#include <utility>
#include <vector>

#include "clickrace/client/http_api.hpp"
#include "clickrace/client/url.hpp"

// One blocking HTTP/1.1 request (cpp-httplib behind this function, so only one TU includes it).
namespace clickrace::client {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// `target` is path[?query]. A non-empty body is sent as application/json.
HttpReply http_request(const HttpUrl& url, const std::string& method, const std::string& target,
                       const HttpHeaders& headers, const std::string& body,
                       const HttpTimeouts& timeouts);

}  // namespace clickrace::client
