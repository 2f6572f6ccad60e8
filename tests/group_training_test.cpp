// FSDP-style training over a worker group against a single-rank model trained on the whole
// batch in the same process: losses, masks and weights must agree for any group size.
// Run by ctest as one process and under mpiexec with 2, 3 and 4 ranks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "comm/mpi_collectives.h"
#include "comm/mpi_session.h"
#include "common/collective_deadline.h"
#include "common/error.h"
#include "schedules/density_schedule.h"
#include "worker/adamw.h"
#include "worker/autocast_scope.h"
#include "worker/kernels.h"
#include "worker/pruner.h"
#include "worker/run_checkpoint.h"
#include "worker/sharded_model.h"

namespace journey {
namespace {

ModelConfig tiny_model() {
  ModelConfig m;
  m.d_model = 32;  // Rows 32, 128 and 301 are not all divisible by 3 or 4: padding is tested.
  m.n_layers = 2;
  m.n_heads = 4;
  m.seq_len = 16;
  return m;
}
constexpr int64_t kVocab = 301;
constexpr int64_t kBatch = 6;  // Sequences per step: 4 ranks get 1, 2, 1, 2.

at::Tensor batch_tokens(int64_t step) {
  at::Generator gen = at::detail::createCPUGenerator(1234 + step);
  return at::randint(kVocab, {kBatch, tiny_model().seq_len + 1}, gen, at::kLong);
}

struct Part {
  int64_t first, count;
};
Part my_part(int rank, int ranks) {
  const int64_t first = rank * kBatch / ranks;
  return {first, (rank + 1) * kBatch / ranks - first};
}

class GroupFsdp : public ::testing::Test {
 protected:
  Communicator world_ = Communicator::world();
  Communicator self_ = world_.split(world_.rank(), 0);
  std::unique_ptr<Collectives> group_ = make_mpi_collectives(world_);
  std::unique_ptr<Collectives> solo_ = make_mpi_collectives(self_);
};

TEST_F(GroupFsdp, MatchesSingleRankLossesAndMasks) {
  TrainConfig train;
  train.lr = 1e-2;
  ShardedModel grouped(tiny_model(), kVocab, *group_), single(tiny_model(), kVocab, *solo_);
  grouped.initialize(7);
  single.initialize(7);
  Pruner grouped_pruner(grouped, false), single_pruner(single, false);
  AdamW grouped_opt(train), single_opt(train);
  const DensitySchedule schedule(ScheduleKind::kGeometric, 0.6, 4, 24, 4, 32);
  ASSERT_GE(schedule.events().size(), 3u);

  const Part part = my_part(group_->rank(), group_->size());
  for (int64_t step = 0; step < schedule.total_steps(); ++step) {
    if (const PruneEvent* event = schedule.event_at(step)) {
      EXPECT_EQ(grouped_pruner.prune(event->keep), single_pruner.prune(event->keep));
    }
    at::Tensor tokens = batch_tokens(step);
    at::Tensor inputs = tokens.narrow(1, 0, tiny_model().seq_len);
    at::Tensor targets = tokens.narrow(1, 1, tiny_model().seq_len);
    double local = grouped.forward_backward(inputs.narrow(0, part.first, part.count),
                                            targets.narrow(0, part.first, part.count),
                                            static_cast<double>(part.count) / kBatch);
    double grouped_loss = local * part.count / kBatch;
    group_->all_reduce_sum(&grouped_loss, 1, ElementType::kFloat64);
    const double single_loss = single.forward_backward(inputs, targets, 1.0);
    EXPECT_NEAR(grouped_loss, single_loss, 1e-5 * std::abs(single_loss)) << "step " << step;
    const double lr = train.lr;
    EXPECT_NEAR(grouped_opt.step(grouped, lr), single_opt.step(single, lr), 1e-4);
  }

  for (size_t u = 0; u < grouped.units().size(); ++u) {
    std::vector<at::Tensor> gm = grouped.units()[u]->gather_slots(grouped.units()[u]->mask());
    std::vector<at::Tensor> sm = single.units()[u]->gather_slots(single.units()[u]->mask());
    std::vector<at::Tensor> gw = grouped.units()[u]->gather_slots(grouped.units()[u]->weights());
    std::vector<at::Tensor> sw = single.units()[u]->gather_slots(single.units()[u]->weights());
    for (size_t s = 0; s < gm.size(); ++s) {
      EXPECT_TRUE(at::equal(gm[s], sm[s])) << "mask differs in unit " << u << " slot " << s;
      // Adam turns rounding-level differences of near-zero gradients into visible ones for
      // a few weights, so weights are compared in norm, not element by element.
      const double diff = (gw[s] - sw[s]).norm().item<double>();
      EXPECT_LE(diff, 1e-4 * sw[s].norm().item<double>()) << "unit " << u << " slot " << s;
    }
  }
  // The schedule's final sparsity was reached, identically.
  EXPECT_EQ(grouped_pruner.active_count(), kept_count(0.4, grouped.spec().prunable_count()));
}

// train.micro_batch_tokens and train.activation_checkpointing change memory, not results: the
// loss and every gradient of one step equal those of the whole batch at once, on every group
// size (micro-batches: up to float rounding; recomputation: the same operations again). Three
// micro-batches on a rank with one row also exercise the weight-0 filler parts.
TEST_F(GroupFsdp, MicroBatchesAndRecomputationGiveTheWholeBatchGradients) {
  const Part part = my_part(group_->rank(), group_->size());
  at::Tensor tokens = batch_tokens(0);
  at::Tensor inputs = tokens.narrow(1, 0, tiny_model().seq_len).narrow(0, part.first, part.count);
  at::Tensor targets = tokens.narrow(1, 1, tiny_model().seq_len).narrow(0, part.first, part.count);
  const double weight = static_cast<double>(part.count) / kBatch;
  auto step = [&](int64_t micro_batches, bool recompute, std::vector<at::Tensor>* grads) {
    ShardedModel model(tiny_model(), kVocab, *group_);
    model.initialize(11);
    model.set_activation_checkpointing(recompute);
    const double loss = model.forward_backward(inputs, targets, weight, micro_batches);
    for (auto& unit : model.units()) grads->push_back(unit->grads().clone());
    return loss;
  };
  std::vector<at::Tensor> whole, micro, recomputed;
  const double whole_loss = step(1, false, &whole);
  const double micro_loss = step(3, false, &micro);
  const double recomputed_loss = step(1, true, &recomputed);
  EXPECT_NEAR(micro_loss, whole_loss, 1e-6 * std::abs(whole_loss));
  EXPECT_NEAR(recomputed_loss, whole_loss, 1e-7 * std::abs(whole_loss));
  for (size_t u = 0; u < whole.size(); ++u) {
    const double norm = whole[u].norm().item<double>();
    ASSERT_GT(norm, 0.0) << "unit " << u;
    EXPECT_LE((micro[u] - whole[u]).norm().item<double>(), 1e-5 * norm) << "unit " << u;
    EXPECT_LE((recomputed[u] - whole[u]).norm().item<double>(), 1e-6 * norm) << "unit " << u;
  }
}

// Only the leader writes a checkpoint; when it cannot, every rank of the group must stop with
// an error rather than wait in the next gather for a leader that gave up (which hung groups
// of 2 or more ranks forever).
TEST_F(GroupFsdp, AFailedCheckpointWriteStopsEveryRank) {
  ShardedModel model(tiny_model(), kVocab, *group_);
  model.initialize(3);
  CheckpointMeta meta;
  meta.config_ini = "[model]\n";
  const std::string path = "/nonexistent-journey-dir/ckpt-00000001.h5";
  try {
    save_checkpoint(model, meta, MetricsHistory{}, path);
    ADD_FAILURE() << "writing " << path << " did not fail";
  } catch (const DataError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    if (group_->rank() == 0) {
      EXPECT_NE(what.find("cannot write checkpoint"), std::string::npos) << what;
    } else {
      EXPECT_NE(what.find("the group's leader could not write"), std::string::npos) << what;
    }
  }
  // The group is still in step: a collective after the failure completes on every rank.
  int64_t ranks = 1;
  group_->all_reduce_sum(&ranks, 1, ElementType::kInt64);
  EXPECT_EQ(ranks, group_->size());
}

// Every rank reads a checkpoint itself, so one rank can fail alone (a node that does not see
// the file): the group agrees, and every rank stops with an error rather than some waiting in
// the next collective. Here the last rank is given a path that does not exist.
TEST_F(GroupFsdp, ACheckpointOneRankCannotReadStopsEveryRank) {
  RunConfig config;
  config.model = tiny_model();
  config.data.vocab_size = kVocab;
  ShardedModel model(config.model, kVocab, *group_);
  model.initialize(5);
  CheckpointMeta meta;
  meta.config_ini = to_ini(config);
  meta.tokenizer_hash = "test-tokenizer";
  const std::string path =
      ::testing::TempDir() + "journey-group-read-" + std::to_string(group_->size()) + ".h5";
  save_checkpoint(model, meta, MetricsHistory{}, path);
  ShardedModel restored(config.model, kVocab, *group_);
  const bool last = group_->rank() == group_->size() - 1;
  const std::string mine = last ? path + ".missing" : path;
  try {
    load_checkpoint(restored, mine, config, "test-tokenizer", nullptr);
    ADD_FAILURE() << "rank " << group_->rank() << " went on although a rank could not read";
  } catch (const DataError& e) {
    const std::string what = e.what();
    if (last) {
      EXPECT_NE(what.find(mine), std::string::npos) << what;
    } else {
      EXPECT_NE(what.find("could not be read by 1 other rank(s) of the group"), std::string::npos)
          << what;
    }
  }
  int64_t ranks = 1;  // Still in step.
  group_->all_reduce_sum(&ranks, 1, ElementType::kInt64);
  EXPECT_EQ(ranks, group_->size());
  // With every rank able to read it, the same file loads.
  EXPECT_NO_THROW(load_checkpoint(restored, path, config, "test-tokenizer", nullptr));
}

TEST_F(GroupFsdp, EachRankHoldsAboutOneKthOfParametersAndState) {
  ShardedModel model(tiny_model(), kVocab, *group_);
  int64_t shard = 0, total = 0;
  for (auto& unit : model.units()) {
    shard += unit->shard_numel();
    for (const auto& slot : unit->slots()) total += slot.rows * slot.row_numel;
  }
  const int k = group_->size();
  // ceil(rows / k) rows per parameter: at most one padding row per parameter.
  EXPECT_GE(shard * k, total);
  EXPECT_LE(shard * k, total + static_cast<int64_t>(model.spec().params.size()) * 128 * k);
  EXPECT_EQ(model.units()[1]->weights().numel(), model.units()[1]->shard_numel());
  EXPECT_EQ(model.units()[1]->exp_avg().numel(), model.units()[1]->shard_numel());
}

// Without prefetch one unit's full parameters are alive at a time; with it (the default) the
// next unit's are gathered while one computes, so two are alive at once, and never more.
// Either way everything is freed after backward.
TEST_F(GroupFsdp, GatheredCopiesAreFreedAfterUseAndPrefetchHoldsTwoUnits) {
  if (group_->size() == 1) GTEST_SKIP() << "with one rank the full buffer is the shard";
  ShardedModel model(tiny_model(), kVocab, *group_);
  model.initialize(1);
  int64_t largest_unit = 0;
  for (auto& unit : model.units()) {
    largest_unit = std::max<int64_t>(largest_unit, unit->shard_numel() * group_->size() * 4);
  }
  at::Tensor tokens = batch_tokens(0);
  const Part part = my_part(group_->rank(), group_->size());
  for (const bool prefetch : {false, true}) {
    model.set_prefetch(prefetch);
    ShardedUnit::reset_peak_full_bytes();
    const int64_t before = ShardedUnit::live_full_bytes();
    model.forward_backward(tokens.narrow(1, 0, 16).narrow(0, part.first, part.count),
                           tokens.narrow(1, 1, 16).narrow(0, part.first, part.count), 1.0);
    EXPECT_EQ(ShardedUnit::live_full_bytes(), before);  // Everything released after backward.
    const int64_t peak = ShardedUnit::peak_full_bytes() - before;
    if (prefetch) {
      EXPECT_GT(peak, largest_unit) << "no unit was gathered while another computed";
      EXPECT_LE(peak, 2 * largest_unit);
    } else {
      EXPECT_LE(peak, largest_unit);  // One unit at a time.
      EXPECT_GT(peak, 0);
    }
  }
}

// Prefetch changes when the collectives run, not what they compute: training with and without
// it gives the same losses, pruning decisions and weights, in float32 and in bfloat16 with
// recomputed activations.
TEST_F(GroupFsdp, PrefetchTrainsAsWithout) {
  TrainConfig train;
  train.lr = 1e-2;
  const Part part = my_part(group_->rank(), group_->size());
  for (const bool bf16 : {false, true}) {
    const Precision precision = bf16 ? Precision::kBf16 : Precision::kFp32;
    ShardedModel on(tiny_model(), kVocab, *group_, at::kCPU, precision);
    ShardedModel off(tiny_model(), kVocab, *group_, at::kCPU, precision);
    off.set_prefetch(false);
    on.set_activation_checkpointing(bf16);
    off.set_activation_checkpointing(bf16);
    on.initialize(5);
    off.initialize(5);
    Pruner on_pruner(on, false), off_pruner(off, false);
    AdamW on_opt(train), off_opt(train);
    const DensitySchedule schedule(ScheduleKind::kGeometric, 0.6, 2, 8, 2, 10);
    for (int64_t t = 0; t < schedule.total_steps(); ++t) {
      if (const PruneEvent* event = schedule.event_at(t)) {
        EXPECT_EQ(on_pruner.prune(event->keep), off_pruner.prune(event->keep))
            << "bf16 " << bf16 << " step " << t;
      }
      at::Tensor tokens = batch_tokens(t);
      const at::Tensor inputs = tokens.narrow(1, 0, 16).narrow(0, part.first, part.count);
      const at::Tensor targets = tokens.narrow(1, 1, 16).narrow(0, part.first, part.count);
      const double weight = static_cast<double>(part.count) / kBatch;
      // Two micro-batches: the overlapped reduce-scatters also accumulate.
      const double a = on.forward_backward(inputs, targets, weight, 2);
      const double b = off.forward_backward(inputs, targets, weight, 2);
      EXPECT_NEAR(a, b, 1e-6 * std::abs(b)) << "bf16 " << bf16 << " step " << t;
      EXPECT_NEAR(on_opt.step(on, train.lr), off_opt.step(off, train.lr), 1e-6)
          << "bf16 " << bf16 << " step " << t;
    }
    for (size_t u = 0; u < on.units().size(); ++u) {
      EXPECT_TRUE(at::equal(on.units()[u]->mask(), off.units()[u]->mask()))
          << "bf16 " << bf16 << " unit " << u;
      const at::Tensor& w = off.units()[u]->weights();
      EXPECT_LE((on.units()[u]->weights() - w).norm().item<double>(),
                1e-5 * w.norm().item<double>())
          << "bf16 " << bf16 << " unit " << u;
    }
  }
}

// The nonblocking collectives give what the blocking ones give, in the group's order of calls
// (a blocking call may come between a start and its wait); raw bytes gather but do not reduce.
TEST_F(GroupFsdp, StartedCollectivesMatchTheBlockingOnes) {
  const int k = group_->size(), rank = group_->rank();
  std::vector<float> mine(5), all(5 * k), started_all(5 * k);
  for (int i = 0; i < 5; ++i) mine[i] = 10.0f * rank + i + 0.25f;
  group_->all_gather(mine.data(), all.data(), mine.size(), ElementType::kFloat32);
  std::vector<float> sums(3 * k), block(3), started_block(3);
  for (int i = 0; i < 3 * k; ++i) sums[i] = static_cast<float>(rank + 1) * (i + 1);
  group_->reduce_scatter_sum(sums.data(), block.data(), 3, ElementType::kFloat32);

  std::unique_ptr<PendingCollective> gather = group_->start_all_gather(
      mine.data(), started_all.data(), mine.size() * sizeof(float), ElementType::kByte);
  std::unique_ptr<PendingCollective> reduce =
      group_->start_reduce_scatter_sum(sums.data(), started_block.data(), 3, ElementType::kFloat32);
  double between = 1.0;  // A blocking call while both are in flight.
  group_->all_reduce_sum(&between, 1, ElementType::kFloat64);
  reduce->wait();
  gather->wait();
  EXPECT_EQ(between, static_cast<double>(k));
  EXPECT_EQ(started_all, all);
  EXPECT_EQ(started_block, block);
  for (int i = 0; i < 3; ++i) {
    // Block `rank`, element i, summed over ranks: (3 rank + i + 1) * (1 + 2 + ... + k).
    EXPECT_EQ(block[i], static_cast<float>((3 * rank + i + 1) * k * (k + 1) / 2));
  }
  EXPECT_THROW(group_->all_reduce_sum(mine.data(), 4, ElementType::kByte), std::invalid_argument);
  // Through the deadline wrapper the trainer uses, which watches the wait.
  std::unique_ptr<Collectives> watched = with_deadline(make_mpi_collectives(world_), 600);
  std::fill(started_all.begin(), started_all.end(), 0.0f);
  watched->start_all_gather(mine.data(), started_all.data(), mine.size(), ElementType::kFloat32)
      ->wait();
  EXPECT_EQ(started_all, all);
}

// train.precision = bf16 gathers the linear weights as bfloat16 copies: each rank casts its
// chunks before the all-gather, which then moves half their bytes, and the full parameters of
// a block are bfloat16 matrices (the cast of the float32 ones, exactly) beside float32 norm
// gains. Nothing is left alive after release. Both buffer-copy kernels: memcpy on the host and
// the device-agnostic byte copies a GPU runs.
TEST_F(GroupFsdp, Bfloat16GathersCastTheLinearWeightsBeforeMovingThem) {
  ShardedModel fp32(tiny_model(), kVocab, *group_, at::kCPU, Precision::kFp32);
  ShardedModel bf16(tiny_model(), kVocab, *group_, at::kCPU, Precision::kBf16);
  fp32.initialize(3);
  bf16.initialize(3);
  const int k = group_->size();
  for (size_t i = 0; i < 2 * fp32.units().size(); ++i) {
    const size_t u = i % fp32.units().size();
    force_generic_kernels(i >= fp32.units().size());
    ShardedUnit& a = *fp32.units()[u];
    ShardedUnit& b = *bf16.units()[u];
    int64_t float_numel = 0, low_numel = 0;
    for (const ShardedUnit::Slot& slot : b.slots()) {
      (slot.prunable ? low_numel : float_numel) += slot.chunk_numel();
      EXPECT_EQ(slot.low_precision, slot.prunable);
    }
    const int64_t before_live = ShardedUnit::live_full_bytes();
    const uint64_t before_bytes = group_->stats().bytes;
    b.gather();
    const uint64_t moved = group_->stats().bytes - before_bytes;
    const int64_t live = ShardedUnit::live_full_bytes() - before_live;
    a.gather();
    const std::vector<at::Tensor> pa = a.full_params(), pb = b.full_params();
    for (size_t s = 0; s < pa.size(); ++s) {
      if (b.slots()[s].prunable) {
        EXPECT_EQ(pb[s].scalar_type(), at::kBFloat16) << "unit " << u << " slot " << s;
        EXPECT_TRUE(at::equal(pb[s], pa[s].to(at::kBFloat16))) << "unit " << u << " slot " << s;
      } else {
        EXPECT_EQ(pb[s].scalar_type(), at::kFloat) << "unit " << u << " slot " << s;
        EXPECT_TRUE(at::equal(pb[s], pa[s])) << "unit " << u << " slot " << s;
      }
    }
    const int64_t padded = (4 * float_numel + 2 * low_numel + 3) / 4 * 4;
    if (k > 1) {
      EXPECT_EQ(moved, static_cast<uint64_t>(k * padded)) << "unit " << u;
      EXPECT_EQ(live, k * (4 * float_numel + 2 * low_numel)) << "unit " << u;
    } else {
      EXPECT_EQ(moved, 0u);  // One rank: only the bfloat16 copies are made.
      EXPECT_EQ(live, 2 * low_numel) << "unit " << u;
    }
    a.release();
    b.release();
    EXPECT_EQ(ShardedUnit::live_full_bytes(), before_live);
  }
  force_generic_kernels(false);
}

// The bfloat16 copies compute what autocast computed from float32 weights (the cast is the
// same, made once instead of at each use): evaluation losses are equal to the bit.
TEST_F(GroupFsdp, Bfloat16CopiesGiveAutocastsLoss) {
  ShardedModel fp32(tiny_model(), kVocab, *group_, at::kCPU, Precision::kFp32);
  ShardedModel bf16(tiny_model(), kVocab, *group_, at::kCPU, Precision::kBf16);
  fp32.initialize(9);
  bf16.initialize(9);
  const Part part = my_part(group_->rank(), group_->size());
  at::Tensor tokens = batch_tokens(3);
  const at::Tensor inputs = tokens.narrow(1, 0, 16).narrow(0, part.first, part.count);
  const at::Tensor targets = tokens.narrow(1, 1, 16).narrow(0, part.first, part.count);
  double autocast_loss = 0;
  {
    const AutocastScope autocast(true, at::kCPU);  // Per-use casts of the float32 weights.
    autocast_loss = fp32.loss_sum(inputs, targets);
  }
  const double plain_loss = fp32.loss_sum(inputs, targets);
  EXPECT_EQ(bf16.loss_sum(inputs, targets), autocast_loss);
  EXPECT_NE(autocast_loss, plain_loss) << "autocast did not change the computation";
}

// The device-agnostic kernels (what a GPU runs: ATen batched products, scatter for the loss
// gradient, bincount histograms and tensor copies for FSDP buffers) against the hand-written
// CPU ones, on this machine: the same masks, the same losses to rounding, on any group size.
TEST_F(GroupFsdp, GenericKernelsMatchTheCpuKernels) {
  TrainConfig train;
  train.lr = 1e-2;
  ShardedModel cpu(tiny_model(), kVocab, *group_), generic(tiny_model(), kVocab, *group_);
  cpu.initialize(11);
  generic.initialize(11);
  Pruner cpu_pruner(cpu, false), generic_pruner(generic, false);
  AdamW cpu_opt(train), generic_opt(train);
  const DensitySchedule schedule(ScheduleKind::kGeometric, 0.7, 2, 10, 2, 14);
  const Part part = my_part(group_->rank(), group_->size());
  auto step = [&](ShardedModel& model, Pruner& pruner, AdamW& opt, int64_t t, bool force) {
    force_generic_kernels(force);
    int64_t active = -1;
    if (const PruneEvent* event = schedule.event_at(t)) active = pruner.prune(event->keep);
    at::Tensor tokens = batch_tokens(t);
    const double local =
        model.forward_backward(tokens.narrow(1, 0, 16).narrow(0, part.first, part.count),
                               tokens.narrow(1, 1, 16).narrow(0, part.first, part.count),
                               static_cast<double>(part.count) / kBatch);
    opt.step(model, train.lr);
    force_generic_kernels(false);
    return std::make_pair(local, active);
  };
  for (int64_t t = 0; t < schedule.total_steps(); ++t) {
    const auto [cpu_loss, cpu_active] = step(cpu, cpu_pruner, cpu_opt, t, false);
    const auto [generic_loss, generic_active] = step(generic, generic_pruner, generic_opt, t, true);
    EXPECT_EQ(cpu_active, generic_active) << "step " << t;
    EXPECT_NEAR(cpu_loss, generic_loss, 1e-5 * std::abs(cpu_loss)) << "step " << t;
  }
  for (size_t u = 0; u < cpu.units().size(); ++u) {
    EXPECT_TRUE(at::equal(cpu.units()[u]->mask(), generic.units()[u]->mask())) << "unit " << u;
  }
}

// train.precision = bf16: the forward's matmuls in bfloat16 on the gathered bfloat16 copies
// (here CPU autocast), the loss, gradients handed to the optimizer, master weights and
// optimizer state in float32.
TEST_F(GroupFsdp, Bfloat16AutocastTrainsCloseToFloat32) {
  TrainConfig train;
  train.lr = 1e-2;
  ShardedModel fp32(tiny_model(), kVocab, *group_, at::kCPU, Precision::kFp32);
  ShardedModel bf16(tiny_model(), kVocab, *group_, at::kCPU, Precision::kBf16);
  fp32.initialize(13);
  bf16.initialize(13);
  AdamW fp32_opt(train), bf16_opt(train);
  const Part part = my_part(group_->rank(), group_->size());
  for (int64_t t = 0; t < 12; ++t) {
    at::Tensor tokens = batch_tokens(t);
    const at::Tensor inputs = tokens.narrow(1, 0, 16).narrow(0, part.first, part.count);
    const at::Tensor targets = tokens.narrow(1, 1, 16).narrow(0, part.first, part.count);
    const double weight = static_cast<double>(part.count) / kBatch;
    double losses[2] = {fp32.forward_backward(inputs, targets, weight) * weight,
                        bf16.forward_backward(inputs, targets, weight) * weight};
    group_->all_reduce_sum(losses, 2, ElementType::kFloat64);  // Over the global batch.
    if (t == 0) {
      EXPECT_NE(losses[0], losses[1]) << "the bf16 model computed in float32";
    }
    EXPECT_NEAR(losses[1], losses[0], 2e-2 * losses[0]) << "step " << t;
    fp32_opt.step(fp32, train.lr);
    bf16_opt.step(bf16, train.lr);
  }
  for (auto& unit : bf16.units()) {
    EXPECT_EQ(unit->weights().scalar_type(), at::kFloat);
    EXPECT_EQ(unit->grads().scalar_type(), at::kFloat);
    EXPECT_EQ(unit->exp_avg().scalar_type(), at::kFloat);
    EXPECT_TRUE(unit->weights().isfinite().all().item<bool>());
  }
}

}  // namespace
}  // namespace journey
