#include "redis_cluster.hpp"

#include <signal.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace clickrace::test {
namespace {

bool info_has(const std::string& info, const std::string& line) {
  return info.find(line) != std::string::npos;
}

}  // namespace

RedisCluster::RedisCluster(Config config) : config_(std::move(config)) {
  int count = config_.primaries * (1 + config_.replicas);
  std::set<int> used;
  auto fresh_port = [&] {
    for (;;) {
      int p = free_port();
      if (used.insert(p).second) return p;
    }
  };
  nodes_.resize(count);
  for (auto& n : nodes_) {
    n.port = fresh_port();
    n.bus_port = fresh_port();  // cluster-port (Redis 7): no port+10000 arithmetic
    n.dir = std::make_unique<TempDir>();
    start(n);
  }
  for (auto& n : nodes_) {
    bool up = eventually(
        [&] {
          RedisSync c(n.port);
          return c.ok() && c.cmd({"PING"}).str == "PONG";
        },
        10s);
    if (!up) throw std::runtime_error("cluster node did not start: " + n.proc->output());
  }
  // The first `primaries` addresses become the primaries, the rest their replicas.
  std::vector<std::string> argv{"redis-cli", "--cluster", "create"};
  for (auto& n : nodes_) argv.push_back("127.0.0.1:" + std::to_string(n.port));
  for (const char* a : {"--cluster-replicas", "", "--cluster-yes"}) argv.emplace_back(a);
  argv[argv.size() - 2] = std::to_string(config_.replicas);
  Process create("redis-cli-create", argv);
  create.start();
  auto status = create.wait_exit(60s);
  create_output_ = create.output();
  if (!status || *status != 0) {
    throw std::runtime_error("redis-cli --cluster create failed:\n" + create_output_);
  }
  if (!wait_ok(60s)) throw std::runtime_error("cluster did not become ok:\n" + diagnostics());
}

RedisCluster::~RedisCluster() {
  for (auto& n : nodes_) {
    if (n.proc) n.proc->kill();
  }
}

void RedisCluster::start(Node& n) {
  std::vector<std::string> argv{"redis-server", "--port", std::to_string(n.port), "--bind",
                                "127.0.0.1", "--cluster-enabled", "yes", "--cluster-port",
                                std::to_string(n.bus_port), "--cluster-config-file",
                                n.dir->path() + "/nodes.conf", "--cluster-node-timeout",
                                std::to_string(config_.node_timeout.count()),
                                // A replica may always take over, however long its link was
                                // down (tests kill primaries on purpose).
                                "--cluster-replica-validity-factor", "0", "--save", "",
                                "--appendonly", "no", "--dir", n.dir->path(), "--daemonize", "no"};
  for (const auto& a : config_.extra_args) argv.push_back(a);
  n.proc = std::make_unique<Process>("redis-cluster-" + std::to_string(n.port), argv);
  n.proc->start();
}

std::vector<int> RedisCluster::ports() const {
  std::vector<int> out;
  for (const auto& n : nodes_) out.push_back(n.port);
  return out;
}

std::string RedisCluster::seeds() const {
  std::string out;
  for (const auto& n : nodes_) {
    if (!out.empty()) out += ',';
    out += "127.0.0.1:" + std::to_string(n.port);
  }
  return out;
}

RedisCluster::Node& RedisCluster::node(int port) {
  for (auto& n : nodes_) {
    if (n.port == port) return n;
  }
  throw std::runtime_error("no cluster node on port " + std::to_string(port));
}

bool RedisCluster::running(int port) { return node(port).proc && node(port).proc->running(); }

Reply RedisCluster::cmd(int port, const std::vector<std::string>& args) {
  RedisSync c(port);
  return c.cmd(args);
}

Reply RedisCluster::cmd_any(const std::vector<std::string>& args) {
  for (auto& n : nodes_) {
    if (!n.proc->running()) continue;
    Reply r = cmd(n.port, args);
    if (!r.is_error()) return r;
  }
  throw std::runtime_error("no cluster node answers");
}

std::string RedisCluster::node_id(int port) {
  Reply r = cmd(port, {"CLUSTER", "MYID"});
  if (r.is_error()) throw std::runtime_error("CLUSTER MYID: " + r.str);
  return r.str;
}

int RedisCluster::primary_of_slot(int slot, int via) {
  Reply r = via ? cmd(via, {"CLUSTER", "SLOTS"}) : cmd_any({"CLUSTER", "SLOTS"});
  for (const auto& range : r.elements) {
    if (range.elements.size() >= 3 && range.elements[0].integer <= slot &&
        slot <= range.elements[1].integer) {
      return static_cast<int>(range.elements[2].elements.at(1).integer);
    }
  }
  return 0;
}

std::vector<int> RedisCluster::primary_ports() {
  std::set<int> out;
  for (const auto& range : cmd_any({"CLUSTER", "SLOTS"}).elements) {
    if (range.elements.size() >= 3) {
      out.insert(static_cast<int>(range.elements[2].elements.at(1).integer));
    }
  }
  return {out.begin(), out.end()};
}

int RedisCluster::replica_of(int primary_port) {
  for (const auto& range : cmd_any({"CLUSTER", "SLOTS"}).elements) {
    if (range.elements.size() >= 4 && range.elements[2].elements.at(1).integer == primary_port) {
      return static_cast<int>(range.elements[3].elements.at(1).integer);
    }
  }
  return 0;
}

void RedisCluster::kill(int port) { node(port).proc->kill(); }
void RedisCluster::pause(int port) { node(port).proc->signal(SIGSTOP); }
void RedisCluster::resume(int port) { node(port).proc->signal(SIGCONT); }

void RedisCluster::restart(int port) {
  Node& n = node(port);
  if (n.proc->running()) return;
  start(n);
  eventually(
      [&] {
        RedisSync c(port);
        return c.ok() && c.cmd({"PING"}).str == "PONG";
      },
      10s);
}

bool RedisCluster::wait_ok(std::chrono::milliseconds timeout, bool replicas_synced) {
  return eventually(
      [&] {
        int running = 0;
        for (auto& n : nodes_) running += n.proc->running() ? 1 : 0;
        std::set<std::string> views;
        for (auto& n : nodes_) {
          if (!n.proc->running()) continue;
          Reply info = cmd(n.port, {"CLUSTER", "INFO"});
          if (info.is_error() || !info_has(info.str, "cluster_state:ok") ||
              !info_has(info.str, "cluster_slots_assigned:16384") ||
              !info_has(info.str, "cluster_slots_ok:16384")) {
            return false;
          }
          Reply repl = cmd(n.port, {"INFO", "replication"});
          if (info_has(repl.str, "role:slave") && !info_has(repl.str, "master_link_status:up")) {
            return false;
          }
          // Every node must see the same primaries (gossip settled).
          std::string view;
          // A replica is listed once its first sync is done.
          for (const auto& range : cmd(n.port, {"CLUSTER", "SLOTS"}).elements) {
            std::size_t want = 3 + (replicas_synced ? config_.replicas : 0);
            if (range.elements.size() < want) {
              return false;
            }
            view += std::to_string(range.elements[0].integer) + "-" +
                    std::to_string(range.elements[1].integer) + ":" +
                    std::to_string(range.elements[2].elements.at(1).integer) + " ";
          }
          views.insert(view);
        }
        return running > 0 && views.size() == 1;
      },
      timeout, 100ms);
}

void RedisCluster::migrate_begin(int slot, int from, int to) {
  std::string s = std::to_string(slot);
  Reply a = cmd(to, {"CLUSTER", "SETSLOT", s, "IMPORTING", node_id(from)});
  Reply b = cmd(from, {"CLUSTER", "SETSLOT", s, "MIGRATING", node_id(to)});
  if (a.is_error() || b.is_error()) {
    throw std::runtime_error("SETSLOT IMPORTING/MIGRATING failed: " + a.str + " " + b.str);
  }
}

int RedisCluster::migrate_keys(int slot, int from, int to, int count) {
  Reply keys = cmd(from, {"CLUSTER", "GETKEYSINSLOT", std::to_string(slot),
                          std::to_string(count > 0 ? count : 1000000)});
  if (keys.elements.empty()) return 0;
  std::vector<std::string> argv{"MIGRATE", "127.0.0.1", std::to_string(to), "", "0",
                                "5000",    "KEYS"};
  for (const auto& k : keys.elements) argv.push_back(k.str);
  Reply r = cmd(from, argv);
  if (r.is_error()) throw std::runtime_error("MIGRATE failed: " + r.str);
  return static_cast<int>(keys.elements.size());
}

int RedisCluster::move_slot_gradually(int slot, int from, int to, int keys_per_step,
                                      std::chrono::milliseconds pause) {
  migrate_begin(slot, from, to);
  int moved = 0;
  try {
    for (int n; (n = migrate_keys(slot, from, to, keys_per_step)) > 0;) {
      moved += n;
      std::this_thread::sleep_for(pause);
    }
  } catch (...) {
    migrate_end(slot, from, to);  // the slot is not left half-migrated
    throw;
  }
  migrate_end(slot, from, to);
  return moved;
}

void RedisCluster::migrate_end(int slot, int from, int to) {
  std::string s = std::to_string(slot);
  std::string id = node_id(to);
  // The target first, so the slot is never owned by nobody (cluster spec).
  for (int port : {to, from}) {
    Reply r = cmd(port, {"CLUSTER", "SETSLOT", s, "NODE", id});
    if (r.is_error()) throw std::runtime_error("SETSLOT NODE failed: " + r.str);
  }
  for (int port : primary_ports()) {
    if (port != to && port != from) cmd(port, {"CLUSTER", "SETSLOT", s, "NODE", id});
  }
}

void RedisCluster::move_slot(int slot, int from, int to) {
  migrate_begin(slot, from, to);
  while (migrate_keys(slot, from, to, 100) > 0) {
  }
  migrate_end(slot, from, to);
}

std::string RedisCluster::diagnostics() {
  std::ostringstream out;
  out << "redis-cli --cluster create:\n" << create_output_ << '\n';
  for (auto& n : nodes_) {
    out << "node " << n.port << (n.proc->running() ? "" : " (not running)") << ":\n";
    if (n.proc->running()) {
      Reply nodes = cmd(n.port, {"CLUSTER", "NODES"});
      out << nodes.str << '\n';
    }
  }
  return out.str();
}

}  // namespace clickrace::test
