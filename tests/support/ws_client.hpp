#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

// A small blocking WebSocket + HTTP client over a POSIX socket, for tests (service, fault,
// bench). Deliberately raw: it can send what a real client never would (binary, unterminated,
// oversized, raw bytes) and observe exactly what the server sends back.
namespace clickrace::test {

using namespace std::chrono_literals;

struct HttpResult {
  int status = 0;                              // 0 = no answer (connection failed)
  std::map<std::string, std::string> headers;  // lowercased names
  std::string body;
};

// One HTTP/1.1 request on a fresh connection (the gateway closes after each response).
HttpResult http_request(int port, const std::string& method, const std::string& target,
                        const std::string& body = "",
                        const std::map<std::string, std::string>& headers = {},
                        std::chrono::milliseconds timeout = 5s);

struct WsFrame {
  int opcode = 0;  // 1 text, 2 binary, 8 close, 9 ping, 10 pong
  std::string payload;
  bool fin = true;
};

class WsClient {
 public:
  WsClient() = default;
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // TCP connect + upgrade GET `target`. Returns the HTTP status (101 on success, 0 on failure);
  // the response body of a refusal is in upgrade_body().
  int connect(int port, const std::string& target,
              const std::map<std::string, std::string>& headers = {},
              std::chrono::milliseconds timeout = 5s);
  const std::string& upgrade_body() const { return upgrade_body_; }

  bool send_text(const std::string& payload);
  bool send_binary(const std::string& payload);
  bool send_frame(int opcode, const std::string& payload, bool fin = true);
  bool send_raw(const std::string& bytes);
  bool send_close(std::uint16_t code = 1000);

  // The next data/close frame (pings are answered and skipped); nullopt on timeout or EOF.
  std::optional<WsFrame> recv(std::chrono::milliseconds timeout = 5s);
  // True once the server has sent a close frame or closed the TCP connection.
  bool closed() const { return closed_; }
  std::optional<std::uint16_t> close_code() const { return close_code_; }
  // Waits until the server closes (close frame or EOF); returns false on timeout.
  bool wait_closed(std::chrono::milliseconds timeout = 5s);
  void close_socket();
  int native_handle() const { return fd_; }

 private:
  bool read_some(std::chrono::milliseconds timeout);
  bool write_all(const std::string& bytes);
  int fd_ = -1;
  std::string buf_;
  std::string upgrade_body_;
  bool closed_ = false;
  std::optional<std::uint16_t> close_code_;
};

// A SignalR JSON hub client on top of WsClient: records split on 0x1E, invocations with ids,
// events collected aside.
class HubClient {
 public:
  // POST /hub/negotiate with the Bearer token, then upgrade /hub?id=<token> with the Bearer
  // header (Node style), then the handshake. Returns "" on success or a description.
  std::string connect(int port, const std::string& login_token, bool skip_negotiation = false);
  WsClient& ws() { return ws_; }

  bool send_record(const std::string& json);  // appends 0x1E
  // The next record (from buffered or new frames); nullopt on timeout/close.
  std::optional<nlohmann::json> next(std::chrono::milliseconds timeout = 5s);
  // invoke(): sends an Invocation with a fresh id and waits for its Completion (other messages
  // meanwhile go to events()).
  std::optional<nlohmann::json> invoke(const std::string& target,
                                       nlohmann::json args = nlohmann::json::array(),
                                       std::chrono::milliseconds timeout = 5s);
  // Fires an invocation without waiting; returns its id.
  std::string invoke_async(const std::string& target,
                           nlohmann::json args = nlohmann::json::array());
  // A non-blocking send (no invocationId).
  bool send(const std::string& target, nlohmann::json args = nlohmann::json::array());
  // Waits for the Completion of `id`.
  std::optional<nlohmann::json> completion(const std::string& id,
                                           std::chrono::milliseconds timeout = 5s);
  // Waits for an invocation of `target` (server → client event) and returns its arguments[0].
  std::optional<nlohmann::json> wait_event(const std::string& target,
                                           std::chrono::milliseconds timeout = 5s);
  // Every event invocation seen so far, and Close messages.
  std::vector<nlohmann::json>& events() { return events_; }

 private:
  std::optional<nlohmann::json> pop_pending();
  void stash(nlohmann::json m);

  WsClient ws_;
  std::string partial_;
  std::vector<nlohmann::json> queue_;
  std::map<std::string, nlohmann::json> completions_;
  std::vector<nlohmann::json> events_;
  int next_id_ = 0;
};

// Registers (ignoring 409) and logs in; returns the login token or "".
std::string register_and_login(int port, const std::string& name,
                               const std::string& password = "password123");

}  // namespace clickrace::test
