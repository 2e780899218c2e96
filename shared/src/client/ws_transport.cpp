#include "ws_transport.hpp"

#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_no_tls_client.hpp>

namespace clickrace::client {
namespace {

using Endpoint = websocketpp::client<websocketpp::config::asio_client>;

std::string fail_text(const Endpoint::connection_ptr& con) {
  int status = con->get_response_code();
  if (status != 0 && status != 101) {
    std::string text = "WebSocket upgrade refused: status code " + std::to_string(status);
    if (!con->get_response_msg().empty()) text += " (" + con->get_response_msg() + ")";
    return text;
  }
  return "WebSocket failed to connect: " + con->get_ec().message();
}

std::string close_text(const Endpoint::connection_ptr& con) {
  auto code = con->get_remote_close_code();
  if (code == websocketpp::close::status::normal || code == websocketpp::close::status::no_status) {
    return "";
  }
  std::string reason = con->get_remote_close_reason();
  return "WebSocket closed with status code: " + std::to_string(code) + " (" +
         (reason.empty() ? std::string("no reason given") : reason) + ").";
}

}  // namespace

struct WsTransport::Impl {
  explicit Impl(asio::io_context& io, Limits l) : limits(l) {
    endpoint.clear_access_channels(websocketpp::log::alevel::all);
    endpoint.clear_error_channels(websocketpp::log::elevel::all);
    endpoint.init_asio(&io);
    endpoint.set_open_handshake_timeout(static_cast<long>(limits.open_timeout.count()));
    endpoint.set_close_handshake_timeout(1000);
    endpoint.set_max_message_size(limits.max_message_size);
  }

  // Forgets the current socket: its callbacks see a stale generation and do nothing.
  void drop(bool graceful) {
    ++generation;
    if (!con) return;
    websocketpp::lib::error_code ec;
    if (graceful && con->get_state() == websocketpp::session::state::open) {
      con->close(websocketpp::close::status::normal, "", ec);
    } else if (con->get_state() != websocketpp::session::state::closed) {
      con->terminate(ec);
    }
    con.reset();
  }

  Limits limits;
  Endpoint endpoint;
  Endpoint::connection_ptr con;
  std::uint64_t generation = 0;
};

WsTransport::WsTransport(asio::io_context& io, Limits limits)
    : impl_(std::make_unique<Impl>(io, limits)) {}

WsTransport::~WsTransport() {
  if (impl_) impl_->drop(false);
}

void WsTransport::connect(const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          Handlers handlers) {
  impl_->drop(false);
  const std::uint64_t gen = impl_->generation;
  Impl* impl = impl_.get();
  auto h = std::make_shared<Handlers>(std::move(handlers));

  websocketpp::lib::error_code ec;
  Endpoint::connection_ptr con = impl->endpoint.get_connection(url, ec);
  if (ec) {
    // Report asynchronously, like every other failure, so callers see one code path.
    asio::post(impl->endpoint.get_io_service(), [impl, gen, h, text = ec.message()] {
      if (impl->generation == gen) h->on_closed("WebSocket failed to connect: " + text);
    });
    return;
  }
  for (const auto& [name, value] : headers) con->append_header(name, value);

  std::weak_ptr<Endpoint::connection_type> weak = con;
  con->set_open_handler([impl, gen, h](websocketpp::connection_hdl) {
    if (impl->generation == gen) h->on_open();
  });
  con->set_message_handler([impl, gen, h](websocketpp::connection_hdl, Endpoint::message_ptr msg) {
    if (impl->generation == gen) h->on_message(msg->get_payload());
  });
  con->set_fail_handler([impl, gen, h, weak](websocketpp::connection_hdl) {
    if (impl->generation != gen) return;
    auto c = weak.lock();
    impl->con.reset();
    h->on_closed(c ? fail_text(c) : "WebSocket failed to connect");
  });
  con->set_close_handler([impl, gen, h, weak](websocketpp::connection_hdl) {
    if (impl->generation != gen) return;
    auto c = weak.lock();
    impl->con.reset();
    std::string text = c ? close_text(c) : "";
    h->on_closed(text);
  });
  impl->con = con;
  impl->endpoint.connect(con);
}

std::string WsTransport::send(std::string_view text) {
  auto& con = impl_->con;
  if (!con || con->get_state() != websocketpp::session::state::open) {
    return "the WebSocket is not open";
  }
  if (con->get_buffered_amount() > impl_->limits.max_buffered) return "the send buffer is full";
  websocketpp::lib::error_code ec =
      con->send(text.data(), text.size(), websocketpp::frame::opcode::text);
  return ec ? ec.message() : std::string();
}

void WsTransport::close() { impl_->drop(true); }

}  // namespace clickrace::client
