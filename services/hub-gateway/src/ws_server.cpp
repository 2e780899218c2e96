// The only translation unit that includes websocketpp (see ws_server.hpp).
#include "ws_server.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <asio/steady_timer.hpp>
#include <chrono>
#include <list>
#include <unordered_map>

#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/frame.hpp>
#include <websocketpp/server.hpp>

#include "clickrace/core/log.hpp"
#include "socket_options.hpp"

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
  bool accepted = false;  // the upgrade was accepted: on_close is owed to the handler
  bool opened = false;
  // The last message handed to websocketpp's send queue; websocketpp holds it until its write
  // has completed, so while this is alive our bytes must queue behind it (see send_bytes()).
  std::weak_ptr<void> queued;
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

// After the upgrade websocketpp never reads the HTTP request and response again (only a failed
// opening handshake logs them), yet keeps both, header maps and all, for the connection's life:
// ~1 KB per connection, and the request target may hold the access token. The objects are
// members of the (non-const) connection, so resetting them through the const accessors is
// well-defined.
void release_http_state(Server::connection_type& con) {
  const_cast<Config::request_type&>(con.get_request()) = Config::request_type();
  const_cast<Config::response_type&>(con.get_response()) = Config::response_type();
}

// Writes what the socket takes now without blocking (MSG_DONTWAIT; MSG_NOSIGNAL: a dead peer
// is an error, not SIGPIPE). Returns the bytes written; 0 on EAGAIN and on errors, which
// websocketpp then meets on its own write of the rest and handles (it closes the connection).
std::size_t write_now(asio::ip::tcp::socket& socket, std::string_view a, std::string_view b) {
  iovec iov[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
  msghdr m{};
  m.msg_iov = iov;
  m.msg_iovlen = b.empty() ? 1 : 2;
  ssize_t n = ::sendmsg(socket.native_handle(), &m, MSG_DONTWAIT | MSG_NOSIGNAL);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

std::string frame_header(websocketpp::frame::opcode::value op, std::size_t size) {
  websocketpp::frame::basic_header h(op, size, true, false);  // final, unmasked (server side)
  websocketpp::frame::extended_header e(size);
  return websocketpp::frame::prepare_header(h, e);  // <= 10 bytes: no allocation
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

struct WsServer::Impl {
  asio::io_context& io;
  WsHandler& handler;
  WsLimits limits;
  Server server;
  std::unordered_map<ConnId, ConnPtr> open;
  ConnId next_id = 1;
  asio::steady_timer accept_pause;
  std::uint64_t over_budget = 0;  // sockets closed because the open-file budget was full
  std::list<std::weak_ptr<void>> unanswered;  // oldest first: see admit()

  Impl(asio::io_context& io_, WsHandler& h, WsLimits l)
      : io(io_), handler(h), limits(l), accept_pause(io_) {}

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
      if (ec == websocketpp::error::operation_canceled) return;  // stop_listening()
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
    if (ConnBase::sockets_held() > limits.max_sockets) {
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

  void release_socket(const ConnPtr& con) {
    if (!con->socket_released) {
      con->socket_released = true;
      ++ConnBase::released;
    }
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

  ConnPtr find(ConnId id) {
    auto it = open.find(id);
    return it == open.end() ? nullptr : it->second;
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

  void on_open(websocketpp::connection_hdl hdl) {
    ConnPtr con = server.get_con_from_hdl(hdl);
    release_http_state(*con);
    con->opened = true;
    open.emplace(con->id, con);
    handler.on_open(con->id);
  }

  void on_message(websocketpp::connection_hdl hdl, Server::message_ptr msg) {
    ConnPtr con = server.get_con_from_hdl(hdl);
    if (!con->opened) return;
    handler.on_message(con->id, msg->get_opcode() == websocketpp::frame::opcode::text,
                       msg->get_payload());
  }

  void on_gone(websocketpp::connection_hdl hdl) {
    ConnPtr con = server.get_con_from_hdl(hdl);
    answered(*con);
    if (!con->accepted) return;
    con->accepted = false;
    open.erase(con->id);
    handler.on_close(con->id);
  }

  // Every data frame (and pong) of an open connection goes through here. Fast path: when
  // nothing of ours waits inside websocketpp, the frame goes straight to the socket — no message
  // object, no queue, no write handler. Whatever the socket does not take is queued through
  // websocketpp as a message of its own, and later frames queue behind it until websocketpp has
  // written it. So a frame is never split between the two paths out of order, and websocketpp
  // never writes while a frame of ours is half-written: its only writes of its own on an open
  // connection would be pongs (we answer pings here instead) and close frames (after which
  // nothing more is sent, as the state check below ensures).
  SendResult send_bytes(const ConnPtr& con, std::string_view head, std::string_view body) {
    if (con->get_state() != websocketpp::session::state::open) return SendResult::gone;
    if (con->get_buffered_amount() > limits.max_send_buffer_bytes) {
      abort(con);
      return SendResult::dropped_slow;
    }
    std::size_t done = 0;
    if (con->queued.expired()) {
      done = write_now(con->get_raw_socket(), head, body);
      if (done == head.size() + body.size()) return SendResult::ok;
    }
    auto msg = std::make_shared<Config::message_type>(Config::con_msg_manager_type::ptr(),
                                                      websocketpp::frame::opcode::text, 0);
    std::string& rest = msg->get_raw_payload();  // raw frame bytes; the header stays empty
    if (done < head.size()) {
      rest.reserve(head.size() - done + body.size());
      rest.append(head.substr(done));
      rest.append(body);
    } else {
      rest.assign(body.substr(done - head.size()));
    }
    msg->set_prepared(true);
    con->queued = msg;
    websocketpp::lib::error_code ec = con->send(msg);
    return ec ? SendResult::gone : SendResult::ok;
  }

  SendResult send_bytes(ConnId id, std::string_view head, std::string_view body) {
    ConnPtr con = find(id);
    if (!con) return SendResult::gone;
    return send_bytes(con, head, body);
  }

  // websocketpp would queue its pong itself, beside our direct writes: send it our way.
  bool on_ping(websocketpp::connection_hdl hdl, const std::string& payload) {
    ConnPtr con = server.get_con_from_hdl(hdl);
    send_bytes(con, frame_header(websocketpp::frame::opcode::pong, payload.size()), payload);
    return false;  // websocketpp must not answer too
  }

  // Shutting the socket down fails the pending write and read; websocketpp then terminates
  // the connection and calls the close handler.
  void abort(const ConnPtr& con) { release_socket(con); }
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
  s.set_message_handler(
      [impl](websocketpp::connection_hdl h, Server::message_ptr m) { impl->on_message(h, m); });
  s.set_close_handler([impl](websocketpp::connection_hdl h) { impl->on_gone(h); });
  s.set_ping_handler(
      [impl](websocketpp::connection_hdl h, std::string p) { return impl->on_ping(h, p); });
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
  std::string head = frame_header(
      binary ? websocketpp::frame::opcode::binary : websocketpp::frame::opcode::text, text.size());
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
  auto op = binary ? websocketpp::frame::opcode::binary : websocketpp::frame::opcode::text;
  return impl_->send_bytes(id, frame_header(op, payload.size()), payload);
}

void WsServer::close(ConnId id, std::uint16_t code, std::string_view reason) {
  ConnPtr con = impl_->find(id);
  if (!con) return;
  websocketpp::lib::error_code ec;
  con->close(code, std::string(reason), ec);
}

void WsServer::abort(ConnId id) {
  if (ConnPtr con = impl_->find(id)) impl_->abort(con);
}

std::size_t WsServer::open_count() const { return impl_->open.size(); }

void WsServer::close_all(std::uint16_t code, std::string_view reason) {
  std::vector<ConnPtr> all;
  all.reserve(impl_->open.size());
  for (auto& [id, con] : impl_->open) all.push_back(con);
  for (auto& con : all) {
    websocketpp::lib::error_code ec;
    con->close(code, std::string(reason), ec);
  }
}

}  // namespace clickrace::gateway
