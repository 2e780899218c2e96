#include "partition_sealer.hpp"

#include "clickrace/bus/lua_scripts.hpp"
#include "clickrace/core/log.hpp"
#include "replies.hpp"

namespace clickrace::scheduler {

struct PartitionSealer::Batch {
  uint64_t gen = 0;
  int64_t round = 0;
  int waiting = 0;
  SealOutcome out;
  Callback done;
};

PartitionSealer::PartitionSealer(Context& ctx) : ctx_(ctx), script_(bus::lua::seal) {}

void PartitionSealer::forget() {
  ++gen_;
  kept_.clear();
  round_ = 0;
  partitions_ = 0;
}

void PartitionSealer::seal(int64_t round, int partitions, Callback done) {
  if (round != round_ || partitions != partitions_) {
    forget();
    round_ = round;
    partitions_ = partitions;
    kept_.assign(static_cast<std::size_t>(partitions), std::nullopt);
  }
  auto b = std::make_shared<Batch>();
  b->gen = gen_;
  b->round = round;
  b->done = std::move(done);
  const auto& o = ctx_.opts;
  auto timeout = std::chrono::milliseconds(std::max<int64_t>(200, o.lease_ms / 3));
  std::vector<int> missing;
  for (int k = 0; k < partitions; ++k) {
    if (!kept_[static_cast<std::size_t>(k)]) missing.push_back(k);
  }
  b->waiting = static_cast<int>(missing.size());
  if (missing.empty()) return finish(b);
  for (int k : missing) {
    bus::PartitionKeys p = ctx_.keys.partition(k, partitions);
    ctx_.metrics.seal_calls.fetch_add(1);
    script_.call(
        ctx_.redis,
        {p.schedule(), p.sealed(), p.term(), p.scores(round), p.total(round), p.summary(round)},
        {std::to_string(ctx_.term), std::to_string(round), std::to_string(o.round_ttl_s),
         std::to_string(core::kMaxListedWinners)},
        [this, b, k](Result<redis::Reply> r) {
          if (b->gen != gen_) return;
          auto rank = [](SealOutcome::Kind kind) {
            switch (kind) {
              case SealOutcome::Kind::failed:
                return 4;
              case SealOutcome::Kind::not_leader:
                return 3;
              case SealOutcome::Kind::no_copy:
                return 2;
              case SealOutcome::Kind::early:
                return 1;
              case SealOutcome::Kind::sealed:
                break;
            }
            return 0;
          };
          auto worse = [&](SealOutcome::Kind kind) {
            if (rank(kind) > rank(b->out.kind)) b->out.kind = kind;
          };
          Result<SealReply> s = r ? parse_seal_reply(*r) : Result<SealReply>(r.error());
          if (!s) {
            worse(SealOutcome::Kind::failed);
            b->out.error = "partition " + std::to_string(k) + ": " + s.error().message;
          } else {
            switch (s->kind) {
              case SealReply::Kind::summary:
                if (s->sealed_now) ctx_.metrics.partitions_sealed.fetch_add(1);
                kept_[static_cast<std::size_t>(k)] = std::move(s->summary);
                break;
              case SealReply::Kind::early:
                ctx_.metrics.seal_early.fetch_add(1);
                worse(SealOutcome::Kind::early);
                b->out.ms_left = std::max(b->out.ms_left, s->ms_left);
                break;
              case SealReply::Kind::not_leader:
                worse(SealOutcome::Kind::not_leader);
                b->out.term = std::max(b->out.term, s->term);
                break;
              case SealReply::Kind::no_copy:
                worse(SealOutcome::Kind::no_copy);
                break;
            }
          }
          if (--b->waiting == 0) finish(b);
        },
        timeout);
  }
}

void PartitionSealer::finish(const std::shared_ptr<Batch>& b) {
  if (b->out.kind == SealOutcome::Kind::sealed) {
    for (auto& s : kept_) b->out.summaries.push_back(*s);
  }
  auto done = std::move(b->done);
  done(std::move(b->out));
}

}  // namespace clickrace::scheduler
