#include "worker/device.h"

#include <ATen/detail/CUDAHooksInterface.h>

#include <string>

#include "common/collective_deadline.h"
#include "common/error.h"
#include "common/log.h"
#include "mpi/mpi_collectives.h"
#ifdef JOURNEY_HAVE_NCCL
#include "mpi/nccl_collectives.h"
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

std::unique_ptr<Collectives> make_device_collectives(const Communicator& comm, at::Device device,
                                                     double timeout_seconds) {
  if (device.is_cpu()) return with_deadline(make_mpi_collectives(comm), timeout_seconds);
#ifdef JOURNEY_HAVE_NCCL
  return with_deadline(make_nccl_collectives(comm, device.index()), timeout_seconds);
#else
  throw UsageError(
      "config key train.device = cuda is invalid: this build has no NCCL backend (the CUDA "
      "toolkit with NCCL was not found when it was configured; JOURNEY_NCCL)");
#endif
}

}  // namespace journey
