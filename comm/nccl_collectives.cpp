#include "comm/nccl_collectives.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace journey {
namespace {

void check_cuda(cudaError_t code, const char* what) {
  if (code != cudaSuccess) {
    throw std::runtime_error(std::string(what) + " failed: " + cudaGetErrorString(code));
  }
}

void check_nccl(ncclResult_t code, const char* what) {
  if (code != ncclSuccess) {
    throw std::runtime_error(std::string(what) + " failed: " + ncclGetErrorString(code));
  }
}

ncclDataType_t nccl_type(ElementType dtype) {
  switch (dtype) {
    case ElementType::kFloat32:
      return ncclFloat32;
    case ElementType::kFloat64:
      return ncclFloat64;
    case ElementType::kInt64:
      return ncclInt64;
    case ElementType::kByte:
      return ncclUint8;
  }
  return ncclFloat32;
}

bool on_device(const void* p) {
  if (p == nullptr) return true;
  cudaPointerAttributes attributes{};
  if (cudaPointerGetAttributes(&attributes, p) != cudaSuccess) {
    cudaGetLastError();  // Older runtimes report plain host memory as an error.
    return false;
  }
  return attributes.type == cudaMemoryTypeDevice || attributes.type == cudaMemoryTypeManaged;
}

// A collective started on the communication stream: `done` is recorded after it there, and
// wait() makes the compute stream wait for that event (the host does not block).
class NcclPending : public PendingCollective {
 public:
  NcclPending(cudaEvent_t done, cudaStream_t compute) : done_(done), compute_(compute) {}
  ~NcclPending() override {
    if (!waited_) cudaStreamWaitEvent(compute_, done_, 0);
    cudaEventDestroy(done_);
  }
  void wait() override {
    if (waited_) return;
    check_cuda(cudaStreamWaitEvent(compute_, done_, 0), "cudaStreamWaitEvent");
    waited_ = true;
  }

 private:
  cudaEvent_t done_;
  cudaStream_t compute_;
  bool waited_ = false;
};

class NcclCollectives : public Collectives {
 public:
  NcclCollectives(const Communicator& comm, int device)
      : mpi_comm_(comm.handle()), rank_(comm.rank()), size_(comm.size()) {
    check_cuda(cudaSetDevice(device), "cudaSetDevice");
    ncclUniqueId id{};
    if (rank_ == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
    check_mpi(MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, comm.handle()), "MPI_Bcast");
    check_nccl(ncclCommInitRank(&comm_, size_, id, rank_), "ncclCommInitRank");
    // Non-blocking: the legacy default stream does not wait for it implicitly (nor it for
    // that stream), so communication can run beside computation; run() and start() order
    // the two with events.
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    check_cuda(cudaEventCreateWithFlags(&inputs_ready_, cudaEventDisableTiming), "cudaEventCreate");
  }
  ~NcclCollectives() override {
    if (scratch_ != nullptr) cudaFree(scratch_);
    ncclCommDestroy(comm_);
    cudaEventDestroy(inputs_ready_);
    cudaStreamDestroy(stream_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  void all_gather(const void* send, void* recv, size_t count, ElementType dtype) override {
    const size_t bytes = count * element_size(dtype);
    run(send, bytes, recv, bytes * size_, [&](const void* s, void* r) {
      check_nccl(ncclAllGather(s, r, count, nccl_type(dtype), comm_, stream_), "ncclAllGather");
    });
  }

  void gather(const void* send, void* recv, size_t count, ElementType dtype, int root) override {
    // NCCL has no gather: the root receives every rank's part point to point.
    const size_t bytes = count * element_size(dtype);
    run(send, bytes, rank_ == root ? recv : nullptr, rank_ == root ? bytes * size_ : 0,
        [&](const void* s, void* r) {
          check_nccl(ncclGroupStart(), "ncclGroupStart");
          if (rank_ == root) {
            for (int peer = 0; peer < size_; ++peer) {
              char* slot = static_cast<char*>(r) + peer * bytes;
              if (peer == root) {
                check_cuda(cudaMemcpyAsync(slot, s, bytes, cudaMemcpyDeviceToDevice, stream_),
                           "cudaMemcpyAsync");
              } else {
                check_nccl(ncclRecv(slot, count, nccl_type(dtype), peer, comm_, stream_),
                           "ncclRecv");
              }
            }
          } else {
            check_nccl(ncclSend(s, count, nccl_type(dtype), root, comm_, stream_), "ncclSend");
          }
          check_nccl(ncclGroupEnd(), "ncclGroupEnd");
        });
  }

  void reduce_scatter_sum(const void* send, void* recv, size_t count, ElementType dtype) override {
    check_reducible(dtype);
    const size_t bytes = count * element_size(dtype);
    run(send, bytes * size_, recv, bytes, [&](const void* s, void* r) {
      check_nccl(ncclReduceScatter(s, r, count, nccl_type(dtype), ncclSum, comm_, stream_),
                 "ncclReduceScatter");
    });
  }

  // Device buffers only; host buffers take the blocking path (there is no stream-ordered way
  // to copy them back once the collective ends).
  std::unique_ptr<PendingCollective> start_all_gather(const void* send, void* recv, size_t count,
                                                      ElementType dtype) override {
    if (!on_device(send) || !on_device(recv)) {
      return Collectives::start_all_gather(send, recv, count, dtype);
    }
    const size_t bytes = count * element_size(dtype);
    return start(bytes + bytes * size_, [&] {
      check_nccl(ncclAllGather(send, recv, count, nccl_type(dtype), comm_, stream_),
                 "ncclAllGather");
    });
  }

  std::unique_ptr<PendingCollective> start_reduce_scatter_sum(const void* send, void* recv,
                                                              size_t count,
                                                              ElementType dtype) override {
    if (!on_device(send) || !on_device(recv)) {
      return Collectives::start_reduce_scatter_sum(send, recv, count, dtype);
    }
    check_reducible(dtype);
    const size_t bytes = count * element_size(dtype);
    return start(bytes * size_ + bytes, [&] {
      check_nccl(ncclReduceScatter(send, recv, count, nccl_type(dtype), ncclSum, comm_, stream_),
                 "ncclReduceScatter");
    });
  }

  void synchronize() override {
    const auto start = std::chrono::steady_clock::now();
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    stats_.seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  void all_reduce_sum(void* data, size_t count, ElementType dtype) override {
    all_reduce(data, count, dtype, ncclSum);
  }
  void all_reduce_max(void* data, size_t count, ElementType dtype) override {
    all_reduce(data, count, dtype, ncclMax);
  }

  Stats stats() const override { return stats_; }

  // ncclCommAbort ends this rank's pending NCCL kernels (so the GPU is released), then
  // MPI_Abort ends the job as for the MPI backend.
  [[noreturn]] void abort(int exit_code) noexcept override {
    ncclCommAbort(comm_);
    MPI_Abort(mpi_comm_, exit_code);
    std::_Exit(exit_code);
  }

 private:
  // The compute stream: the legacy default stream, where ATen's kernels run in a program that
  // chooses no other.
  static constexpr cudaStream_t kCompute = 0;

  static void check_reducible(ElementType dtype) {
    if (dtype == ElementType::kByte) {
      throw std::invalid_argument("collectives: raw bytes cannot be summed or compared");
    }
  }

  // The communication stream waits for the work queued so far on the compute stream (which
  // produced the inputs).
  void after_compute() {
    check_cuda(cudaEventRecord(inputs_ready_, kCompute), "cudaEventRecord");
    check_cuda(cudaStreamWaitEvent(stream_, inputs_ready_, 0), "cudaStreamWaitEvent");
  }

  // Queues `op` on the communication stream after the compute stream's work so far, and
  // returns without waiting for it.
  template <class Op>
  std::unique_ptr<PendingCollective> start(size_t bytes, Op op) {
    // The handle first: once the collective is queued, nothing may fail before it exists.
    cudaEvent_t done = nullptr;
    check_cuda(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), "cudaEventCreate");
    auto pending = std::make_unique<NcclPending>(done, kCompute);
    after_compute();
    op();
    check_cuda(cudaEventRecord(done, stream_), "cudaEventRecord");
    stats_.bytes += bytes;
    stats_.calls += 1;
    return pending;
  }

  void all_reduce(void* data, size_t count, ElementType dtype, ncclRedOp_t op) {
    check_reducible(dtype);
    const size_t bytes = count * element_size(dtype);
    run(data, bytes, data, bytes, [&](const void* s, void* r) {
      check_nccl(ncclAllReduce(s, r, count, nccl_type(dtype), op, comm_, stream_), "ncclAllReduce");
    });
  }

  // Runs `op` on device buffers on the communication stream, after the compute stream's work
  // so far: host buffers are copied into the scratch buffer (send at its start, recv after it)
  // and the result copied back. Waits for the communication stream, then counts.
  template <class Op>
  void run(const void* send, size_t send_bytes, void* recv, size_t recv_bytes, Op op) {
    const auto start = std::chrono::steady_clock::now();
    const bool in_place = send == recv;
    const bool stage = !on_device(send) || !on_device(recv);
    after_compute();
    if (!stage) {
      op(send, recv);
    } else {
      reserve(send_bytes + (in_place ? 0 : recv_bytes));
      char* s = static_cast<char*>(scratch_);
      char* r = in_place ? s : s + send_bytes;
      if (send_bytes > 0) {
        check_cuda(cudaMemcpyAsync(s, send, send_bytes, cudaMemcpyDefault, stream_),
                   "cudaMemcpyAsync");
      }
      op(s, r);
      if (recv != nullptr && recv_bytes > 0) {
        check_cuda(cudaMemcpyAsync(recv, r, recv_bytes, cudaMemcpyDefault, stream_),
                   "cudaMemcpyAsync");
      }
    }
    check_cuda(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
    stats_.bytes += send_bytes + recv_bytes;
    stats_.calls += 1;
    stats_.seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  void reserve(size_t bytes) {
    if (bytes <= scratch_bytes_) return;
    if (scratch_ != nullptr) check_cuda(cudaFree(scratch_), "cudaFree");
    scratch_ = nullptr;
    check_cuda(cudaMalloc(&scratch_, bytes), "cudaMalloc");
    scratch_bytes_ = bytes;
  }

  MPI_Comm mpi_comm_;
  int rank_, size_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;       // Every collective runs here, in the order called.
  cudaEvent_t inputs_ready_ = nullptr;  // Recorded on the compute stream before each call.
  void* scratch_ = nullptr;
  size_t scratch_bytes_ = 0;
  Stats stats_;
};

}  // namespace

std::unique_ptr<Collectives> make_nccl_collectives(const Communicator& comm, int cuda_device) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    cudaGetLastError();
    throw std::runtime_error("the NCCL backend needs a CUDA GPU, and this process sees none");
  }
  return std::make_unique<NcclCollectives>(comm, cuda_device);
}

}  // namespace journey
