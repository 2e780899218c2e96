#include "engine.hpp"

#include <asio/connect.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

#include "msgpack_records.hpp"
#include "records.hpp"
#include "ws_codec.hpp"

namespace clickrace::bench {
namespace {

constexpr std::size_t kMaxHttpResponse = 64 * 1024;
constexpr std::size_t kMaxFrame = 1 << 20;
constexpr std::size_t kMaxRecord = 1 << 20;
constexpr int kReadsPerWakeup = 8;  // fairness between this worker's sockets
constexpr auto kSweepPeriod = std::chrono::milliseconds(100);
// Any syntactically valid key: the gateway does not check who made it.
constexpr const char* kWebSocketKey = "dGhlIHNhbXBsZSBub25jZQ==";

}  // namespace

// ---------------------------------------------------------------- HubConn

HubConn::HubConn(Worker& worker, Endpoint endpoint, const std::string& token)
    : worker_(worker), endpoint_(std::move(endpoint)), token_(token), sock_(worker.io) {}

void HubConn::start() {
  started_ns_ = mono_ns();
  deadline_ns_ = started_ns_ + std::int64_t{worker_.shared.opt.connect_timeout_ms} * 1'000'000;
  state_ = worker_.shared.opt.negotiate ? State::negotiating : State::upgrading;
  connect();
}

void HubConn::connect() {
  asio::error_code ec;
  sock_.close(ec);
  ++gen_;
  in_.clear();
  out_.clear();
  write_busy_ = false;
  sock_ = asio::ip::tcp::socket(worker_.io);
  asio::ip::tcp::endpoint ep(asio::ip::make_address(endpoint_.host, ec), endpoint_.port);
  sock_.async_connect(ep, [this, g = gen_](const asio::error_code& err) {
    if (g != gen_) return;
    if (err) return fail("connect: " + err.message());
    on_connected();
  });
}

void HubConn::on_connected() {
  asio::error_code ec;
  sock_.set_option(asio::ip::tcp::no_delay(true), ec);
  sock_.non_blocking(true, ec);
  std::string req;
  req.reserve(512);
  const std::string host = endpoint_.host + ":" + std::to_string(endpoint_.port);
  if (state_ == State::negotiating) {
    req.append("POST /hub/negotiate?negotiateVersion=1 HTTP/1.1\r\nHost: ").append(host);
    req.append("\r\nContent-Length: 0\r\n");
  } else {
    req.append("GET /hub");
    if (!connection_token_.empty()) req.append("?id=").append(connection_token_);
    req.append(" HTTP/1.1\r\nHost: ").append(host);
    req.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n");
    req.append("Sec-WebSocket-Key: ").append(kWebSocketKey).append("\r\n");
  }
  req.append("Authorization: Bearer ").append(token_).append("\r\n\r\n");
  write_raw(req);
  arm_read();
}

void HubConn::arm_read() {
  sock_.async_wait(asio::ip::tcp::socket::wait_read, [this, g = gen_](const asio::error_code& ec) {
    if (g != gen_ || state_ == State::closed) return;
    if (ec) return fail("wait: " + ec.message());
    on_readable();
  });
}

// Reactor style: wait for readability, then read into the worker's shared buffer. Only the
// leftovers (partial frames/records) are kept per connection, which keeps 10,000 idle
// connections cheap on the client side too.
void HubConn::on_readable() {
  const std::uint32_t g = gen_;
  for (int i = 0; i < kReadsPerWakeup; ++i) {
    asio::error_code ec;
    std::size_t n = sock_.read_some(asio::buffer(worker_.read_buf), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      return fail(ec == asio::error::eof ? std::string("closed by server")
                                         : "read: " + ec.message());
    }
    if (state_ == State::negotiating || state_ == State::upgrading) {
      on_http(worker_.read_buf, n);
    } else {
      on_ws(worker_.read_buf, n);
    }
    if (g != gen_ || state_ == State::closed) return;
    if (n < sizeof(worker_.read_buf)) break;
  }
  flush();
  if (g == gen_ && state_ != State::closed) arm_read();
}

void HubConn::on_http(const char* data, std::size_t n) {
  in_.append(data, n);
  if (in_.size() > kMaxHttpResponse) return fail("HTTP response too large");
  int status = 0;
  long content_length = -1;
  std::size_t body_at = parse_response_head(in_, status, content_length);
  if (body_at == std::string::npos) return;
  if (state_ == State::negotiating) {
    if (content_length < 0) return fail("negotiate reply without Content-Length");
    if (in_.size() < body_at + static_cast<std::size_t>(content_length)) return;
    if (status != 200) return fail("negotiate: HTTP " + std::to_string(status));
    auto tok = find_string(std::string_view(in_).substr(body_at), "connectionToken");
    if (!tok || tok->empty()) return fail("negotiate: no connectionToken");
    connection_token_ = std::string(*tok);
    state_ = State::upgrading;
    connect();  // websocketpp closes after each HTTP response: the upgrade needs a new socket
    return;
  }
  if (status != 101) return fail("upgrade: HTTP " + std::to_string(status));
  std::string rest = in_.substr(body_at);
  in_.clear();
  state_ = State::handshaking;
  msgpack_ = worker_.shared.opt.protocol == "messagepack";
  send_record(msgpack_ ? R"({"protocol":"messagepack","version":1})"
                       : R"({"protocol":"json","version":1})");
  flush();
  if (!rest.empty()) on_ws(rest.data(), rest.size());
}

void HubConn::on_ws(const char* data, std::size_t n) {
  std::size_t consumed = 0;
  if (in_.empty()) {
    std::string_view view(data, n);
    if (!on_frames(view, consumed)) return;
    in_.assign(view.substr(consumed));
  } else {
    in_.append(data, n);
    if (!on_frames(in_, consumed)) return;
    in_.erase(0, consumed);
  }
}

// Decodes every whole frame in `data`; false when the connection failed on the way.
bool HubConn::on_frames(std::string_view data, std::size_t& consumed) {
  const std::uint32_t g = gen_;
  consumed = 0;
  while (consumed < data.size()) {
    ServerFrame frame;
    std::size_t used = 0;
    const char* error = nullptr;
    DecodeStatus st = decode_server_frame(data.substr(consumed), kMaxFrame, frame, used, error);
    if (st == DecodeStatus::need_more) break;
    if (st == DecodeStatus::error) {
      fail(std::string("frame: ") + error);
      return false;
    }
    consumed += used;
    switch (frame.op) {
      case Opcode::text:
      case Opcode::continuation:
        on_text(frame.payload);
        break;
      case Opcode::binary:
        if (!msgpack_) {
          fail("binary frame from the server");
          return false;
        }
        on_binary(frame.payload);
        break;
      case Opcode::ping: {
        std::string pong;
        append_client_frame(pong, Opcode::pong, frame.payload, worker_.next_mask());
        write_raw(pong);
        break;
      }
      case Opcode::pong:
        break;
      case Opcode::close:
        fail("WebSocket close from the server");
        return false;
    }
    if (g != gen_ || state_ == State::closed) return false;
  }
  return true;
}

// Records may span frames (fragmentation) or share one: treat text payloads as a byte stream
// split on 0x1E, as .NET does.
void HubConn::on_text(std::string_view payload) {
  const std::uint32_t g = gen_;
  std::size_t pos = 0;
  if (!records_.empty()) {
    std::size_t rs = payload.find(kRecordSeparator);
    if (rs == std::string_view::npos) {
      records_.append(payload);
      if (records_.size() > kMaxRecord) fail("record too large");
      return;
    }
    records_.append(payload.substr(0, rs));
    std::string record;
    record.swap(records_);
    on_record(record);
    if (g != gen_ || state_ == State::closed) return;
    pos = rs + 1;
  }
  while (pos < payload.size()) {
    std::size_t rs = payload.find(kRecordSeparator, pos);
    if (rs == std::string_view::npos) {
      records_.assign(payload.substr(pos));
      return;
    }
    on_record(payload.substr(pos, rs - pos));
    if (g != gen_ || state_ == State::closed) return;
    pos = rs + 1;
  }
}

void HubConn::on_record(std::string_view record) {
  RecordInfo info = scan_record(record);
  if (state_ == State::handshaking) {
    if (info.type != -1 || info.has_error) return fail("handshake rejected");
    state_ = State::open;
    worker_.shared.connecting.fetch_sub(1, std::memory_order_relaxed);
    worker_.counters.opened.fetch_add(1, std::memory_order_relaxed);
    worker_.connect_ns.record(static_cast<std::uint64_t>(mono_ns() - started_ns_));
    worker_.behavior.on_open(*this);
    return;
  }
  dispatch(info.type, parse_u64(info.invocation_id), info.has_error, info.target, record);
}

// One hub message, whichever protocol it came in: `record` is what behaviors read (JSON).
void HubConn::dispatch(int type, std::optional<std::uint64_t> id, bool has_error,
                       std::string_view target, std::string_view record) {
  switch (type) {
    case 3:
      if (id) worker_.behavior.on_completion(*this, *id, has_error, record);
      break;
    case 1:
      worker_.behavior.on_invocation(*this, target, record);
      break;
    case 6:
      worker_.counters.pings.fetch_add(1, std::memory_order_relaxed);
      break;
    case 7:
      fail("hub Close from the server");
      break;
    default:
      break;
  }
}

void HubConn::on_binary(std::string_view payload) {
  const std::uint32_t g = gen_;
  std::string_view data = payload;
  if (!binary_in_.empty()) {
    binary_in_.append(payload);
    data = binary_in_;
  }
  bool bad = false;
  while (auto body = next_msgpack_frame(data, bad)) {
    on_msgpack(*body);
    if (g != gen_ || state_ == State::closed) return;
  }
  if (bad) return fail("bad MessagePack length prefix");
  if (data.size() > kMaxRecord) return fail("record too large");
  // Keep the incomplete tail: trimmed in place when it already lives in binary_in_.
  if (!binary_in_.empty()) {
    binary_in_.erase(0, binary_in_.size() - data.size());
  } else {
    binary_in_.assign(data);
  }
}

void HubConn::on_msgpack(std::string_view body) {
  MsgpackInfo info = scan_msgpack(body);
  if (info.type == -1) return fail("unreadable MessagePack message");
  // Behaviors read an error's text from a JSON-shaped record.
  std::string record = info.has_error ? "{\"error\":\"" + std::string(info.error) + "\"}" : "{}";
  std::optional<std::uint64_t> id;
  if (info.has_id) id = info.invocation_id;
  dispatch(info.type, id, info.has_error, info.target, record);
}

void HubConn::send_record(std::string_view json) {
  payload_.append(json);
  payload_.push_back(kRecordSeparator);
}

void HubConn::send_click(std::uint64_t id) {
  if (msgpack_) return append_msgpack_click(payload_, id);
  char buf[96];
  int n = std::snprintf(buf, sizeof buf,
                        R"({"type":1,"invocationId":"%llu","target":"Click","arguments":[]})",
                        static_cast<unsigned long long>(id));
  send_record(std::string_view(buf, static_cast<std::size_t>(n)));
}

void HubConn::flush() {
  if (payload_.empty() || state_ == State::closed) return;
  // The handshake is JSON text whatever the protocol; MessagePack messages go in binary frames.
  const Opcode op = msgpack_ && state_ == State::open ? Opcode::binary : Opcode::text;
  append_client_frame(out_, op, payload_, worker_.next_mask());
  payload_.clear();
  start_write();
}

void HubConn::write_raw(std::string_view bytes) {
  out_.append(bytes);
  start_write();
}

void HubConn::start_write() {
  if (write_busy_ || out_.empty()) return;
  write_busy_ = true;
  writing_.swap(out_);
  out_.clear();
  last_send_ns_ = mono_ns();
  asio::async_write(sock_, asio::buffer(writing_),
                    [this, g = gen_](const asio::error_code& ec, std::size_t) {
                      if (g != gen_) return;
                      write_busy_ = false;
                      writing_.clear();
                      if (ec) return fail("write: " + ec.message());
                      start_write();
                    });
}

void HubConn::tick(std::int64_t now_ns) {
  if (connecting() && now_ns > deadline_ns_) {
    const char* phase = state_ == State::negotiating ? "negotiate"
                        : state_ == State::upgrading ? "upgrade"
                                                     : "handshake";
    return fail(std::string("timeout in ") + phase);
  }
  if (state_ != State::open) return;
  worker_.behavior.on_tick(*this, now_ns);
  if (payload_.empty() && !write_busy_ &&
      now_ns - last_send_ns_ > std::int64_t{worker_.shared.opt.keepalive_ms} * 1'000'000) {
    if (msgpack_) {
      append_msgpack_ping(payload_);
    } else {
      send_record(R"({"type":6})");
    }
  }
  flush();
}

void HubConn::fail(const std::string& why) {
  if (state_ == State::closed) return;
  if (connecting()) {
    worker_.shared.connecting.fetch_sub(1, std::memory_order_relaxed);
    worker_.counters.failed.fetch_add(1, std::memory_order_relaxed);
  } else if (state_ == State::open) {
    worker_.counters.dropped.fetch_add(1, std::memory_order_relaxed);
  }
  ++worker_.errors[why];
  close();
}

void HubConn::close() {
  state_ = State::closed;
  ++gen_;
  asio::error_code ec;
  sock_.close(ec);
  payload_.clear();
  out_.clear();
  writing_.clear();
  in_.clear();
  records_.clear();
}

// ---------------------------------------------------------------- Worker

Worker::Worker(int index, SharedState& s, Behavior& b)
    : shared(s),
      behavior(b),
      index_(index),
      rng_(0x9E3779B9u * static_cast<std::uint32_t>(index + 1)) {}

Worker::~Worker() { stop(); }

HubConn& Worker::add(const Endpoint& endpoint, const std::string& token) {
  conns_.push_back(std::make_unique<HubConn>(*this, endpoint, token));
  return *conns_.back();
}

std::uint32_t Worker::next_mask() {
  // xorshift32: masking keys only need to be unpredictable to caches in between, not secret.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 17;
  rng_ ^= rng_ << 5;
  return rng_;
}

void Worker::run() {
  sweep();
  thread_ = std::thread([this] { io.run(); });
}

void Worker::start_connection(std::size_t i) {
  asio::post(io, [this, i] { conns_[i]->start(); });
}

void Worker::sweep() {
  sweep_timer_.expires_after(kSweepPeriod);
  sweep_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    const std::int64_t now = mono_ns();
    for (auto& c : conns_) c->tick(now);
    sweep();
  });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  asio::post(io, [this] {
    sweep_timer_.cancel();
    for (auto& c : conns_) c->close();
    guard_.reset();
  });
  // Every loop is bounded: if a handler misbehaves, stop the context after a grace period.
  for (int i = 0; i < 200 && !io.stopped(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  io.stop();
  thread_.join();
}

}  // namespace clickrace::bench
