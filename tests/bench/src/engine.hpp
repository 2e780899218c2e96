#pragma once
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "histogram.hpp"
#include "http.hpp"
#include "options.hpp"

// The load generator's engine: worker threads, each with its own io_context and its own set of
// hub connections (no locks between them); a per-worker sweep timer for deadlines and
// keep-alive instead of a timer per connection.
namespace clickrace::bench {

class HubConn;
class Worker;

inline std::int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
inline std::int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What a scenario does with an open connection. One instance serves every worker, so it keeps
// its per-thread state in the Worker.
class Behavior {
 public:
  virtual ~Behavior() = default;
  virtual void on_open(HubConn&) {}
  virtual void on_completion(HubConn&, std::uint64_t /*id*/, bool /*error*/,
                             std::string_view /*record*/) {}
  virtual void on_invocation(HubConn&, std::string_view /*target*/, std::string_view /*record*/) {}
  virtual void on_tick(HubConn&, std::int64_t /*now_ns*/) {}
};

// Read by every worker, written by the main thread.
struct SharedState {
  explicit SharedState(const Options& o) : opt(o) {}
  const Options& opt;
  std::atomic<bool> measuring{false};
  std::atomic<int> connecting{0};  // attempts in progress (main increments, workers decrement)
  std::atomic<std::int64_t> measure_from_us{std::numeric_limits<std::int64_t>::max()};
};

// Counters the main thread polls while the run goes on.
struct WorkerCounters {
  std::atomic<std::uint64_t> opened{0};
  std::atomic<std::uint64_t> failed{0};   // attempts that never reached "open"
  std::atomic<std::uint64_t> dropped{0};  // open connections lost (server close, error)
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint64_t> click_errors{0};
  std::atomic<std::uint64_t> round_ended{0};
  std::atomic<std::uint64_t> pings{0};
  // openloop: clicks the schedule offered, clicks written, completions that matched no click
  std::atomic<std::uint64_t> offered{0};
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> unmatched{0};
};

class HubConn {
 public:
  enum class State { idle, negotiating, upgrading, handshaking, open, closed };

  HubConn(Worker& worker, Endpoint endpoint, const std::string& token);
  void start();  // worker thread only
  // Queues one record (JSON without the separator) for the next text frame; flush() sends.
  void send_record(std::string_view json);
  // Queues one Click invocation with this id, in the connection's hub protocol.
  void send_click(std::uint64_t id);
  void flush();
  void close();  // ours: not counted as a failure
  void tick(std::int64_t now_ns);

  State state() const { return state_; }
  Worker& worker() { return worker_; }

  // Scenario state (clicks): invocation ids are a per-connection counter; the send time of id
  // is kept at sent_ns[id & mask].
  std::uint64_t next_id = 0;
  int inflight = 0;
  std::vector<std::int64_t> sent_ns;
  std::vector<std::int64_t> written_ns;  // openloop: when the click's frame reached the socket
  std::uint64_t fifo_next = 0;           // openloop --ack-order fifo: the oldest unanswered id
  double credit = 0;                     // openloop burst arrivals: clicks due, fractional

 private:
  void connect();
  void on_connected();
  void arm_read();
  void on_readable();
  void on_http(const char* data, std::size_t n);
  void on_ws(const char* data, std::size_t n);
  bool on_frames(std::string_view data, std::size_t& consumed);
  void on_text(std::string_view payload);
  void on_record(std::string_view record);
  void on_binary(std::string_view payload);  // MessagePack: VarInt-framed messages
  void on_msgpack(std::string_view body);
  void dispatch(int type, std::optional<std::uint64_t> id, bool has_error, std::string_view target,
                std::string_view record);
  void write_raw(std::string_view bytes);
  void start_write();
  void fail(const std::string& why);
  bool connecting() const {
    return state_ == State::negotiating || state_ == State::upgrading ||
           state_ == State::handshaking;
  }

  Worker& worker_;
  Endpoint endpoint_;
  const std::string& token_;
  asio::ip::tcp::socket sock_;
  State state_ = State::idle;
  std::uint32_t gen_ = 0;  // bumps when the socket is replaced or closed: stale handlers return
  std::int64_t started_ns_ = 0;
  std::int64_t deadline_ns_ = 0;
  std::int64_t last_send_ns_ = 0;
  std::string connection_token_;
  std::string in_;         // HTTP response bytes, or a partial WebSocket frame
  std::string records_;    // a partial SignalR record (text without its 0x1E yet)
  std::string binary_in_;  // a partial MessagePack frame
  bool msgpack_ = false;   // --protocol messagepack: binary frames after the (JSON) handshake
  std::string payload_;    // records for the next text frame
  std::string out_;        // bytes waiting for the write in flight to finish
  std::string writing_;    // bytes of the write in flight
  bool write_busy_ = false;
};

class Worker {
 public:
  Worker(int index, SharedState& shared, Behavior& behavior);
  ~Worker();
  // Before run(): connections are created up front so the vector never changes under the loop.
  HubConn& add(const Endpoint& endpoint, const std::string& token);
  void run();                            // starts the thread
  void start_connection(std::size_t i);  // any thread: posts
  void stop();                           // any thread: closes everything, joins
  std::size_t size() const { return conns_.size(); }
  // Worker thread only (the vector itself never changes after run()).
  const std::vector<std::unique_ptr<HubConn>>& connections() const { return conns_; }

  asio::io_context io{1};
  SharedState& shared;
  Behavior& behavior;
  WorkerCounters counters;
  // Worker-thread-only data, read by the main thread after stop().
  Histogram latency_ns;  // clicks: invocation → completion (openloop: scheduled send → completion)
  Histogram from_write_ns;  // openloop: frame written → completion (the generator's lag left out)
  Histogram connect_ns;     // start → handshake done
  Histogram lag_ns;         // openloop: actual send − scheduled send (did the generator keep up?)
  std::vector<std::pair<std::int64_t, std::int64_t>> round_samples;  // fanout: (round, µs late)
  std::map<std::string, std::uint64_t> errors;
  char read_buf[64 * 1024];  // shared by this worker's sockets: reads happen one at a time
  std::uint32_t next_mask();

 private:
  void sweep();
  int index_;
  std::vector<std::unique_ptr<HubConn>> conns_;
  asio::steady_timer sweep_timer_{io};
  asio::executor_work_guard<asio::io_context::executor_type> guard_{io.get_executor()};
  std::thread thread_;
  std::uint32_t rng_;
};

}  // namespace clickrace::bench
