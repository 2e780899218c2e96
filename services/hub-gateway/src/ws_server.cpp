// The only translation unit that includes websocketpp (see ws_server.hpp).
#include "ws_server.hpp"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <list>
#include <unordered_map>

#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include "clickrace/core/log.hpp"
#include "socket_options.hpp"
#include "ws_frames.hpp"

namespace clickrace::gateway {
namespace {

// Per-connection fields stored inside websocketpp's connection object.
struct ConnBase {
  // websocketpp connection objects alive in this process: each owns at most one socket (the
  // one waiting in accept has none yet). `released` counts those whose socket we have already
  // closed (evicted, over budget, aborted) but websocketpp has not freed yet, so
  // live - released is the client sockets held.
  inline static std::size_t live = 0;
  inline static std::size_t released = 0;
  ConnBase() { ++live; }
  ~ConnBase() {
    --live;
    if (socket_released) --released;
  }
  ConnBase(const ConnBase&) = delete;
  ConnBase& operator=(const ConnBase&) = delete;
  static std::size_t sockets_held() { return live - released; }

  bool socket_released = false;
  // Accepted, but no complete HTTP request read yet (the opening handshake): while set, the
  // connection sits in Impl::unanswered at this position and may be evicted for a newer one.
  std::optional<std::list<std::weak_ptr<void>>::iterator> unanswered;
  ConnId id = 0;
  // The upgrade was accepted and the connection has not opened (been handed over) yet: on_close
  // is owed to the handler if it ends here.
  bool accepted = false;
};

// websocketpp's asio config, tuned for many small, single-threaded connections:
// - concurrency none: one io_context thread, so no mutex per send;
// - a 512-byte read buffer instead of 16 KB (memory per idle connection: it lives inside every
//   connection object). Hub records are ~70 bytes; websocketpp loops on reads, so a larger
//   message (up to max_message_size) only takes more recv calls;
// - our size limits and a 15 s opening-handshake (HTTP request) timeout;
// - no permessage-deflate (CPU per message, and every frame is prepared once for all).
struct Config : websocketpp::config::asio {
  typedef Config type;
  typedef websocketpp::config::asio base;
  typedef websocketpp::concurrency::none concurrency_type;
  typedef base::request_type request_type;
  typedef base::response_type response_type;
  typedef base::message_type message_type;
  typedef base::con_msg_manager_type con_msg_manager_type;
  typedef base::endpoint_msg_manager_type endpoint_msg_manager_type;
  typedef websocketpp::log::basic<concurrency_type, websocketpp::log::elevel> elog_type;
  typedef websocketpp::log::basic<concurrency_type, websocketpp::log::alevel> alog_type;
  typedef base::rng_type rng_type;
  static bool const enable_multithreading = false;

  struct transport_config : public base::transport_config {
    typedef type::concurrency_type concurrency_type;
    typedef type::alog_type alog_type;
    typedef type::elog_type elog_type;
    typedef type::request_type request_type;
    typedef type::response_type response_type;
    typedef websocketpp::transport::asio::basic_socket::endpoint socket_type;
    static bool const enable_multithreading = false;
    static const long timeout_socket_pre_init = 5000;
    static const long timeout_socket_post_init = 5000;
    static const long timeout_socket_shutdown = 5000;
  };
  typedef websocketpp::transport::asio::endpoint<transport_config> transport_type;
  typedef ConnBase connection_base;

  static const size_t connection_read_buffer_size = 512;
  static const long timeout_open_handshake = 15000;
  static const long timeout_close_handshake = 5000;
  static const size_t max_message_size = 32 * 1024;
  static const size_t max_http_body_size = 16 * 1024;
  static const bool enable_extensions = false;
  // Never log: the access log would print request URLs, which may carry access_token.
  static const websocketpp::log::level elog_level = websocketpp::log::elevel::none;
  static const websocketpp::log::level alog_level = websocketpp::log::alevel::none;
};

using Server = websocketpp::server<Config>;
using ConnPtr = Server::connection_ptr;

// The bytes that followed the upgrade request in the same read sit in websocketpp's private read
// buffer (m_buf, m_buf_cursor: websocketpp/connection.hpp), to be parsed after the open handler;
// the handover must take them along, and websocketpp has no accessor. An explicit instantiation
// may name a private member (C++17 [temp.explicit]: access checking does not apply there), which is
// the one well-defined way to reach them; the pair below is read once per connection, at its
// handover.
template <typename Tag, typename Tag::type Member>
struct Expose {
  friend typename Tag::type member(Tag) { return Member; }
};
struct ReadBufferTag {
  using type = char (Server::connection_type::*)[Config::connection_read_buffer_size];
  friend type member(ReadBufferTag);
};
struct ReadCursorTag {
  using type = std::size_t Server::connection_type::*;
  friend type member(ReadCursorTag);
};
template struct Expose<ReadBufferTag, &Server::connection_type::m_buf>;
template struct Expose<ReadCursorTag, &Server::connection_type::m_buf_cursor>;

// Takes the leftover bytes out of websocketpp's buffer: it then parses none itself.
std::string take_leftover(Server::connection_type& con) {
  std::size_t& cursor = con.*member(ReadCursorTag{});
  std::string bytes(con.*member(ReadBufferTag{}), cursor);
  cursor = 0;
  return bytes;
}

HttpRequest to_request(const ConnPtr& con, bool with_body) {
  HttpRequest r;
  const auto& req = con->get_request();
  r.method = req.get_method();
  std::tie(r.path, r.query) = split_target(req.get_uri());
  for (const auto& [k, v] : req.get_headers()) r.headers.emplace_back(k, v);
  if (with_body) r.body = req.get_body();
  asio::error_code ec;
  auto ep = con->get_raw_socket().remote_endpoint(ec);
  if (!ec) r.remote_address = ep.address().to_string();
  return r;
}

void apply_response(const ConnPtr& con, const HttpResponse& res) {
  con->set_status(static_cast<websocketpp::http::status_code::value>(res.status));
  if (!res.content_type.empty()) con->replace_header("Content-Type", res.content_type);
  for (const auto& [k, v] : res.headers) con->replace_header(k, v);
  // websocketpp closes the TCP connection after every HTTP response: say so.
  con->replace_header("Connection", "close");
  con->set_body(res.body);
}

}  // namespace

HttpReply::HttpReply(std::function<void(HttpResponse)> send) : send_(std::move(send)) {}
HttpReply::~HttpReply() {
  if (send_) send_(HttpResponse::error(500, "internal error"));
}
void HttpReply::operator()(HttpResponse response) {
  if (!send_) return;
  auto send = std::move(send_);
  send_ = nullptr;
  send(std::move(response));
}

// After an accept error (EMFILE/ENFILE above all: the pending connection stays in the backlog,
// so accepting again at once fails again at once and spins) accepting pauses this long.
constexpr std::chrono::milliseconds kAcceptPause{100};

// The read buffer every upgraded connection reads into (one per loop; bigger than a typical
// burst of frames, so one recv drains a socket).
constexpr std::size_t kReadBufferBytes = 64 * 1024;

struct WsServer::Impl : WsConnectionOwner {
  asio::io_context& io;
  WsHandler& handler;
  WsLimits limits;
  Server server;
  WsShared shared;
  std::unordered_map<ConnId, std::shared_ptr<WsConnection>> open;  // upgraded, handed over
  ConnId next_id = 1;
  asio::steady_timer accept_pause;
  std::uint64_t over_budget = 0;  // sockets closed because the open-file budget was full
  std::list<std::weak_ptr<void>> unanswered;  // oldest first: see admit()

  Impl(asio::io_context& io_, WsHandler& h, WsLimits l)
      : io(io_),
        handler(h),
        limits(l),
        shared{io_, *this, l.max_message_bytes, l.max_send_buffer_bytes,
               std::string(kReadBufferBytes, '\0')},
        accept_pause(io_) {}

  // Client sockets held: websocketpp's (accepted, not yet handed over) and the open ones.
  std::size_t sockets_held() const { return ConnBase::sockets_held() + open.size(); }

  // Our accept loop instead of websocketpp's start_accept(), which re-arms at once after an
  // error (server_endpoint.hpp handle_accept): on EMFILE that is a busy loop at 100 % CPU.
  void accept_next() {
    if (!server.is_listening()) return;
    ConnPtr con = server.get_connection();
    if (!con) return pause_accepting();
    websocketpp::lib::error_code ec;
    server.async_accept(
        con, [this, con](const websocketpp::lib::error_code& e) { on_accepted(con, e); }, ec);
    if (ec) {
      con->terminate(websocketpp::lib::error_code());
      pause_accepting();
    }
  }

  void on_accepted(const ConnPtr& con, const websocketpp::lib::error_code& ec) {
    if (ec) {
      con->terminate(ec);
      // stop_listening(): websocketpp maps the cancel to operation_canceled only when Asio's
      // error compares equal to std::errc::operation_canceled, which standalone Asio's own
      // error category does not, so Asio's operation_aborted comes through as it is.
      if (ec == websocketpp::error::operation_canceled || ec == asio::error::operation_aborted) {
        return;
      }
      CR_LOG(warn) << "accept failed: " << ec.message() << "; pausing accepts for "
                   << kAcceptPause.count() << " ms";
      return pause_accepting();
    }
    admit(con);
    con->start();  // on a socket closed by admit(), its first read fails and ends it
    accept_next();
  }

  // The open-file budget and the socket options, applied to the socket accept() returned
  // (websocketpp's socket-init hook runs before accept, on a socket with no descriptor yet).
  // Beyond the budget the oldest socket still in its opening handshake (no complete request
  // read: idle or slowloris peers) is closed to make room, so an idle flood cannot stop the
  // gateway serving real requests; only when every held socket is an open WebSocket or an
  // answered request is the new socket itself closed.
  void admit(const ConnPtr& con) {
    if (sockets_held() > limits.max_sockets) {
      ConnPtr victim = oldest_unanswered();
      if (over_budget++ % 1000 == 0) {
        CR_LOG(warn) << "open-file budget full (" << limits.max_sockets << " client sockets): "
                     << (victim ? "closing the oldest connection still in its handshake"
                                : "closing new connections at once")
                     << " (" << over_budget << " so far)";
      }
      release_socket(victim ? victim : con);
      if (!victim) return;
    }
    tune_client_socket(con->get_raw_socket());
    con->unanswered = unanswered.insert(unanswered.end(), con);
  }

  ConnPtr oldest_unanswered() {
    while (!unanswered.empty()) {
      auto con = std::static_pointer_cast<Server::connection_type>(unanswered.front().lock());
      if (!con) {
        unanswered.pop_front();
        continue;
      }
      answered(*con);  // pops the front
      if (!con->socket_released) return con;
    }
    return nullptr;
  }

  // A complete request was read (or the connection is gone): it is no longer evictable.
  void answered(ConnBase& con) {
    if (!con.unanswered) return;
    unanswered.erase(*con.unanswered);
    con.unanswered.reset();
  }

  static void mark_released(ConnBase& con) {
    if (con.socket_released) return;
    con.socket_released = true;
    ++ConnBase::released;
  }

  void release_socket(const ConnPtr& con) {
    mark_released(*con);
    asio::error_code ignored;
    con->get_raw_socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    con->get_raw_socket().close(ignored);
  }

  void pause_accepting() {
    accept_pause.expires_after(kAcceptPause);
    accept_pause.async_wait([this](const asio::error_code& ec) {
      if (!ec) accept_next();
    });
  }

  WsConnection* find(ConnId id) {
    auto it = open.find(id);
    return it == open.end() ? nullptr : it->second.get();
  }

  void on_http(websocketpp::connection_hdl hdl) {
    ConnPtr con = server.get_con_from_hdl(hdl);
    answered(*con);
    HttpRequest req = to_request(con, true);
    con->defer_http_response();
    auto reply = std::make_shared<HttpReply>([con](HttpResponse res) {
      apply_response(con, res);
      websocketpp::lib::error_code ec;
      con->send_http_response(ec);
    });
    try {
      handler.on_http(req, std::move(reply));
    } catch (const std::exception& e) {
      CR_LOG(error) << "http handler failed: " << e.what();  // the reply's destructor sends 500
    }
  }

  bool on_validate(websocketpp::connection_hdl hdl) {
    ConnPtr con = server.get_con_from_hdl(hdl);
    answered(*con);
    ConnId id = next_id++;
    con->id = id;
    std::optional<HttpResponse> refusal;
    try {
      refusal = handler.on_upgrade(id, to_request(con, false));
    } catch (const std::exception& e) {
      CR_LOG(error) << "upgrade handler failed: " << e.what();
      refusal = HttpResponse::error(500, "internal error");
    }
    if (refusal) {
      apply_response(con, *refusal);
      return false;
    }
    con->accepted = true;
    return true;
  }

  // The upgrade is done: the socket (and any bytes that came behind the request) goes to a
  // WsConnection, and websocketpp's connection, left without a socket, fails its next read and
  // ends quietly (accepted is cleared, so on_gone owes nothing).
  void on_open(websocketpp::connection_hdl hdl) {
    ConnPtr con = server.get_con_from_hdl(hdl);
    con->accepted = false;
    auto& raw = con->get_raw_socket();
    asio::error_code ec;
    auto protocol = raw.local_endpoint(ec).protocol();
    int fd = ec ? -1 : raw.release(ec);
    mark_released(*con);
    if (ec || fd < 0) {
      CR_LOG(warn) << "could not take over an upgraded socket: " << ec.message();
      return handler.on_close(con->id);
    }
    std::string leftover = take_leftover(*con);
    auto conn =
        std::make_shared<WsConnection>(asio::ip::tcp::socket(io, protocol, fd), con->id, shared);
    open.emplace(con->id, conn);
    handler.on_open(con->id);
    // Not inside websocketpp's callback: the leftover may hold messages for the handler.
    asio::post(io, [conn, bytes = std::move(leftover)]() mutable {
      if (conn->open()) conn->start(std::move(bytes));
    });
  }

  void on_gone(websocketpp::connection_hdl hdl) {
    ConnPtr con = server.get_con_from_hdl(hdl);
    answered(*con);
    if (!con->accepted) return;
    con->accepted = false;
    handler.on_close(con->id);
  }

  void on_message(WsConnection& c, bool text, std::string_view payload) override {
    handler.on_message(c.id(), text, payload);
  }

  void on_closed(WsConnection& c) override {
    open.erase(c.id());
    handler.on_close(c.id());
  }

  SendResult send_bytes(ConnId id, std::string_view head, std::string_view body) {
    WsConnection* c = find(id);
    return c ? c->send(head, body) : SendResult::gone;
  }
};

WsServer::WsServer(asio::io_context& io, WsHandler& handler, WsLimits limits)
    : impl_(std::make_unique<Impl>(io, handler, limits)) {
  auto& s = impl_->server;
  s.clear_access_channels(websocketpp::log::alevel::all);
  s.clear_error_channels(websocketpp::log::elevel::all);
  s.init_asio(&io);
  s.set_reuse_addr(true);
  s.set_listen_backlog(limits.listen_backlog);
  s.set_max_message_size(limits.max_message_bytes);
  s.set_max_http_body_size(limits.max_http_body_bytes);
  Impl* impl = impl_.get();
  using websocketpp::lib::placeholders::_1;
  using websocketpp::lib::placeholders::_2;
  s.set_http_handler([impl](websocketpp::connection_hdl h) { impl->on_http(h); });
  s.set_validate_handler([impl](websocketpp::connection_hdl h) { return impl->on_validate(h); });
  s.set_open_handler([impl](websocketpp::connection_hdl h) { impl->on_open(h); });
  s.set_close_handler([impl](websocketpp::connection_hdl h) { impl->on_gone(h); });
  s.set_fail_handler([impl](websocketpp::connection_hdl h) { impl->on_gone(h); });
}

WsServer::~WsServer() = default;

Result<int> WsServer::listen(const std::string& address, int port) {
  websocketpp::lib::error_code ec;
  asio::error_code aec;
  auto addr = asio::ip::make_address(address, aec);
  if (aec) return make_error("bad bind address '" + address + "'");
  impl_->server.listen(asio::ip::tcp::endpoint(addr, static_cast<unsigned short>(port)), ec);
  if (ec) return make_error("cannot listen on port " + std::to_string(port) + ": " + ec.message());
  impl_->accept_next();
  auto local = impl_->server.get_local_endpoint(aec);
  if (aec) return make_error("cannot read the bound port: " + aec.message());
  return static_cast<int>(local.port());
}

void WsServer::stop_listening() {
  websocketpp::lib::error_code ec;
  impl_->accept_pause.cancel();
  if (impl_->server.is_listening()) impl_->server.stop_listening(ec);
}

PreparedFrame WsServer::prepare(std::string_view text, bool binary) {
  // Server frames are unmasked, so the framed bytes are the same for every recipient.
  std::string head = ws::frame_header(binary ? ws::Opcode::binary : ws::Opcode::text, text.size());
  auto bytes = std::make_shared<std::string>();
  bytes->reserve(head.size() + text.size());
  bytes->append(head);
  bytes->append(text);
  PreparedFrame f;
  f.size_ = text.size();
  f.bytes_ = std::move(bytes);
  return f;
}

SendResult WsServer::send(ConnId id, const PreparedFrame& frame) {
  if (frame.empty()) return SendResult::ok;
  return impl_->send_bytes(id, *frame.bytes_, {});
}

SendResult WsServer::send(ConnId id, std::string_view payload, bool binary) {
  auto op = binary ? ws::Opcode::binary : ws::Opcode::text;
  return impl_->send_bytes(id, ws::frame_header(op, payload.size()), payload);
}

void WsServer::close(ConnId id, std::uint16_t code, std::string_view reason) {
  if (WsConnection* c = impl_->find(id)) c->close(code, reason);
}

void WsServer::abort(ConnId id) {
  if (WsConnection* c = impl_->find(id)) c->abort();
}

std::size_t WsServer::open_count() const { return impl_->open.size(); }

void WsServer::close_all(std::uint16_t code, std::string_view reason) {
  for (auto& [id, c] : impl_->open) c->close(code, reason);
}

}  // namespace clickrace::gateway
