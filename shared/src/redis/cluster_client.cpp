#include "clickrace/redis/cluster_client.hpp"

#include <algorithm>

#include <asio/post.hpp>

#include "clickrace/core/log.hpp"
#include "clickrace/redis/errors.hpp"

namespace clickrace::redis {

using cluster::NodeAddress;
using std::chrono::milliseconds;

// One call across its attempts (redirections, retries).
struct ClusterClient::Attempt {
  explicit Attempt(asio::io_context& io) : timer(io) {}
  int slot = 0;
  Op op;
  Callback cb;
  bool idempotent = false;
  Clock::time_point deadline;
  int redirects = 0;
  std::optional<NodeAddress> ask_to;  // the next attempt goes there, after ASKING
  std::optional<Result<Reply>> last;  // the latest outcome, delivered if time runs out
  milliseconds delay{};
  int wait_replicas = 0;
  milliseconds wait_timeout{};
  asio::steady_timer timer;
};

namespace {

// Delivers outside the current call stack (never from within send()).
void deliver_later(asio::io_context& io, std::weak_ptr<char> alive, ClusterClient::Callback cb,
                   Result<Reply> r) {
  asio::post(io, [alive, cb = std::move(cb), r = std::move(r)]() mutable {
    if (!alive.expired()) cb(std::move(r));
  });
}

Result<Reply> not_connected() { return make_error(std::string(kErrNotConnected)); }

}  // namespace

void NodeCall::command(std::vector<std::string> args, Client::Callback cb) const {
  // Same connection, so ASKING is read right before the command.
  if (asking)
    client.command(
        {"ASKING"}, [](Result<Reply>) {}, timeout);
  client.command(std::move(args), std::move(cb), timeout);
}

void NodeCall::eval(const Script& script, std::vector<std::string> keys,
                    std::vector<std::string> args, Client::Callback cb) const {
  script.call(client, std::move(keys), std::move(args), std::move(cb), timeout, asking);
}

ClusterClient::ClusterClient(asio::io_context& io, ClusterOptions options)
    : io_(io), options_(std::move(options)), refresh_timer_(io), periodic_timer_(io) {}

ClusterClient::~ClusterClient() {
  closed_ = true;
  nodes_.clear();  // their pending callbacks are dropped (Client semantics)
}

void ClusterClient::preload_script(std::string source) { scripts_.push_back(std::move(source)); }

void ClusterClient::set_round_trip_hook(RoundTripHook hook) {
  round_trip_ = std::move(hook);
  for (auto& [key, n] : nodes_) n.client->set_round_trip_hook(round_trip_);
}

void Script::call(ClusterClient& client, std::vector<std::string> keys,
                  std::vector<std::string> args, Client::Callback cb,
                  const CallOptions& options) const {
  client.eval(*this, std::move(keys), std::move(args), std::move(cb), options);
}

void Script::call(ClusterClient& client, std::vector<std::string> keys,
                  std::vector<std::string> args, Client::Callback cb,
                  std::chrono::milliseconds timeout) const {
  CallOptions o;
  o.timeout = timeout;
  call(client, std::move(keys), std::move(args), std::move(cb), o);
}

void Script::call(ClusterClient& client, std::vector<std::string> keys,
                  std::vector<std::string> args, Client::Callback cb) const {
  call(client, std::move(keys), std::move(args), std::move(cb), client.options().command_timeout);
}

void Script::preload(ClusterClient& client) const { client.preload_script(source()); }

void ClusterClient::start() {
  if (started_ || options_.seeds.empty()) return;
  started_ = true;
  if (options_.single_node) {
    map_ = cluster::SlotMap::single_node(options_.seeds.front());
    node(options_.seeds.front());
    return;
  }
  for (const auto& seed : options_.seeds) node(seed);
  schedule_periodic(options_.unready_refresh);
}

void ClusterClient::close() {
  if (closed_) return;
  closed_ = true;
  refresh_timer_.cancel();
  periodic_timer_.cancel();
  for (auto& [key, n] : nodes_) n.client->close();
  update_ready();
}

ClusterClient::Node& ClusterClient::node(const NodeAddress& address) {
  std::string key = address.str();
  auto it = nodes_.find(key);
  if (it != nodes_.end()) return it->second;
  Options o = options_.node;
  o.host = address.host;
  o.port = address.port;
  auto client = std::make_unique<Client>(io_, o);
  for (const auto& s : scripts_) client->preload_script(s);
  if (round_trip_) client->set_round_trip_hook(round_trip_);
  client->on_state([this, w = std::weak_ptr<char>(alive_)](bool connected) {
    if (w.expired() || closed_) return;
    // A lost primary may be failing over; a first connection can fetch the first map.
    if (!connected || map_.empty() || !ready_) request_refresh();
    update_ready();
  });
  if (started_ && !closed_) client->start();
  Node& n = nodes_[key];
  n.address = address;
  n.client = std::move(client);
  return n;
}

void ClusterClient::send(int slot, Op op, Callback cb, CallOptions call) {
  auto a = std::make_shared<Attempt>(io_);
  a->slot = slot;
  a->op = std::move(op);
  a->wait_replicas = call.wait_replicas;
  a->wait_timeout = call.wait_timeout;
  a->cb = std::move(cb);
  a->idempotent = call.idempotent;
  auto timeout =
      call.timeout.count() > 0 ? call.timeout : Clock::duration(options_.node.command_timeout);
  a->deadline = Clock::now() + std::max<Clock::duration>(timeout, milliseconds(1));
  a->delay = options_.retry_delay;
  dispatch(std::move(a));
}

void ClusterClient::command(std::vector<std::string> args, Callback cb, CallOptions call) {
  auto key = cluster::routing_key(args);
  int slot = key ? cluster::key_slot(*key) : 0;
  send(
      slot,
      [args = std::move(args)](const NodeCall& node, Callback done) {
        node.command(args, std::move(done));
      },
      std::move(cb), call);
}

void ClusterClient::eval(const Script& script, std::vector<std::string> keys,
                         std::vector<std::string> args, Callback cb, CallOptions call) {
  int slot = keys.empty() ? 0 : cluster::key_slot(keys.front());
  // (One Redis has no slots: a script may touch keys of any "slot" there.)
  for (const auto& k : keys) {
    if (!options_.single_node && cluster::key_slot(k) != slot) {
      return deliver_later(io_, alive_, std::move(cb),
                           Reply::error("CROSSSLOT Keys in request don't hash to the same slot"));
    }
  }
  send(
      slot,
      [script, keys = std::move(keys), args = std::move(args)](
          const NodeCall& node, Callback done) { node.eval(script, keys, args, std::move(done)); },
      std::move(cb), call);
}

void ClusterClient::dispatch(std::shared_ptr<Attempt> a) {
  if (closed_) {
    return deliver_later(io_, alive_, std::move(a->cb), make_error(std::string(kErrClosed)));
  }
  auto now = Clock::now();
  if (now >= a->deadline) {
    return deliver_later(io_, alive_, std::move(a->cb),
                         a->last ? std::move(*a->last) : not_connected());
  }
  std::optional<NodeAddress> target = a->ask_to;
  if (!target) {
    if (const NodeAddress* p = map_.primary(a->slot)) target = *p;
  }
  if (!target) {  // no map yet, or the slot is unassigned
    a->last = not_connected();
    request_refresh();
    return retry_later(std::move(a));
  }
  if (a->wait_replicas > 0 && !a->ask_to) {
    // Durability is impossible while the slot's primary has too few replicas (e.g. just after
    // a failover): refuse before running anything rather than apply and never acknowledge.
    int replicas = map_.replica_count(a->slot);
    if (replicas >= 0 && replicas < a->wait_replicas) {
      request_refresh();
      return deliver_later(io_, alive_, std::move(a->cb),
                           make_error(std::string(kErrTooFewReplicas)));
    }
  }
  Node& n = node(*target);
  auto left = std::chrono::duration_cast<milliseconds>(a->deadline - now);
  milliseconds timeout = std::max(milliseconds(1), std::min(options_.node.command_timeout, left));
  ++n.counters.calls;
  NodeCall call{*n.client, timeout, a->ask_to.has_value()};
  a->ask_to.reset();
  Op& op = a->op;
  op(call, [this, w = std::weak_ptr<char>(alive_), a, from = *target](Result<Reply> r) mutable {
    if (w.expired()) return;
    finish(std::move(a), from, std::move(r));
  });
}

void ClusterClient::finish(std::shared_ptr<Attempt> a, const NodeAddress& from, Result<Reply> r) {
  auto d = cluster::decide(r, from, a->idempotent);
  auto it = nodes_.find(from.str());
  if (d.refresh) request_refresh();
  switch (d.next) {
    case cluster::Next::deliver:
      if (a->wait_replicas > 0 && r.ok() && !r->is_error() && it != nodes_.end()) {
        return await_replicas(it->second, std::move(a), std::move(r));
      }
      a->cb(std::move(r));
      return;
    case cluster::Next::moved:
    case cluster::Next::ask:
      if (it != nodes_.end()) ++it->second.counters.redirects;
      if (d.next == cluster::Next::moved) {
        ++metrics_.moved;
        map_.set_primary(d.redirect->slot, d.redirect->to);
      } else {
        ++metrics_.asks;
        a->ask_to = d.redirect->to;
      }
      if (++a->redirects > options_.max_redirects) {
        CR_LOG(warn) << "redis cluster: too many redirections for slot " << a->slot;
        a->cb(std::move(r));
        return;
      }
      a->last = std::move(r);
      return dispatch(std::move(a));
    case cluster::Next::retry:
      a->last = std::move(r);
      return retry_later(std::move(a));
  }
}

// Group WAIT: one WAIT at a time per node covers every write answered on that connection
// before it was sent (WAIT counts the connection's writes), so the calls that finish while one
// is in flight share the next. Nothing else on the connection waits behind more than one WAIT.
void ClusterClient::await_replicas(Node& n, std::shared_ptr<Attempt> a, Result<Reply> r) {
  n.durability.next.push_back(Durable{std::move(a->cb), std::move(r), a->wait_replicas});
  n.durability.timeout = a->wait_timeout;
  if (!n.durability.waiting) send_wait(n);
}

void ClusterClient::send_wait(Node& n) {
  auto& d = n.durability;
  d.covered = std::move(d.next);
  d.next.clear();
  d.waiting = true;
  int want = 0;
  for (const auto& c : d.covered) want = std::max(want, c.replicas);
  std::string key = n.address.str();
  // WAIT blocks up to its timeout on the server; the client allows that plus a command timeout.
  n.client->command(
      {"WAIT", std::to_string(want), std::to_string(d.timeout.count())},
      [this, w = std::weak_ptr<char>(alive_), key](Result<Reply> r) {
        if (w.expired()) return;
        auto it = nodes_.find(key);
        if (it == nodes_.end()) return;
        Node& node = it->second;
        auto done = std::move(node.durability.covered);
        node.durability.covered.clear();
        node.durability.waiting = false;
        long long got = r.ok() && r->is_integer() ? r->integer() : -1;
        for (auto& c : done) {
          if (!r.ok()) {
            // Every covered call already ran: whatever kept the WAIT from answering (lost,
            // timeout, or not even sent: not connected, overloaded) leaves its durability
            // unknown, never "not sent" — the caller must resend it by id, not fail it.
            c.cb(r.error().message == kErrClosed ? r.error()
                                                 : make_error(std::string(kErrNotReplicated)));
          } else if (got < c.replicas) {
            ++node.counters.not_replicated;
            c.cb(make_error(std::string(kErrNotReplicated)));
          } else {
            c.cb(std::move(c.result));
          }
        }
        if (!node.durability.next.empty() && !node.durability.waiting) send_wait(node);
      },
      d.timeout + options_.node.command_timeout);
}

void ClusterClient::retry_later(std::shared_ptr<Attempt> a) {
  auto now = Clock::now();
  if (closed_ || now + a->delay >= a->deadline) {  // no time for another attempt
    Result<Reply> r = closed_ ? make_error(std::string(kErrClosed))
                              : (a->last ? std::move(*a->last) : not_connected());
    return deliver_later(io_, alive_, std::move(a->cb), std::move(r));
  }
  ++metrics_.retries;
  a->timer.expires_after(a->delay);
  a->delay = std::min(a->delay * 2, options_.retry_delay_max);
  Attempt* raw = a.get();
  raw->timer.async_wait(
      [this, w = std::weak_ptr<char>(alive_), a = std::move(a)](const asio::error_code&) mutable {
        if (w.expired()) return;
        dispatch(std::move(a));
      });
}

void ClusterClient::request_refresh() {
  if (options_.single_node || closed_ || !started_) return;
  if (refreshing_) {
    refresh_again_ = true;
    return;
  }
  if (refresh_armed_) return;
  auto since = Clock::now() - last_refresh_;
  if (since >= options_.min_refresh_gap) return do_refresh();
  refresh_armed_ = true;
  refresh_timer_.expires_after(options_.min_refresh_gap - since);
  refresh_timer_.async_wait([this, w = std::weak_ptr<char>(alive_)](const asio::error_code& ec) {
    if (ec || w.expired()) return;
    refresh_armed_ = false;
    if (!closed_) do_refresh();
  });
}

void ClusterClient::do_refresh() {
  // Ask a connected node: the map's primaries first, then any other, rotating between refreshes
  // so one node with a stale view is not asked forever.
  std::vector<Node*> candidates;
  for (const auto& p : map_.primaries()) {
    auto it = nodes_.find(p.str());
    if (it != nodes_.end() && it->second.client->connected()) candidates.push_back(&it->second);
  }
  if (candidates.empty()) {
    for (auto& [key, n] : nodes_) {
      if (n.client->connected()) candidates.push_back(&n);
    }
  }
  if (candidates.empty()) {
    // Nobody to ask: make sure the seeds are being connected; their connect asks again.
    for (const auto& seed : options_.seeds) node(seed);
    for (const auto& p : map_.primaries()) node(p);
    schedule_periodic(options_.unready_refresh);
    return;
  }
  Node& source = *candidates[next_source_++ % candidates.size()];
  refreshing_ = true;
  last_refresh_ = Clock::now();
  struct Pair {
    std::optional<Result<Reply>> info, slots;
  };
  auto pair = std::make_shared<Pair>();
  auto done = [this, w = std::weak_ptr<char>(alive_), pair, from = source.address] {
    if (w.expired() || !pair->info || !pair->slots) return;
    refreshed(from, std::move(*pair->slots), std::move(*pair->info));
  };
  source.client->command({"CLUSTER", "INFO"}, [pair, done](Result<Reply> r) {
    pair->info.emplace(std::move(r));
    done();
  });
  source.client->command({"CLUSTER", "SLOTS"}, [pair, done](Result<Reply> r) {
    pair->slots.emplace(std::move(r));
    done();
  });
}

void ClusterClient::refreshed(const NodeAddress& from, Result<Reply> slots, Result<Reply> info) {
  refreshing_ = false;
  if (closed_) return;
  Result<cluster::SlotMap> parsed = make_error("no reply");
  if (slots.ok() && !slots->is_error()) {
    parsed = cluster::SlotMap::from_cluster_slots(*slots, from);
  } else {
    parsed = make_error(slots.ok() ? slots->str() : slots.error().message);
  }
  if (parsed && parsed->empty()) parsed = make_error("the node serves no slot");
  if (!parsed) {
    ++metrics_.refresh_failures;
    CR_LOG(warn) << "redis cluster: no slot map from " << from.str() << ": "
                 << parsed.error().message;
  } else {
    install(std::move(*parsed));
    cluster_ok_ = info.ok() && info->str().find("cluster_state:ok") != std::string::npos;
  }
  update_ready();
  if (refresh_again_) {
    refresh_again_ = false;
    request_refresh();
  }
  schedule_periodic(ready_ ? options_.refresh_interval : options_.unready_refresh);
}

void ClusterClient::install(cluster::SlotMap map) {
  if (!map_.empty()) {
    for (const auto& p : map_.promotions_in(map)) {
      ++node(p).counters.failovers;
      ++metrics_.failovers;
      CR_LOG(warn) << "redis cluster: failover seen, " << p.str() << " is now a primary";
    }
  }
  map_ = std::move(map);
  ++metrics_.refreshes;
  auto primaries = map_.primaries();
  for (const auto& p : primaries) node(p);
  // Drop idle connections to nodes that serve no slot any more (old primaries, seeds that are
  // replicas). One with commands in flight stays until a later refresh finds it idle.
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    bool primary =
        std::find(primaries.begin(), primaries.end(), it->second.address) != primaries.end();
    if (primary || it->second.client->pending() > 0) {
      ++it;
      continue;
    }
    retire(it->second);
    it = nodes_.erase(it);
  }
}

void ClusterClient::retire(Node& n) {
  n.client->close();
  // Destroyed by a handler posted after any failure the client has already posted, so every
  // callback it owes still runs.
  std::shared_ptr<Client> c(std::move(n.client));
  asio::post(io_, [c] {});
}

void ClusterClient::schedule_periodic(milliseconds after) {
  if (options_.single_node || closed_) return;
  periodic_timer_.expires_after(after);
  periodic_timer_.async_wait([this, w = std::weak_ptr<char>(alive_)](const asio::error_code& ec) {
    if (ec || w.expired()) return;
    request_refresh();
  });
}

void ClusterClient::update_ready() {
  bool r = !closed_ && !map_.empty();
  if (r && !options_.single_node) r = map_.complete() && cluster_ok_;
  if (r) {
    for (const auto& p : map_.primaries()) {
      auto it = nodes_.find(p.str());
      if (it == nodes_.end() || !it->second.client->connected()) {
        r = false;
        break;
      }
    }
  }
  if (r == ready_) return;
  ready_ = r;
  CR_LOG(info) << "redis cluster: " << (r ? "ready" : "not ready: " + unready_reason());
  asio::post(io_, [w = std::weak_ptr<char>(alive_), this, r] {
    if (!w.expired() && on_state_) on_state_(r);
  });
}

std::string ClusterClient::unready_reason() const {
  if (closed_) return "closed";
  if (map_.empty()) return "no slot map yet";
  if (!options_.single_node) {
    if (!map_.complete()) {
      return std::to_string(map_.unassigned_slots()) + " slots unassigned";
    }
    if (!cluster_ok_) return "cluster state is not ok";
  }
  for (const auto& p : map_.primaries()) {
    auto it = nodes_.find(p.str());
    if (it == nodes_.end() || !it->second.client->connected()) {
      return "primary " + p.str() + " not connected";
    }
  }
  return "";
}

NodeAddress ClusterClient::next_pubsub_node() {
  std::vector<NodeAddress> known = options_.seeds;
  for (const auto& s : map_.shards()) {
    known.push_back(s.primary);
    known.insert(known.end(), s.replicas.begin(), s.replicas.end());
  }
  std::sort(known.begin(), known.end());
  known.erase(std::unique(known.begin(), known.end()), known.end());
  if (known.empty()) return NodeAddress{options_.node.host, options_.node.port};
  return known[next_pubsub_++ % known.size()];
}

std::vector<ClusterNodeStatus> ClusterClient::nodes() const {
  auto primaries = map_.primaries();
  std::vector<ClusterNodeStatus> out;
  for (const auto& [key, n] : nodes_) {
    ClusterNodeStatus s;
    s.address = n.address;
    s.primary = std::find(primaries.begin(), primaries.end(), n.address) != primaries.end();
    s.connected = n.client->connected();
    s.counters = n.counters;
    s.connection = n.client->metrics();
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace clickrace::redis
