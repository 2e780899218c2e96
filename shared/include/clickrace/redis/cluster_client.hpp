#pragma once
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "clickrace/redis/client.hpp"
#include "clickrace/redis/cluster_map.hpp"
#include "clickrace/redis/cluster_redirect.hpp"
#include "clickrace/redis/cluster_slots.hpp"
#include "clickrace/redis/options.hpp"
#include "clickrace/redis/script.hpp"

namespace clickrace::redis {

struct ClusterOptions {
  // Where the slot map is first asked for (any nodes of the cluster, primaries or replicas).
  std::vector<cluster::NodeAddress> seeds;
  // Template for every node connection: credentials, timeouts, backoff (host/port replaced).
  Options node;
  // A plain Redis: the first seed serves every slot and CLUSTER commands are never sent.
  bool single_node = false;
  // The slot map is fetched again this often even when nothing asks for it (a failover, a
  // reshard elsewhere), and sooner (unready_refresh) while the client is not ready().
  std::chrono::milliseconds refresh_interval{5000};
  std::chrono::milliseconds unready_refresh{500};
  // At most one refresh per this interval, however many commands ask for one.
  std::chrono::milliseconds min_refresh_gap{100};
  // Pause before a retry (TRYAGAIN, CLUSTERDOWN, a node not connected): doubles up to the max.
  std::chrono::milliseconds retry_delay{20};
  std::chrono::milliseconds retry_delay_max{500};
  // MOVED/ASK hops one command may follow before its last answer is delivered as is.
  int max_redirects = 8;
};

// Counters of one node (updated on the event loop). A service exports them per node.
struct ClusterNodeMetrics {
  std::uint64_t calls = 0;           // attempts sent to this node
  std::uint64_t redirects = 0;       // MOVED/ASK answers it gave
  std::uint64_t failovers = 0;       // times a refresh showed it promoted from replica to primary
  std::uint64_t not_replicated = 0;  // answers a WAIT did not confirm in time
};

struct ClusterMetrics {
  std::uint64_t refreshes = 0;         // slot maps installed
  std::uint64_t refresh_failures = 0;  // CLUSTER SLOTS that failed or could not be parsed
  std::uint64_t moved = 0;
  std::uint64_t asks = 0;
  std::uint64_t retries = 0;    // attempts repeated after TRYAGAIN/CLUSTERDOWN/no connection...
  std::uint64_t failovers = 0;  // promotions seen (sum over nodes)
};

// One node as seen by the client, for metrics and /status.
struct ClusterNodeStatus {
  cluster::NodeAddress address;
  bool primary = false;  // serves slots in the current map
  bool connected = false;
  ClusterNodeMetrics counters;
  Metrics connection;  // the node connection's own counters
};

// How one call of ClusterClient may be carried out.
struct CallOptions {
  std::chrono::steady_clock::duration timeout{};  // 0: the node command_timeout (one attempt)
  bool idempotent = false;                        // may be resent after "connection lost"/"timeout"
  // Durability: the answer is held until `WAIT wait_replicas wait_timeout` on the same
  // connection confirms it (one WAIT per node at a time covers every answer before it). Fewer
  // replicas in time: the Result error kErrNotReplicated, the command ran on the primary but may
  // be lost with it (a caller treats it like "connection lost": unresolved, never an
  // acknowledgement). A slot whose primary the map shows with fewer replicas fails at once with
  // kErrTooFewReplicas, nothing sent. 0: no WAIT.
  int wait_replicas = 0;
  std::chrono::milliseconds wait_timeout{1000};
};

// What one attempt of a call runs on: the connection to the chosen node, the time left, and
// whether it follows an ASK redirection (then every command on the slot must come right after
// ASKING, which covers one command; command() and eval() do that).
struct NodeCall {
  Client& client;
  std::chrono::milliseconds timeout;
  bool asking = false;
  void command(std::vector<std::string> args, Client::Callback cb) const;
  void eval(const Script& script, std::vector<std::string> keys, std::vector<std::string> args,
            Client::Callback cb) const;
};

// A Redis Cluster client on the one event loop: one reconnecting Client per primary (created
// from the slot map, which comes from CLUSTER SLOTS), commands routed by the CRC16 slot of their
// key, MOVED (map patched, command re-sent), ASK (ASKING + the command, once), and TRYAGAIN,
// CLUSTERDOWN, a node not reachable (map refreshed, command retried with a growing pause) within
// the caller's deadline. Single-threaded like Client: call it and get callbacks on the io thread.
//
// Semantics
// - Each callback runs exactly once (unless the ClusterClient is destroyed first), with the
//   final outcome: a reply, an error reply that is not a redirection, or a transport error.
// - A call is retried only while its outcome proves the command did not run (see decide() in
//   cluster_redirect.hpp). "connection lost"/"timeout" are retried only for calls marked
//   idempotent; otherwise the caller gets them and decides (e.g. resend a click batch by id).
// - Deadline: no attempt starts after it; each attempt's timeout is cut to what is left.
// - The node connections preload the registered scripts on every connect (see Script).
class ClusterClient {
 public:
  using Callback = Client::Callback;
  using Clock = std::chrono::steady_clock;
  // One attempt of a call on the node chosen for it (see NodeCall). Must call `done` exactly
  // once (Client semantics) and may pipeline several commands (e.g. a script, then WAIT).
  using Op = std::function<void(const NodeCall& node, Callback done)>;
  using StateCallback = std::function<void(bool ready)>;

  ClusterClient(asio::io_context& io, ClusterOptions options);
  ~ClusterClient();
  ClusterClient(const ClusterClient&) = delete;
  ClusterClient& operator=(const ClusterClient&) = delete;

  void preload_script(std::string source);  // before start()
  void start();
  void close();  // in-flight calls complete with kErrClosed

  // A slot map covers every slot, the node that gave it reports cluster_state:ok, and every
  // primary's connection is up. (Single node: its connection is up.)
  bool ready() const { return ready_; }
  // Why not ready ("" when ready), for logs and /status.
  std::string unready_reason() const;
  void on_state(StateCallback cb) { on_state_ = std::move(cb); }

  // Runs `op` on the primary of `slot`, following the cluster as described above.
  void send(int slot, Op op, Callback cb, CallOptions call);
  // A command routed by its key (cluster::routing_key: args[1] for most commands, the first
  // key of EVAL/EVALSHA); a key-less command goes to the primary of slot 0.
  void command(std::vector<std::string> args, Callback cb, CallOptions call = {});
  // The Client-compatible form: one deadline, no WAIT.
  void command(std::vector<std::string> args, Callback cb, std::chrono::milliseconds timeout) {
    CallOptions call;
    call.timeout = timeout;
    command(std::move(args), std::move(cb), call);
  }
  // EVALSHA (EVAL after NOSCRIPT) routed by the keys' common slot; on a cluster, keys in
  // different slots fail at once with an error reply CROSSSLOT, as Redis would answer.
  void eval(const Script& script, std::vector<std::string> keys, std::vector<std::string> args,
            Callback cb, CallOptions call = {});

  // Client-compatible names, so a service holds one type for a plain Redis and a cluster.
  bool connected() const { return ready_; }
  // Hooked into every node connection (also those created later).
  void set_round_trip_hook(RoundTripHook hook);
  const Options& options() const { return options_.node; }

  const ClusterMetrics& metrics() const { return metrics_; }
  std::vector<ClusterNodeStatus> nodes() const;
  const cluster::SlotMap& slot_map() const { return map_; }
  // The next node to try for pub/sub, rotating over every node known (primaries, replicas,
  // seeds): a cluster forwards PUBLISH to every node, so a subscriber may use any of them, and
  // moves on when its node is gone (Subscriber::set_address_source).
  cluster::NodeAddress next_pubsub_node();
  // Fetches the slot map again now (subject to min_refresh_gap).
  void refresh() { request_refresh(); }
  const ClusterOptions& cluster_options() const { return options_; }

 private:
  struct Durable {
    Callback cb;
    Result<Reply> result;
    int replicas = 0;
  };
  struct Durability {
    std::vector<Durable> covered;  // answered before the WAIT in flight was sent
    std::vector<Durable> next;     // answered since: the next WAIT covers them
    bool waiting = false;
    std::chrono::milliseconds timeout{};
  };
  struct Node {
    cluster::NodeAddress address;
    std::unique_ptr<Client> client;
    ClusterNodeMetrics counters;
    Durability durability;
  };
  struct Attempt;

  Node& node(const cluster::NodeAddress& address);
  void dispatch(std::shared_ptr<Attempt> a);
  void finish(std::shared_ptr<Attempt> a, const cluster::NodeAddress& from, Result<Reply> r);
  void retry_later(std::shared_ptr<Attempt> a);
  void await_replicas(Node& n, std::shared_ptr<Attempt> a, Result<Reply> r);
  void send_wait(Node& n);
  void request_refresh();
  void do_refresh();
  void refreshed(const cluster::NodeAddress& from, Result<Reply> slots, Result<Reply> info);
  void install(cluster::SlotMap map);
  void retire(Node& node);
  void prune_nodes();
  void schedule_periodic(std::chrono::milliseconds after);
  void update_ready();

  asio::io_context& io_;
  ClusterOptions options_;
  std::vector<std::string> scripts_;
  std::map<std::string, Node> nodes_;  // by address.str()
  cluster::SlotMap map_;
  bool cluster_ok_ = false;  // cluster_state:ok from the node that gave the map
  bool ready_ = false;
  bool started_ = false;
  bool closed_ = false;
  bool refreshing_ = false;
  bool refresh_again_ = false;
  bool refresh_armed_ = false;
  std::size_t next_source_ = 0;  // rotates the node asked for the map
  std::size_t next_pubsub_ = 0;
  Clock::time_point last_refresh_{};
  asio::steady_timer refresh_timer_;  // a refresh postponed by min_refresh_gap
  asio::steady_timer periodic_timer_;
  ClusterMetrics metrics_;
  StateCallback on_state_;
  RoundTripHook round_trip_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace clickrace::redis
