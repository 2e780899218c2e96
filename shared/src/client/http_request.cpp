#include "clickrace/client/http_request.hpp"

#include <httplib.h>

namespace clickrace::client {

HttpReply http_request(const HttpUrl& url, const std::string& method, const std::string& target,
                       const HttpHeaders& headers, const std::string& body,
                       const HttpTimeouts& timeouts) {
  httplib::Client cli(url.origin());
  auto secs = [](std::chrono::milliseconds ms) {
    return std::make_pair(static_cast<time_t>(ms.count() / 1000),
                          static_cast<time_t>((ms.count() % 1000) * 1000));
  };
  auto [cs, cus] = secs(timeouts.connect);
  auto [rs, rus] = secs(timeouts.read);
  cli.set_connection_timeout(cs, cus);
  cli.set_read_timeout(rs, rus);
  cli.set_write_timeout(rs, rus);

  httplib::Headers h;
  for (const auto& [k, v] : headers) h.emplace(k, v);

  if (method != "GET" && method != "POST") {
    return HttpReply{0, "", "unsupported HTTP method " + method};
  }
  httplib::Result res = method == "GET" ? cli.Get(target.c_str(), h)
                        : body.empty()  ? cli.Post(target, h)
                                        : cli.Post(target, h, body, "application/json");
  if (!res) {
    return HttpReply{0, "",
                     "cannot reach " + url.origin() + ": " + httplib::to_string(res.error())};
  }
  return HttpReply{res->status, res->body, ""};
}

}  // namespace clickrace::client
