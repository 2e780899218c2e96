#pragma once
#include <optional>

#include "clickrace/core/result.hpp"
#include "clickrace/redis/cluster_slots.hpp"
#include "clickrace/redis/reply.hpp"

// What the cluster client does with one attempt's outcome: pure, so every case is unit-tested.
namespace clickrace::redis::cluster {

// `-MOVED <slot> <host>:<port>` or `-ASK <slot> <host>:<port>`.
struct Redirect {
  bool ask = false;  // ASK: this command only, after ASKING; MOVED: the slot has a new owner
  int slot = 0;
  NodeAddress to;
};

// Parses a MOVED/ASK error reply received from `from`. Redis 7 sends an empty host for an
// unknown endpoint (`-MOVED 3999 :6380`): `from`'s host is used then. nullopt for anything else
// (including a malformed redirection).
std::optional<Redirect> parse_redirect(const Reply& reply, const NodeAddress& from);

enum class Next {
  deliver,  // hand the outcome to the caller
  moved,    // follow `redirect` (and update the slot map)
  ask,      // send ASKING + the command to `redirect.to`, once
  retry,    // try again after a pause (within the caller's deadline)
};

struct Decision {
  Next next = Next::deliver;
  bool refresh = false;  // the slot map is probably stale: fetch it again
  std::optional<Redirect> redirect;
};

// The decision for one attempt's outcome.
// - MOVED / ASK: follow (MOVED also asks for a refresh: a moved slot rarely moves alone).
// - TRYAGAIN (a multi-key command during a migration), LOADING: retry.
// - CLUSTERDOWN, READONLY / MASTERDOWN (we reached a node that is no longer a primary): retry
//   after a refresh. None of these replies means the command ran.
// - Transport: "not connected" (nothing was sent): retry after a refresh. "connection lost" and
//   "timeout" (the command may have run): retried only when the caller says the command is
//   idempotent, else delivered; either way the map is refreshed (the node may be gone).
// - Everything else (replies, other errors, closed, overloaded): deliver.
Decision decide(const Result<Reply>& outcome, const NodeAddress& from, bool idempotent);

}  // namespace clickrace::redis::cluster
