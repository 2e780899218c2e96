#include "options.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace clickrace::bench {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, sep);) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool to_double(const std::string& s, double& out) {
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end && *end == '\0' && !s.empty() && out >= 0;
}

bool to_int(const std::string& s, int& out) {
  double d = 0;
  if (!to_double(s, d) || d > 1e9) return false;
  out = static_cast<int>(d);
  return true;
}

}  // namespace

void print_usage() {
  std::cerr <<
      R"(usage: clickrace-loadgen <scenario> [options]
scenarios:
  clicks       every connection keeps --inflight Click invocations in flight for --duration s
               (closed loop, pipelined: what saturates the server, not what real clients do)
  openloop     real clients: --click-rate clicks/s offered over all connections, ONE Click
               record per frame, sent on schedule whether or not answers came back
  connections  ramp to --connections idle authenticated connections; connects/s, memory each
  fanout       --connections over the --gateways; RoundEnded latency from the round deadline
  report       combine result files: report --machine TEXT [--quick] --json OUT IN.json...
options:
  --gateways URL[,URL]   gateway base URLs, e.g. http://127.0.0.1:8080 (alias --url)
  --connections N        (100)          --inflight K   (8)       --duration S   (10)
  --warmup S             (1)            --threads T    (1)       --rate R/s     (0 = unpaced)
  --max-connecting N     (256)          --accounts A   (auto)    --account-prefix P (bench)
  --password P           --skip-negotiation             --connect-timeout-ms MS (15000)
  --gateway-pids P[,P]   --redis-pid P[,P]  --redis HOST:PORT[,HOST:PORT]
  --redis-replica-pids P[,P]            a cluster: primaries in --redis-pid (and --redis, same
                                        order), replicas here (their CPU is reported apart)
  --rounds N (3)         --hold S (2)   --timeout S (120)        --label NAME
  --json PATH            --machine TEXT
  --protocol json|messagepack (json)    clicks/openloop: the hub protocol (binary frames for
                                        messagepack; the handshake is JSON either way)
openloop: --click-rate R (10000)  --arrivals burst|spread  --tick-ms MS (20, burst)
          --ack-order id|fifo (id)  --no-login  --drain S (3)  --idle S (2)  --server-kind NAME
)";
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  if (argc < 2) {
    print_usage();
    return std::nullopt;
  }
  o.scenario = argv[1];
  if (o.scenario != "clicks" && o.scenario != "connections" && o.scenario != "fanout" &&
      o.scenario != "openloop" && o.scenario != "report") {
    std::cerr << "unknown scenario '" << o.scenario << "'\n";
    print_usage();
    return std::nullopt;
  }
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    bool ok = true;
    if (a == "--skip-negotiation") {
      o.negotiate = false;
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--no-login") {
      o.login = false;
    } else if (a.rfind("--", 0) != 0) {
      o.inputs.push_back(a);
    } else if (!value(v)) {
      ok = false;
    } else if (a == "--gateways" || a == "--url") {
      for (auto& u : split(v, ',')) {
        Endpoint ep;
        if (!parse_http_url(u, ep)) ok = false;
        o.gateways.push_back(ep);
      }
    } else if (a == "--connections") {
      ok = to_int(v, o.connections) && o.connections > 0;
    } else if (a == "--inflight") {
      ok = to_int(v, o.inflight) && o.inflight > 0 && o.inflight <= 4096;
    } else if (a == "--duration") {
      ok = to_double(v, o.duration_s);
    } else if (a == "--warmup") {
      ok = to_double(v, o.warmup_s);
    } else if (a == "--threads") {
      ok = to_int(v, o.threads) && o.threads > 0 && o.threads <= 256;
    } else if (a == "--rate") {
      ok = to_double(v, o.rate);
    } else if (a == "--max-connecting") {
      ok = to_int(v, o.max_connecting) && o.max_connecting > 0;
    } else if (a == "--accounts") {
      ok = to_int(v, o.accounts);
    } else if (a == "--account-prefix") {
      o.account_prefix = v;
      ok = !v.empty() && v.size() <= 12;
    } else if (a == "--password") {
      o.password = v;
    } else if (a == "--connect-timeout-ms") {
      ok = to_int(v, o.connect_timeout_ms) && o.connect_timeout_ms > 0;
    } else if (a == "--keepalive-ms") {
      ok = to_int(v, o.keepalive_ms) && o.keepalive_ms > 0;
    } else if (a == "--gateway-pids") {
      for (auto& p : split(v, ','))
        o.gateway_pids.push_back(static_cast<pid_t>(std::atol(p.c_str())));
    } else if (a == "--redis-pid" || a == "--redis-replica-pids") {
      auto& pids = a == "--redis-pid" ? o.redis_pids : o.redis_replica_pids;
      for (auto& p : split(v, ',')) {
        const long pid = std::atol(p.c_str());
        ok = ok && pid > 0;
        pids.push_back(static_cast<pid_t>(pid));
      }
    } else if (a == "--redis") {
      for (auto& hp : split(v, ',')) {
        Endpoint ep;
        ok = ok && parse_http_url("http://" + hp, ep);
        o.redis.push_back(ep);
      }
    } else if (a == "--rounds") {
      ok = to_int(v, o.rounds) && o.rounds > 0;
    } else if (a == "--hold") {
      ok = to_double(v, o.hold_s);
    } else if (a == "--timeout") {
      ok = to_double(v, o.timeout_s) && o.timeout_s > 0;
    } else if (a == "--click-rate") {
      ok = to_double(v, o.click_rate) && o.click_rate > 0;
    } else if (a == "--arrivals") {
      o.arrivals = v;
      ok = v == "burst" || v == "spread";
    } else if (a == "--tick-ms") {
      ok = to_double(v, o.tick_ms) && o.tick_ms >= 1;
    } else if (a == "--ack-order") {
      o.ack_fifo = v == "fifo";
      ok = v == "fifo" || v == "id";
    } else if (a == "--idle") {
      ok = to_double(v, o.idle_s);
    } else if (a == "--drain") {
      ok = to_double(v, o.drain_s);
    } else if (a == "--server-kind") {
      o.server_kind = v;
    } else if (a == "--protocol") {
      o.protocol = v;
      ok = v == "json" || v == "messagepack";
    } else if (a == "--label") {
      o.label = v;
    } else if (a == "--json") {
      o.json_path = v;
    } else if (a == "--machine") {
      o.machine = v;
    } else {
      std::cerr << "unknown option " << a << "\n";
      ok = false;
    }
    if (!ok) {
      std::cerr << "bad value for " << a << "\n";
      print_usage();
      return std::nullopt;
    }
  }
  if (o.scenario != "report" && o.gateways.empty()) {
    std::cerr << "--gateways is required\n";
    return std::nullopt;
  }
  if (o.label.empty()) o.label = o.scenario;
  return o;
}

}  // namespace clickrace::bench
