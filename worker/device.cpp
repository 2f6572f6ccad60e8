#include "worker/device.h"

#include <ATen/detail/CUDAHooksInterface.h>

#include <string>
#include <vector>

#include "comm/mpi_collectives.h"
#include "common/collective_deadline.h"
#include "common/error.h"
#include "common/log.h"
#ifdef JOURNEY_HAVE_NCCL
#include "comm/nccl_collectives.h"
#endif

namespace journey {

at::Device choose_device(DeviceKind kind, int local_worker_index) {
  const bool cuda_build = at::globalContext().hasCUDA();
  const int gpus = cuda_build ? at::detail::getCUDAHooks().getNumGPUs() : 0;
  if (kind == DeviceKind::kCpu || (kind == DeviceKind::kAuto && gpus == 0)) return at::kCPU;
  if (!cuda_build) {
    reject_config_value("train.device", device_name(kind),
                        "this build uses a LibTorch without CUDA; build Journey against a CUDA "
                        "LibTorch (cmake -DTorch_DIR=..., scripts/gpu-check.sh) or use "
                        "train.device = cpu");
  }
  if (gpus == 0) {
    reject_config_value("train.device", device_name(kind),
                        "no GPU is visible to this process (check CUDA_VISIBLE_DEVICES and the "
                        "job's --gpus-per-node)");
  }
  if (local_worker_index >= gpus) {
    log::warn("worker rank " + std::to_string(local_worker_index) + " on this node shares GPU " +
              std::to_string(local_worker_index % gpus) + " with another rank: the node shows " +
              std::to_string(gpus) +
              " GPU(s) to this process; start one worker rank per GPU (sbatch "
              "--ntasks-per-node, --gpus-per-node) or check CUDA_VISIBLE_DEVICES");
  }
  return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(local_worker_index % gpus));
}

namespace {

// The backends of Collectives this program was built with, by name (train.collectives): the
// memory each moves and how to make one. A third backend (Gloo, UCC) is one file in comm/
// (comm/README.md) and one line here.
struct Backend {
  const char* name;
  bool gpu_memory;  // Moves device memory (else host memory).
  std::unique_ptr<Collectives> (*make)(const Communicator& comm, at::Device device);
};

const std::vector<Backend>& backends() {
  static const std::vector<Backend> table = {
      {"mpi", false,
       [](const Communicator& comm, at::Device) { return make_mpi_collectives(comm); }},
#ifdef JOURNEY_HAVE_NCCL
      {"nccl", true,
       [](const Communicator& comm, at::Device device) {
         return make_nccl_collectives(comm, device.index());
       }},
#endif
  };
  return table;
}

std::string backend_names() {
  std::string names;
  for (const Backend& b : backends()) names += (names.empty() ? "" : ", ") + std::string(b.name);
  return names;
}

}  // namespace

std::unique_ptr<Collectives> make_device_collectives(const Communicator& comm, at::Device device,
                                                     const std::string& backend,
                                                     double timeout_seconds) {
  const bool on_gpu = !device.is_cpu();
  const Backend* chosen = nullptr;
  for (const Backend& b : backends()) {
    if (backend == "auto" ? b.gpu_memory == on_gpu : backend == b.name) {
      chosen = &b;
      break;
    }
  }
  if (chosen == nullptr && backend == "auto") {
    reject_config_value("train.device", device_name(DeviceKind::kCuda),
                        "this build has no collectives backend for GPU memory (no NCCL: the "
                        "CUDA toolkit with NCCL was not found when it was configured; "
                        "JOURNEY_NCCL); built: " +
                            backend_names());
  }
  if (chosen == nullptr) {
    reject_config_value("train.collectives", backend,
                        "must be auto or a backend this build has: " + backend_names());
  }
  if (chosen->gpu_memory != on_gpu) {
    reject_config_value("train.collectives", backend,
                        std::string("it moves ") + (chosen->gpu_memory ? "GPU" : "host") +
                            " memory and this group trains on " + (on_gpu ? "a GPU" : "the CPU") +
                            "; use auto");
  }
  return with_deadline(chosen->make(comm, device), timeout_seconds);
}

}  // namespace journey
