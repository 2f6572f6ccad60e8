// Checkpoint write/read throughput and size against a raw sequential write/read of the same
// bytes, for the tensor set of a ~10M-parameter model (params, masks, two Adam moments).
//
//   checkpoint_bench [--dir DIR] [--repeat N] [--sparsity S ...]
//
// For each storage option set (deflate levels, shuffle, 1-bit masks, chunk size) it writes the
// checkpoint the way a group leader does (each tensor as 4 row slabs), commits it (fsync +
// rename), drops the file from the page cache (posix_fadvise DONTNEED after fsync) and reads
// every tensor back cold, checking the values; the raw baseline writes the same bytes with
// write(2) + fsync and reads them back cold. Repeats go round-robin over all variants and the
// medians are printed. MB/s counts tensor bytes (1 MB = 1e6 bytes); "size" is file bytes /
// tensor bytes; "verify" is CheckpointReader::verify() on a cold file. A second table
// compares mask encodings alone: uint8 0/1, deflate, HDF5's N-bit filter, packing by hand.
// Results and the choices made from them: BENCHMARKS.md, docs/checkpoint-format.md.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "io/checkpoint_file.h"

namespace journey {
namespace {

namespace fs = std::filesystem;

struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  bool prunable = false;
  std::vector<float> param, exp_avg, exp_avg_sq;
  std::vector<uint8_t> mask;

  int64_t elements() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

// The LLaMA-style model of worker/ at d=256, 8 blocks, SwiGLU 1024, vocabulary 4096: 9.4M
// prunable weights, 10.5M parameters in all.
std::vector<Tensor> make_model(double sparsity, uint64_t seed) {
  const int64_t d = 256, layers = 8, f = 1024, vocab = 4096;
  std::vector<Tensor> model;
  auto add = [&](std::string name, std::vector<int64_t> shape, bool prunable) {
    model.push_back(Tensor{std::move(name), std::move(shape), prunable, {}, {}, {}, {}});
  };
  add("embed", {vocab, d}, false);
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    add(p + "attn_norm", {d}, false);
    for (const char* w : {"wq", "wk", "wv", "wo"}) add(p + "attn." + w, {d, d}, true);
    add(p + "mlp_norm", {d}, false);
    add(p + "mlp.w1", {f, d}, true);
    add(p + "mlp.w3", {f, d}, true);
    add(p + "mlp.w2", {d, f}, true);
  }
  add("final_norm", {d}, false);
  add("head", {vocab, d}, true);

  std::mt19937_64 random(seed);
  std::normal_distribution<float> weight(0.0f, 0.02f), moment(0.0f, 1e-3f), second(0.0f, 1e-6f);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  for (Tensor& t : model) {
    const size_t n = static_cast<size_t>(t.elements());
    t.param.resize(n);
    t.exp_avg.resize(n);
    t.exp_avg_sq.resize(n);
    if (t.prunable) t.mask.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const bool kept = !t.prunable || uniform(random) >= sparsity;
      if (t.prunable) t.mask[i] = kept;
      t.param[i] = kept ? weight(random) : 0.0f;
      t.exp_avg[i] = kept ? moment(random) : 0.0f;
      t.exp_avg_sq[i] = kept ? std::abs(second(random)) : 0.0f;
    }
  }
  return model;
}

int64_t tensor_bytes(const std::vector<Tensor>& model) {
  int64_t bytes = 0;
  for (const Tensor& t : model) {
    bytes += t.elements() * 12 + static_cast<int64_t>(t.mask.size());
  }
  return bytes;
}

double seconds_of(const std::function<void()>& work) {
  auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Drops a (synced) file's pages from the page cache so the next read comes from the disk.
void drop_cache(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fdatasync(fd);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

void write_all(int fd, const void* data, size_t bytes) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    ssize_t n = ::write(fd, p, bytes);
    if (n <= 0) {
      std::perror("write");
      std::exit(1);
    }
    p += n;
    bytes -= static_cast<size_t>(n);
  }
}

void read_all(int fd, void* data, size_t bytes) {
  char* p = static_cast<char*>(data);
  while (bytes > 0) {
    ssize_t n = ::read(fd, p, bytes);
    if (n <= 0) {
      std::perror("read");
      std::exit(1);
    }
    p += n;
    bytes -= static_cast<size_t>(n);
  }
}

// Every tensor's bytes, one write(2) each, then fsync: what a checkpoint costs at the least.
void raw_write(const std::string& path, const std::vector<Tensor>& model) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  for (const Tensor& t : model) {
    write_all(fd, t.param.data(), t.param.size() * 4);
    if (t.prunable) write_all(fd, t.mask.data(), t.mask.size());
    write_all(fd, t.exp_avg.data(), t.exp_avg.size() * 4);
    write_all(fd, t.exp_avg_sq.data(), t.exp_avg_sq.size() * 4);
  }
  ::fsync(fd);
  ::close(fd);
}

void raw_read(const std::string& path, std::vector<Tensor>& into) {
  int fd = ::open(path.c_str(), O_RDONLY);
  for (Tensor& t : into) {
    read_all(fd, t.param.data(), t.param.size() * 4);
    if (t.prunable) read_all(fd, t.mask.data(), t.mask.size());
    read_all(fd, t.exp_avg.data(), t.exp_avg.size() * 4);
    read_all(fd, t.exp_avg_sq.data(), t.exp_avg_sq.size() * 4);
  }
  ::close(fd);
}

// The group leader's write: each tensor arrives as `ranks` row slabs.
void checkpoint_write(const std::string& path, const std::vector<Tensor>& model,
                      const CheckpointWriteOptions& options, int64_t ranks) {
  CheckpointWriter w(path, options);
  w.set_attr(checkpoint::kStepAttr, 1000);
  w.set_attr(checkpoint::kWrittenByRanksAttr, ranks);
  auto slabs = [&](const std::string& group, const Tensor& t, DType dtype, const void* data) {
    const std::string name = group + "/" + t.name;
    w.create_tensor(name, dtype, t.shape);
    const int64_t rows = t.shape[0];
    const size_t row_bytes = static_cast<size_t>(t.elements() / rows) * dtype_size(dtype);
    for (int64_t r = 0; r < ranks; ++r) {
      const int64_t begin = rows * r / ranks, end = rows * (r + 1) / ranks;
      w.write_rows(name, begin, end - begin,
                   static_cast<const char*>(data) + static_cast<size_t>(begin) * row_bytes);
    }
  };
  for (const Tensor& t : model) {
    slabs(checkpoint::kParams, t, DType::kFloat32, t.param.data());
    if (t.prunable) slabs(checkpoint::kMasks, t, DType::kUInt8, t.mask.data());
    slabs(checkpoint::kExpAvg, t, DType::kFloat32, t.exp_avg.data());
    slabs(checkpoint::kExpAvgSq, t, DType::kFloat32, t.exp_avg_sq.data());
  }
  w.commit();
}

void checkpoint_read(const std::string& path, std::vector<Tensor>& into) {
  CheckpointReader r = CheckpointReader::open(path);
  for (Tensor& t : into) {
    r.read_tensor(std::string(checkpoint::kParams) + "/" + t.name, t.param.data());
    if (t.prunable) r.read_tensor(std::string(checkpoint::kMasks) + "/" + t.name, t.mask.data());
    r.read_tensor(std::string(checkpoint::kExpAvg) + "/" + t.name, t.exp_avg.data());
    r.read_tensor(std::string(checkpoint::kExpAvgSq) + "/" + t.name, t.exp_avg_sq.data());
  }
}

struct Variant {
  const char* label;
  CheckpointWriteOptions options;
};

CheckpointWriteOptions options_of(int float_level, bool shuffle, int mask_level,
                                  int64_t chunk_bytes, bool one_bit_masks) {
  CheckpointWriteOptions o;
  o.one_bit_masks = one_bit_masks;
  o.float_deflate_level = float_level;
  o.shuffle = shuffle;
  o.mask_deflate_level = mask_level;
  o.chunk_bytes = chunk_bytes;
  return o;
}

// Overwrites every buffer, so that a read that returned nothing cannot pass the check.
void poison(std::vector<Tensor>& model) {
  for (Tensor& t : model) {
    std::fill(t.param.begin(), t.param.end(), -1.0f);
    std::fill(t.mask.begin(), t.mask.end(), uint8_t{7});
    std::fill(t.exp_avg.begin(), t.exp_avg.end(), -1.0f);
    std::fill(t.exp_avg_sq.begin(), t.exp_avg_sq.end(), -1.0f);
  }
}

void check_equal(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  for (size_t t = 0; t < a.size(); ++t) {
    if (a[t].param != b[t].param || a[t].mask != b[t].mask || a[t].exp_avg != b[t].exp_avg ||
        a[t].exp_avg_sq != b[t].exp_avg_sq) {
      std::fprintf(stderr, "read back differs from what was written: %s\n", a[t].name.c_str());
      std::exit(1);
    }
  }
}

struct Timings {
  std::vector<double> write, read, verify;
  double size = 0;
};

// Repeats run round-robin over the raw baseline and every variant, so that the load of a
// shared machine spreads over all of them instead of landing on one.
void bench_sparsity(const std::string& dir, double sparsity, int repeat) {
  std::vector<Tensor> model = make_model(sparsity, 42);
  std::vector<Tensor> scratch = model;
  const double mb = tensor_bytes(model) / 1e6;
  const std::string raw_path = dir + "/raw.bin", ckpt_path = dir + "/ckpt.h5";
  const int64_t KiB = 1024, MiB = 1024 * 1024;
  const Variant variants[] = {
      {"f32 none, mask u8, 64 KiB", options_of(0, true, 0, 64 * KiB, false)},
      {"f32 none, mask u8, 256 KiB", options_of(0, true, 0, 256 * KiB, false)},
      {"f32 none, mask u8, 1 MiB (default)", options_of(0, true, 0, 1 * MiB, false)},
      {"f32 none, mask u8, 4 MiB", options_of(0, true, 0, 4 * MiB, false)},
      {"f32 none, mask u8+deflate1, 1 MiB", options_of(0, true, 1, 1 * MiB, false)},
      {"f32 none, mask 1-bit, 1 MiB", options_of(0, true, 0, 1 * MiB, true)},
      {"f32 none, mask 1-bit+deflate1, 1 MiB", options_of(0, true, 1, 1 * MiB, true)},
      {"f32 deflate1, mask u8, 1 MiB", options_of(1, false, 0, 1 * MiB, false)},
      {"f32 shuffle+deflate1, mask u8, 1 MiB", options_of(1, true, 0, 1 * MiB, false)},
      {"f32 shuffle+deflate4, mask u8, 1 MiB", options_of(4, true, 0, 1 * MiB, false)},
  };

  const size_t n = sizeof variants / sizeof variants[0];
  Timings raw;
  std::vector<Timings> timings(n);
  for (int i = 0; i < repeat; ++i) {
    raw.write.push_back(seconds_of([&] { raw_write(raw_path, model); }));
    drop_cache(raw_path);
    poison(scratch);
    raw.read.push_back(seconds_of([&] { raw_read(raw_path, scratch); }));
    check_equal(scratch, model);
    fs::remove(raw_path);
    for (size_t v = 0; v < n; ++v) {
      Timings& t = timings[v];
      t.write.push_back(
          seconds_of([&] { checkpoint_write(ckpt_path, model, variants[v].options, 4); }));
      t.size = static_cast<double>(fs::file_size(ckpt_path));
      drop_cache(ckpt_path);
      poison(scratch);
      t.read.push_back(seconds_of([&] { checkpoint_read(ckpt_path, scratch); }));
      check_equal(scratch, model);
      drop_cache(ckpt_path);
      t.verify.push_back(seconds_of([&] {
        if (!CheckpointReader::open(ckpt_path).verify().empty()) std::abort();
      }));
      fs::remove(ckpt_path);
    }
  }
  const double raw_write_mbs = mb / median(raw.write), raw_read_mbs = mb / median(raw.read);
  std::printf("\nsparsity %.2f: %.1f MB of tensors (10.5M params + 9.4M masks + 2 moments)\n",
              sparsity, mb);
  std::printf("%-38s %9s %9s %7s %7s %6s %9s\n", "storage", "write", "read", "w/raw", "r/raw",
              "size", "verify");
  std::printf("%-38s %6.0f MB/s %4.0f MB/s %6s %7s %6s\n", "raw write+fsync / cold read",
              raw_write_mbs, raw_read_mbs, "1.00", "1.00", "1.000");
  for (size_t v = 0; v < n; ++v) {
    const Timings& t = timings[v];
    const double write_mbs = mb / median(t.write), read_mbs = mb / median(t.read);
    std::printf("%-38s %6.0f MB/s %4.0f MB/s %7.2f %7.2f %6.3f %7.2f s\n", variants[v].label,
                write_mbs, read_mbs, write_mbs / raw_write_mbs, read_mbs / raw_read_mbs,
                t.size * 1e-6 / mb, median(t.verify));
  }
  std::fflush(stdout);
}

// Masks alone: uint8 (0/1) with deflate against the same bits packed 8 per byte.
void bench_masks(const std::string& dir, double sparsity, int repeat) {
  std::vector<Tensor> model = make_model(sparsity, 7);
  std::vector<const Tensor*> masked;
  int64_t elements = 0;
  for (const Tensor& t : model) {
    if (t.prunable) {
      masked.push_back(&t);
      elements += t.elements();
    }
  }
  const std::string path = dir + "/masks.h5";
  auto run = [&](const char* label, bool packed, bool one_bit, int level) {
    CheckpointWriteOptions o = options_of(0, true, level, 1 << 20, one_bit);
    o.integer_deflate_level = level;  // Hand-packed bytes go outside masks/.
    std::vector<double> w, r;
    double size = 0;
    for (int i = 0; i < repeat; ++i) {
      w.push_back(seconds_of([&] {
        CheckpointWriter writer(path, o);
        std::vector<uint8_t> bits;
        for (const Tensor* t : masked) {
          if (!packed) {
            writer.write_tensor("masks/" + t->name, DType::kUInt8, t->shape, t->mask.data());
            continue;
          }
          bits.assign((t->mask.size() + 7) / 8, 0);
          for (size_t j = 0; j < t->mask.size(); ++j) bits[j / 8] |= t->mask[j] << (j % 8);
          writer.write_tensor("packed_masks/" + t->name, DType::kUInt8,
                              {static_cast<int64_t>(bits.size())}, bits.data());
        }
        writer.commit();
      }));
      size = static_cast<double>(fs::file_size(path));
      drop_cache(path);
      r.push_back(seconds_of([&] {
        CheckpointReader reader = CheckpointReader::open(path);
        std::vector<uint8_t> mask, bits;
        for (const Tensor* t : masked) {
          mask.resize(t->mask.size());
          if (!packed) {
            reader.read_tensor("masks/" + t->name, mask.data());
          } else {
            bits = reader.read_blob("packed_masks/" + t->name);
            for (size_t j = 0; j < mask.size(); ++j) mask[j] = (bits[j / 8] >> (j % 8)) & 1;
          }
          if (mask != t->mask) std::abort();
        }
      }));
    }
    fs::remove(path);
    std::printf("%-30s %8.0f Melem/s %8.0f Melem/s %8.3f bits/elem\n", label,
                elements / 1e6 / median(w), elements / 1e6 / median(r), size * 8 / elements);
    std::fflush(stdout);
  };
  std::printf("\nmasks alone, sparsity %.2f: %.1fM elements\n", sparsity, elements / 1e6);
  std::printf("%-30s %16s %16s %18s\n", "encoding", "write", "read", "file size");
  run("uint8 0/1, no deflate", false, false, 0);
  run("uint8 0/1, deflate 1", false, false, 1);
  run("uint8 0/1, deflate 4", false, false, 4);
  run("1-bit (N-bit filter)", false, true, 0);
  run("1-bit (N-bit filter), deflate 1", false, true, 1);
  run("bit-packed by hand", true, false, 0);
  run("bit-packed by hand, deflate 1", true, false, 1);
}

}  // namespace
}  // namespace journey

int main(int argc, char** argv) {
  std::string dir = std::filesystem::temp_directory_path().string();
  int repeat = 3;
  std::vector<double> sparsities;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--sparsity" && i + 1 < argc) {
      sparsities.push_back(std::atof(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: checkpoint_bench [--dir DIR] [--repeat N] [--sparsity S ...]\n");
      return 2;
    }
  }
  if (sparsities.empty()) sparsities = {0.0, 0.5, 0.8};
  for (double s : sparsities) journey::bench_sparsity(dir, s, repeat);
  for (double s : sparsities) journey::bench_masks(dir, s, repeat);
  return 0;
}
