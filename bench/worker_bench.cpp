// Where a training step's time goes: the worker's step (forward and backward through the
// FSDP units, then masking, clipping and AdamW) on random tokens, one process, timed by part,
// in wall and CPU time. bench/worker_bench.sh measures `journey train` itself against the
// Python reference; this program is for profiling the C++ side.
//
//   worker_bench --size DxLxH [--seq-len 64] [--vocab 1024] [--batch-tokens 2048]
//                [--steps 20] [--threads 2] [--device cpu|cuda] [--precision fp32|bf16]
//                [--kernels cpu|generic] [--micro-batch-tokens N] [--activation-checkpointing]
//                [--trace FILE]
// MFU is against the measured matmul peak of the device in the precision's dtype
// (worker/matmul_peak.h); scripts/gpu-check.sh runs the paper's 58M model on a GPU.
// --kernels generic runs the device-agnostic ATen kernels on the CPU instead of the CPU fast
// paths (worker/kernels.h), to measure what the fast paths are worth (BENCHMARKS.md).
// --trace writes LibTorch's profile of the timed steps (Chrome trace JSON: every ATen op).
#include <ATen/DeviceAccelerator.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "comm/mpi_collectives.h"
#include "comm/mpi_session.h"
#include "common/config.h"
#include "schedules/run_plan.h"
#include "worker/adamw.h"
#include "worker/device.h"
#include "worker/kernels.h"
#include "worker/matmul_peak.h"
#include "worker/sharded_model.h"

namespace {

struct Clocks {
  double wall = 0, cpu = 0;
  static Clocks now() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return {
        std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(),
        ts.tv_sec + 1e-9 * ts.tv_nsec};
  }
  Clocks operator-(const Clocks& o) const { return {wall - o.wall, cpu - o.cpu}; }
  Clocks& operator+=(const Clocks& o) {
    wall += o.wall;
    cpu += o.cpu;
    return *this;
  }
};

std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == "--" + name) return argv[i + 1];
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace journey;
  MpiSession mpi(&argc, &argv);
  const std::string size = arg(argc, argv, "size", "");
  ModelConfig m;
  if (std::sscanf(size.c_str(), "%ldx%ldx%ld", &m.d_model, &m.n_layers, &m.n_heads) != 3) {
    std::fprintf(stderr,
                 "usage: worker_bench --size DxLxH [--seq-len S] [--vocab V] "
                 "[--batch-tokens B] [--steps T] [--threads K] [--device cpu|cuda] "
                 "[--precision fp32|bf16] [--kernels cpu|generic] [--micro-batch-tokens N] "
                 "[--activation-checkpointing] [--trace FILE]\n");
    return 2;
  }
  m.seq_len = std::stol(arg(argc, argv, "seq-len", "64"));
  const int64_t vocab = std::stol(arg(argc, argv, "vocab", "1024"));
  const int64_t batch_tokens = std::stol(arg(argc, argv, "batch-tokens", "2048"));
  const int steps = std::stoi(arg(argc, argv, "steps", "20"));
  at::set_num_threads(std::stoi(arg(argc, argv, "threads", "2")));
  const std::string trace = arg(argc, argv, "trace", "");
  const std::string kernels = arg(argc, argv, "kernels", "cpu");
  const std::string device_name = arg(argc, argv, "device", "cpu");
  const std::string precision_flag = arg(argc, argv, "precision", "fp32");
  const int64_t micro_tokens = std::stol(arg(argc, argv, "micro-batch-tokens", "0"));
  bool recompute = false;
  for (int i = 1; i < argc; ++i) recompute |= std::string(argv[i]) == "--activation-checkpointing";
  if ((kernels != "cpu" && kernels != "generic") ||
      (device_name != "cpu" && device_name != "cuda") ||
      (precision_flag != "fp32" && precision_flag != "bf16") || micro_tokens < 0 ||
      micro_tokens % m.seq_len != 0) {
    std::fprintf(stderr,
                 "worker_bench: --kernels must be cpu or generic, --device cpu or cuda, "
                 "--precision fp32 or bf16, --micro-batch-tokens a multiple of --seq-len\n");
    return 2;
  }
  force_generic_kernels(kernels == "generic");

  const DeviceKind device_kind = device_name == "cuda" ? DeviceKind::kCuda : DeviceKind::kCpu;
  const Precision precision = precision_flag == "bf16" ? Precision::kBf16 : Precision::kFp32;
  Communicator world = Communicator::world();
  const at::Device device = choose_device(device_kind, world.rank_on_node());
  std::unique_ptr<Collectives> group =
      make_device_collectives(world, device, "auto", /*timeout_seconds=*/0);
  ShardedModel model(m, vocab, *group, device, precision);
  model.initialize(0);
  model.set_activation_checkpointing(recompute);
  TrainConfig train;
  AdamW optimizer(train);
  const int64_t rows = batch_tokens / m.seq_len;
  const int64_t micro_batches = micro_batch_count(rows, micro_tokens, m.seq_len);
  at::Generator gen = at::detail::createCPUGenerator(1);
  at::Tensor tokens = at::randint(vocab, {steps + 3, rows, m.seq_len + 1}, gen, at::kLong);

  // Both parts end by reading a scalar of their result (the loss, the gradient norm), so each
  // timer stops after the device has finished that part's work.
  auto run = [&](int step, Clocks* pass, Clocks* update) {
    at::Tensor batch = tokens[step];
    const Clocks t0 = Clocks::now();
    model.forward_backward(batch.narrow(1, 0, m.seq_len), batch.narrow(1, 1, m.seq_len), 1.0,
                           micro_batches);
    const Clocks t1 = Clocks::now();
    optimizer.step(model, 1e-3);
    *pass += t1 - t0;
    *update += Clocks::now() - t1;
  };
  Clocks pass, update;
  for (int step = 0; step < 3; ++step) run(step, &pass, &update);  // Warm-up.
  pass = update = Clocks{};
  if (!device.is_cpu()) at::accelerator::resetPeakStats(device.index());
  {
    std::unique_ptr<torch::autograd::profiler::RecordProfile> profile;
    if (!trace.empty()) profile = std::make_unique<torch::autograd::profiler::RecordProfile>(trace);
    for (int step = 3; step < steps + 3; ++step) run(step, &pass, &update);
  }
  const double flops = step_flops(m, model.spec().prunable_count(), batch_tokens);
  const double step_s = (pass.wall + update.wall) / steps;
  const double peak = matmul_peak_flops(
      device, precision == Precision::kBf16 ? c10::ScalarType::BFloat16 : c10::ScalarType::Float);
  // The device's peak of allocated memory over the timed steps (0 on the host).
  double peak_gib = 0;
  if (!device.is_cpu()) {
    const auto stats = at::accelerator::getDeviceStats(device.index());
    peak_gib =
        static_cast<double>(
            stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)]
                .peak) /
        (1 << 30);
  }
  std::printf(
      "%s seq %ld, %ld tokens/step (%ld micro-batches%s), %s %s, %s kernels, %d threads: "
      "step %.2f ms "
      "(forward+backward %.2f, optimizer %.2f; CPU %.2f ms), %.0f tokens/s, "
      "MFU %.1f%% of a measured %.1f TFLOP/s, peak memory %.2f GiB\n",
      size.c_str(), m.seq_len, batch_tokens, micro_batches, recompute ? ", recomputed" : "",
      device.str().c_str(), precision_name(precision), kernels.c_str(), at::get_num_threads(),
      1e3 * step_s, 1e3 * pass.wall / steps, 1e3 * update.wall / steps,
      1e3 * (pass.cpu + update.cpu) / steps, batch_tokens / step_s, 100 * flops / step_s / peak,
      peak / 1e12, peak_gib);
  return 0;
}
