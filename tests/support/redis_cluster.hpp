#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "process.hpp"
#include "redis_server.hpp"

namespace clickrace::test {

// A real Redis Cluster on loopback: `primaries` x (1 + `replicas`) redis-server processes with
// --cluster-enabled yes on free ports (client and bus port both chosen free), joined by
// `redis-cli --cluster create ... --cluster-replicas N --cluster-yes`. The constructor returns
// once every node reports cluster_state:ok, knows every node, and every replica's link is up.
// Nodes are stopped by pid (SIGKILL in the destructor); their files live in temp dirs.
class RedisCluster {
 public:
  struct Config {
    int primaries = 3;
    int replicas = 1;  // per primary
    // cluster-node-timeout: how long a silent primary takes to be failed over (plus the
    // replica's election delay, about 0.5-1.5 s).
    std::chrono::milliseconds node_timeout{2000};
    // Extra redis-server arguments for every node, e.g. {"--appendonly", "yes"}.
    std::vector<std::string> extra_args;
  };

  RedisCluster() : RedisCluster(Config{}) {}
  explicit RedisCluster(Config config);
  ~RedisCluster();
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  int size() const { return static_cast<int>(nodes_.size()); }
  std::vector<int> ports() const;
  // "127.0.0.1:p1,127.0.0.1:p2,..." of every node (CLICKRACE_REDIS_CLUSTER).
  std::string seeds() const;

  // Queries a live node (any, unless `port` is given); they throw when no node answers.
  std::string node_id(int port);
  // The port of the primary serving `slot` (CLUSTER SLOTS as seen by `via`, else any live node).
  int primary_of_slot(int slot, int via = 0);
  std::vector<int> primary_ports();  // ports of the nodes serving slots, sorted
  int replica_of(int primary_port);  // a replica's port (0 if none is attached)
  bool running(int port);

  // Fault injection.
  void kill(int port);     // SIGKILL
  void pause(int port);    // SIGSTOP: the node answers nothing, replication to it stalls
  void resume(int port);   // SIGCONT
  void restart(int port);  // starts a killed node again (same port, same nodes.conf)
  // Until every running node reports cluster_state:ok with all 16384 slots served, every
  // replica's link is up, and all running nodes report the same slot ranges and primaries.
  // With `replicas_synced`, also until every primary lists its configured replicas (synced).
  bool wait_ok(std::chrono::milliseconds timeout = 30s, bool replicas_synced = true);

  // Slot migration, step by step (cluster spec "Live resharding"):
  // begin: `to` IMPORTING from `from`, `from` MIGRATING to `to`;
  // move_keys: MIGRATE up to `count` keys of the slot from `from` to `to` (all when count <= 0);
  // end: CLUSTER SETSLOT <slot> NODE <to> on both, then on every other primary.
  void migrate_begin(int slot, int from, int to);
  int migrate_keys(int slot, int from, int to, int count = 0);
  void migrate_end(int slot, int from, int to);
  // All three.
  void move_slot(int slot, int from, int to);
  // All three, `keys_per_step` keys at a time with `pause` between the steps (so traffic meets
  // every stage of a live reshard). Returns the keys moved; throws as migrate_keys does, after
  // ending the migration.
  int move_slot_gradually(int slot, int from, int to, int keys_per_step,
                          std::chrono::milliseconds pause);

  // Output of the cluster nodes and of redis-cli, for failure messages.
  std::string diagnostics();

 private:
  struct Node {
    int port = 0;
    int bus_port = 0;
    std::unique_ptr<TempDir> dir;
    std::unique_ptr<Process> proc;
  };
  Node& node(int port);
  void start(Node& n);
  Reply cmd(int port, const std::vector<std::string>& args);
  Reply cmd_any(const std::vector<std::string>& args);

  Config config_;
  std::vector<Node> nodes_;
  std::string create_output_;
};

}  // namespace clickrace::test
