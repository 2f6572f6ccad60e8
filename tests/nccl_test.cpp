// The NCCL backend (comm/nccl_collectives.h), built where the CUDA toolkit with NCCL is. On a
// machine without a GPU it must refuse with a clear error; with one (scripts/gpu-check.sh),
// every collective on one rank, on device and host buffers, must give the MPI backend's
// results. One process under MPI (1 rank: a single GPU is enough).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "comm/mpi_collectives.h"
#include "comm/mpi_session.h"
#include "comm/nccl_collectives.h"

namespace journey {
namespace {

bool have_gpu() {
  int n = 0;
  const bool ok = cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
  cudaGetLastError();
  return ok;
}

TEST(Nccl, WithoutAGpuTheBackendRefusesClearly) {
  if (have_gpu()) GTEST_SKIP() << "this machine has a GPU";
  const Communicator world = Communicator::world();
  try {
    make_nccl_collectives(world, 0);
    FAIL() << "an NCCL backend was made without a GPU";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("needs a CUDA GPU"), std::string::npos) << e.what();
  }
}

TEST(Nccl, OneRankCollectivesMatchTheMpiBackend) {
  if (!have_gpu()) GTEST_SKIP() << "no GPU on this machine";
  const Communicator world = Communicator::world();
  std::unique_ptr<Collectives> nccl = make_nccl_collectives(world, 0);
  ASSERT_EQ(nccl->size(), 1);
  const std::vector<float> host = {1.5f, -2.0f, 3.25f, 4.0f};
  float* device = nullptr;
  ASSERT_EQ(cudaMalloc(&device, host.size() * sizeof(float)), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(device, host.data(), host.size() * sizeof(float), cudaMemcpyHostToDevice),
            cudaSuccess);
  nccl->all_reduce_sum(device, host.size(), ElementType::kFloat32);  // Device memory.
  std::vector<float> back(host.size());
  ASSERT_EQ(cudaMemcpy(back.data(), device, back.size() * sizeof(float), cudaMemcpyDeviceToHost),
            cudaSuccess);
  EXPECT_EQ(back, host);
  double scalar = 2.5;  // Host memory goes through the scratch buffer.
  nccl->all_reduce_max(&scalar, 1, ElementType::kFloat64);
  EXPECT_EQ(scalar, 2.5);
  std::vector<float> gathered(host.size());
  nccl->all_gather(host.data(), gathered.data(), host.size(), ElementType::kFloat32);
  EXPECT_EQ(gathered, host);
  nccl->gather(host.data(), gathered.data(), host.size(), ElementType::kFloat32, 0);
  EXPECT_EQ(gathered, host);
  std::vector<float> scattered(host.size());
  nccl->reduce_scatter_sum(host.data(), scattered.data(), host.size(), ElementType::kFloat32);
  EXPECT_EQ(scattered, host);
  EXPECT_EQ(nccl->stats().calls, 5);
  cudaFree(device);
}

// Started collectives on device memory run on the communication stream; the compute stream
// (the legacy default stream) waits for them at wait(), and a kernel queued on it afterwards
// (here a copy back to the host) sees the result. Bytes move as they are (kByte).
TEST(Nccl, StartedCollectivesOnDeviceMemoryAreSeenAfterWait) {
  if (!have_gpu()) GTEST_SKIP() << "no GPU on this machine";
  const Communicator world = Communicator::world();
  std::unique_ptr<Collectives> nccl = make_nccl_collectives(world, 0);
  const std::vector<float> host = {0.5f, -1.0f, 7.0f, 2.0f, -3.5f, 1e-3f};
  const size_t bytes = host.size() * sizeof(float);
  float *send = nullptr, *recv = nullptr;
  ASSERT_EQ(cudaMalloc(&send, bytes), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&recv, bytes), cudaSuccess);
  // The input is written on the compute stream behind a long queue of work, just before the
  // start: the collective must wait for it rather than read the old contents (zeros).
  ASSERT_EQ(cudaMemset(send, 0, bytes), cudaSuccess);
  const size_t busy_bytes = size_t{1} << 28;
  void* busy = nullptr;
  ASSERT_EQ(cudaMalloc(&busy, busy_bytes), cudaSuccess);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(cudaMemsetAsync(busy, i, busy_bytes, 0), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(send, host.data(), bytes, cudaMemcpyHostToDevice, 0), cudaSuccess);
  std::vector<float> back(host.size());
  std::unique_ptr<PendingCollective> gather =
      nccl->start_all_gather(send, recv, bytes, ElementType::kByte);
  gather->wait();
  ASSERT_EQ(cudaMemcpyAsync(back.data(), recv, bytes, cudaMemcpyDeviceToHost, 0), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(0), cudaSuccess);
  EXPECT_EQ(back, host);
  ASSERT_EQ(cudaMemset(recv, 0, bytes), cudaSuccess);
  std::unique_ptr<PendingCollective> reduce =
      nccl->start_reduce_scatter_sum(send, recv, host.size(), ElementType::kFloat32);
  reduce->wait();
  ASSERT_EQ(cudaMemcpyAsync(back.data(), recv, bytes, cudaMemcpyDeviceToHost, 0), cudaSuccess);
  ASSERT_EQ(cudaStreamSynchronize(0), cudaSuccess);
  EXPECT_EQ(back, host);
  EXPECT_THROW(nccl->start_reduce_scatter_sum(send, recv, bytes, ElementType::kByte),
               std::invalid_argument);
  nccl->synchronize();
  cudaFree(busy);
  cudaFree(send);
  cudaFree(recv);
}

}  // namespace
}  // namespace journey
