#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "clickrace/redis/client.hpp"

namespace clickrace::redis {

class ClusterClient;
struct CallOptions;

// A Lua script called by EVALSHA. The SHA1 is computed locally (libcrypto) at construction.
// When Redis answers NOSCRIPT (restart without persistence of the script cache, SCRIPT FLUSH,
// failover), call() transparently retries once with EVAL, which also loads the script.
// Script is a cheap, copyable value; it need not outlive the calls it started.
//
// Order: calls pipelined on one Client run in call order, except around that NOSCRIPT retry: the
// retried call goes to the back of the pipeline, so a later call whose EVALSHA found the script
// (loaded by another call's EVAL) may run first. Scripts whose calls must stay in order are
// preloaded (preload(), i.e. SCRIPT LOAD in every connect handshake); then NOSCRIPT only happens
// after a SCRIPT FLUSH at run time, and only the calls in flight at that moment may be reordered.
class Script {
 public:
  explicit Script(std::string source);

  const std::string& sha1() const { return sha1_; }  // 40 lowercase hex digits
  const std::string& source() const { return *source_; }
  // Makes `client` load this script on every (re)connect (Client::preload_script).
  void preload(Client& client) const { client.preload_script(*source_); }

  // EVALSHA sha1 numkeys keys... args...; the callback semantics are Client::command()'s, and a
  // Lua error is an error Reply. The timeout applies to each attempt (so at most twice it overall).
  // `asking`: each attempt (EVALSHA, and EVAL after NOSCRIPT) is sent right after ASKING, for a
  // Redis Cluster ASK redirection (ASKING covers only the next command).
  void call(Client& client, std::vector<std::string> keys, std::vector<std::string> args,
            Client::Callback cb, std::chrono::milliseconds timeout, bool asking = false) const;
  void call(Client& client, std::vector<std::string> keys, std::vector<std::string> args,
            Client::Callback cb) const {
    call(client, std::move(keys), std::move(args), std::move(cb), client.options().command_timeout);
  }
  // The same on a ClusterClient (ClusterClient::eval; defined in cluster_client.cpp): routed by
  // the keys' slot, MOVED/ASK/failover followed.
  void call(ClusterClient& client, std::vector<std::string> keys, std::vector<std::string> args,
            Client::Callback cb, std::chrono::milliseconds timeout) const;
  void call(ClusterClient& client, std::vector<std::string> keys, std::vector<std::string> args,
            Client::Callback cb) const;
  void call(ClusterClient& client, std::vector<std::string> keys, std::vector<std::string> args,
            Client::Callback cb, const CallOptions& options) const;
  // Makes every node connection of `client` load this script on connect.
  void preload(ClusterClient& client) const;

 private:
  std::shared_ptr<const std::string> source_;
  std::string sha1_;
};

// SHA1 of `data` as 40 lowercase hex digits (what Redis uses to name scripts).
std::string sha1_hex(const std::string& data);

}  // namespace clickrace::redis
