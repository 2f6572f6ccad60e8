// Inference with a pruned layer: y = W x for a batch of token vectors, W stored as CSR
// (Eigen's SparseMatrix, row-major) against W dense with the BLAS's sgemm (OpenBLAS on
// Debian), side by side in one process.
//
//   sparse_bench --checkpoint CKPT [--repeat N]
//
// Two layers: the checkpoint's largest prunable matrix with its own mask (the sparsity global
// pruning left it), and a paper-scale SwiGLU matrix (4096 x 1024, the 468M model's w_up) with
// a random mask at the checkpoint's overall sparsity. Batches of 1, 16, 128 and 1024 tokens;
// each variant runs round-robin `repeat` times and the median is printed, with the speed-up
// of the sparse product over sgemm (above 1: sparse is faster). Results: BENCHMARKS.md,
// "Sparse inference".
#include <Eigen/Dense>
#include <Eigen/Sparse>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "io/checkpoint_file.h"

extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n,
                       const int* k, const float* alpha, const float* a, const int* lda,
                       const float* b, const int* ldb, const float* beta, float* c, const int* ldc);

namespace journey {
namespace {

using Clock = std::chrono::steady_clock;
using SparseRows = Eigen::SparseMatrix<float, Eigen::RowMajor>;
using Dense = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

struct Layer {
  std::string name;
  int rows = 0, cols = 0;
  std::vector<float> weights;  // Row-major [rows, cols], pruned entries zero.
  double sparsity = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The checkpoint's largest prunable matrix, masked.
Layer largest_matrix(const CheckpointReader& reader, double* overall_sparsity) {
  Layer best;
  int64_t kept = 0, total = 0;
  for (const std::string& name : reader.list(checkpoint::kMasks)) {
    const TensorInfo info = reader.info(std::string(checkpoint::kMasks) + "/" + name);
    std::vector<uint8_t> mask(static_cast<size_t>(info.elements()));
    reader.read_tensor(std::string(checkpoint::kMasks) + "/" + name, mask.data());
    int64_t alive = 0;
    for (uint8_t m : mask) alive += m;
    kept += alive;
    total += info.elements();
    if (info.elements() <= static_cast<int64_t>(best.weights.size())) continue;
    best.name = name;
    best.rows = static_cast<int>(info.shape[0]);
    best.cols = static_cast<int>(info.shape[1]);
    best.weights.resize(mask.size());
    reader.read_tensor(std::string(checkpoint::kParams) + "/" + name, best.weights.data());
    for (size_t i = 0; i < mask.size(); ++i) {
      if (!mask[i]) best.weights[i] = 0.0f;
    }
    best.sparsity = 1.0 - static_cast<double>(alive) / info.elements();
  }
  *overall_sparsity = total > 0 ? 1.0 - static_cast<double>(kept) / total : 0.0;
  return best;
}

Layer random_layer(int rows, int cols, double sparsity, uint64_t seed) {
  Layer l{"synthetic " + std::to_string(rows) + "x" + std::to_string(cols), rows, cols, {}, 0};
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  l.weights.resize(static_cast<size_t>(rows) * cols);
  int64_t alive = 0;
  for (float& w : l.weights) {
    w = uniform(rng) < sparsity ? 0.0f : normal(rng);
    alive += w != 0.0f;
  }
  l.sparsity = 1.0 - static_cast<double>(alive) / l.weights.size();
  return l;
}

double seconds_of(const std::function<void()>& f) {
  const Clock::time_point start = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void bench_layer(const Layer& layer, int repeat) {
  // Eigen's CSR from the row-major weights; x and y column-major [cols, batch], [rows, batch].
  Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> dense(
      layer.weights.data(), layer.rows, layer.cols);
  const SparseRows sparse = dense.sparseView();
  std::printf("\n%s: %d x %d, sparsity %.3f (%lld nonzeros)\n", layer.name.c_str(), layer.rows,
              layer.cols, layer.sparsity, static_cast<long long>(sparse.nonZeros()));
  std::printf("%8s %14s %14s %10s\n", "batch", "sgemm ms", "CSR ms", "speed-up");
  for (int batch : {1, 16, 128, 1024}) {
    Dense x = Dense::Random(layer.cols, batch);
    Dense y_dense(layer.rows, batch), y_sparse(layer.rows, batch);
    // Row-major W is column-major W^T: y = W x is sgemm("T", "N") on it.
    const int m = layer.rows, n = batch, k = layer.cols;
    const float one = 1.0f, zero = 0.0f;
    auto run_dense = [&] {
      sgemm_("T", "N", &m, &n, &k, &one, layer.weights.data(), &k, x.data(), &k, &zero,
             y_dense.data(), &m);
    };
    auto run_sparse = [&] { y_sparse.noalias() = sparse * x; };
    run_dense();
    run_sparse();
    const float error = (y_dense - y_sparse).cwiseAbs().maxCoeff();
    std::vector<double> dense_s, sparse_s;
    const int inner = std::max(1, 4096 / batch);  // Enough work per timing at small batches.
    for (int r = 0; r < repeat; ++r) {
      dense_s.push_back(seconds_of([&] {
                          for (int i = 0; i < inner; ++i) run_dense();
                        }) /
                        inner);
      sparse_s.push_back(seconds_of([&] {
                           for (int i = 0; i < inner; ++i) run_sparse();
                         }) /
                         inner);
    }
    const double d = median(dense_s), s = median(sparse_s);
    std::printf("%8d %14.4f %14.4f %9.2fx%s\n", batch, 1e3 * d, 1e3 * s, d / s,
                error > 1e-3f ? "  (results differ!)" : "");
  }
}

}  // namespace
}  // namespace journey

int main(int argc, char** argv) {
  std::string checkpoint;
  int repeat = 9;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--checkpoint") checkpoint = argv[i + 1];
    if (flag == "--repeat") repeat = std::max(1, std::atoi(argv[i + 1]));
  }
  if (checkpoint.empty()) {
    std::fprintf(stderr, "usage: sparse_bench --checkpoint CKPT [--repeat N]\n");
    return 2;
  }
  const journey::CheckpointReader reader = journey::CheckpointReader::open(checkpoint);
  double overall = 0;
  const journey::Layer mine = journey::largest_matrix(reader, &overall);
  std::printf("checkpoint %s: overall sparsity of the prunable weights %.3f\n", checkpoint.c_str(),
              overall);
  journey::bench_layer(mine, repeat);
  journey::bench_layer(journey::random_layer(4096, 1024, overall, 7), repeat);
  return 0;
}
