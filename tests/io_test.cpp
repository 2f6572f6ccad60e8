// io: the atomic-commit helper, HDF5 checkpoints (round trip, resharding, corruption, foreign
// files, consistency), the checkpoint directory, an independent h5py reader, and
// `journey inspect` through the binary.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "io/atomic_file.h"
#include "io/checkpoint_consistency.h"
#include "io/checkpoint_dir.h"
#include "io/checkpoint_file.h"
#include "io/checkpoint_summary.h"
#include "io/chunk_digests.h"
#include "io/directory_lock.h"
#include "io/hdf5_handles.h"
#include "tests/subprocess.h"
#include "tests/test_files.h"

namespace journey {
namespace {

namespace fs = std::filesystem;
using testing::journey_command;
using testing::run_process;

// A fresh directory per test, removed afterwards.
class IoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / ("journey-io-" + std::string(info->test_suite_name()) +
                                             "-" + info->name() + "-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

using AtomicFileTest = IoTest;
using Checkpoint = IoTest;
using CheckpointDir = IoTest;
using Inspect = IoTest;

using testing::read_file;

// The test patterns; tests/python/read_checkpoint.py computes the same values.
std::vector<float> float_pattern(int64_t count, int64_t seed) {
  std::vector<float> v(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    v[i] = static_cast<float>(((i * 7 + seed * 13) % 1001 - 500) / 64.0);
  }
  return v;
}

std::vector<uint8_t> mask_pattern(int64_t count, int64_t seed) {
  std::vector<uint8_t> v(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) v[i] = (i * 5 + seed) % 4 != 0;
  return v;
}

// A parameter that respects its mask: zero where the mask is 0.
std::vector<float> masked(std::vector<float> values, const std::vector<uint8_t>& mask) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!mask[i]) values[i] = 0.0f;
  }
  return values;
}

// A small valid checkpoint at `step`: one masked matrix, its moments, a norm, a history.
void write_small_checkpoint(const std::string& file, int64_t step,
                            const CheckpointWriteOptions& options = {},
                            const std::string& run_id = "run-a") {
  CheckpointWriter w(file, options);
  w.set_attr(checkpoint::kRunIdAttr, run_id);
  std::vector<uint8_t> mask = mask_pattern(40 * 16, 1);
  std::vector<float> wq = masked(float_pattern(40 * 16, step), mask);
  w.write_tensor("params/layers.0.attn.wq", DType::kFloat32, {40, 16}, wq.data());
  w.write_tensor("masks/layers.0.attn.wq", DType::kUInt8, {40, 16}, mask.data());
  w.write_tensor("optim/exp_avg/layers.0.attn.wq", DType::kFloat32, {40, 16}, wq.data());
  w.write_tensor("optim/exp_avg_sq/layers.0.attn.wq", DType::kFloat32, {40, 16}, wq.data());
  w.write_tensor("params/norm", DType::kFloat32, {16}, float_pattern(16, 2).data());
  w.write_series("history/active", std::vector<int64_t>{640, 600, 480});
  w.set_attr(checkpoint::kStepAttr, step);
  w.commit();
}

// Where a dataset's chunk number `index` lies in the file: (offset, stored size).
std::pair<haddr_t, hsize_t> chunk_location(const std::string& file, const std::string& dataset,
                                           hsize_t index) {
  h5::File f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  h5::Dataset d(H5Dopen2(f.get(), dataset.c_str(), H5P_DEFAULT));
  h5::Dataspace space(H5Dget_space(d.get()));
  std::vector<hsize_t> offset(8);
  unsigned filter_mask = 0;
  haddr_t address = 0;
  hsize_t size = 0;
  EXPECT_GE(
      H5Dget_chunk_info(d.get(), space.get(), index, offset.data(), &filter_mask, &address, &size),
      0);
  return {address, size};
}

void flip_byte(const std::string& file, haddr_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  f.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x5a);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(&byte, 1);
}

// Flips a byte in the middle of a dataset's chunk `index`.
void corrupt_chunk(const std::string& file, const std::string& dataset, hsize_t index) {
  auto [address, size] = chunk_location(file, dataset, index);
  ASSERT_GT(size, 0u);
  flip_byte(file, address + size / 2);
}

// An HDF5 file with a dataset and, optionally, a string attribute "format".
void write_foreign_hdf5(const std::string& file, const char* format_attr, int64_t version = 1) {
  h5::File f(H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  hsize_t n = 4;
  h5::Dataspace space(H5Screate_simple(1, &n, nullptr));
  h5::Dataset d(H5Dcreate2(f.get(), "weights", H5T_IEEE_F32LE, space.get(), H5P_DEFAULT,
                           H5P_DEFAULT, H5P_DEFAULT));
  float values[4] = {1, 2, 3, 4};
  H5Dwrite(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
  if (format_attr != nullptr) {
    h5::Dataspace scalar(H5Screate(H5S_SCALAR));
    h5::Datatype type(H5Tcopy(H5T_C_S1));
    H5Tset_size(type.get(), H5T_VARIABLE);
    h5::Attribute a(
        H5Acreate2(f.get(), "format", type.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT));
    H5Awrite(a.get(), type.get(), &format_attr);
    h5::Attribute v(H5Acreate2(f.get(), "format_version", H5T_STD_I64LE, scalar.get(), H5P_DEFAULT,
                               H5P_DEFAULT));
    H5Awrite(v.get(), H5T_NATIVE_INT64, &version);
  }
}

// Splits `rows` into `parts` contiguous ranges the way a group shards rows: [begin, count].
std::vector<std::pair<int64_t, int64_t>> row_ranges(int64_t rows, int64_t parts) {
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (int64_t p = 0; p < parts; ++p) {
    const int64_t begin = rows * p / parts, end = rows * (p + 1) / parts;
    ranges.emplace_back(begin, end - begin);
  }
  return ranges;
}

// ---------------------------------------------------------------------------------------------
// AtomicFile

TEST_F(AtomicFileTest, CommitReplacesTheFileAndLeavesNoTemporary) {
  const std::string target = path("table.csv");
  write_file_atomically(target, "old\n");
  AtomicFile file(target);
  EXPECT_EQ(fs::path(file.temp_path()).parent_path(), fs::path(target).parent_path());
  EXPECT_EQ(fs::path(file.temp_path()).filename().string()[0], '.');
  std::ofstream(file.temp_path()) << "new\n";
  EXPECT_EQ(read_file(target), "old\n");  // Nothing visible before the commit.
  file.commit();
  EXPECT_TRUE(file.committed());
  EXPECT_EQ(read_file(target), "new\n");
  EXPECT_EQ(files(), std::vector<std::string>{"table.csv"});
}

TEST_F(AtomicFileTest, DestroyedWithoutCommitKeepsThePreviousFile) {
  const std::string target = path("table.csv");
  write_file_atomically(target, "old\n");
  {
    AtomicFile file(target);
    std::ofstream(file.temp_path()) << "half-writ";
    EXPECT_EQ(files().size(), 2u);
  }
  EXPECT_EQ(read_file(target), "old\n");
  EXPECT_EQ(files(), std::vector<std::string>{"table.csv"});
}

TEST_F(AtomicFileTest, TemporaryNamesAreUnique) {
  AtomicFile a(path("x")), b(path("x"));
  EXPECT_NE(a.temp_path(), b.temp_path());
}

TEST_F(AtomicFileTest, FailureNamesThePath) {
  const std::string target = path("missing-dir/table.csv");
  try {
    write_file_atomically(target, "x");
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("missing-dir"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// Checkpoint: round trip

TEST_F(Checkpoint, RoundTripOfTensorsAttributesSeriesAndBlobs) {
  const std::string file = path("ckpt.h5");
  std::vector<uint8_t> mask = mask_pattern(6 * 5, 3);
  std::vector<float> wq = masked(float_pattern(6 * 5, 3), mask);
  std::vector<float> norm = float_pattern(7, 4);
  std::vector<uint8_t> rng = {0, 1, 2, 250, 255};
  {
    CheckpointWriter w(file);
    w.write_tensor("params/layers.0.attn.wq", DType::kFloat32, {6, 5}, wq.data());
    w.write_tensor("/masks/layers.0.attn.wq", DType::kUInt8, {6, 5}, mask.data());
    w.write_tensor("params/final_norm", DType::kFloat32, {7}, norm.data());
    w.write_tensor("params/empty", DType::kFloat32, {0, 3}, nullptr);
    w.write_series("history/active", std::vector<int64_t>{30, 25, 20});
    w.write_series("history/loss", std::vector<double>{4.5, 3.25});
    w.write_series("history/none", std::vector<double>{});
    w.write_blob("state/rng", rng);
    w.set_attr(checkpoint::kStepAttr, 1000);  // An int literal.
    w.set_attr(checkpoint::kTokensSeenAttr, size_t{8192000});
    w.set_attr("lr", 0.003);
    w.set_attr(checkpoint::kCellIdAttr, "cell-0042");
    w.set_attr(checkpoint::kConfigAttr, std::string("[model]\nd_model = 8\n"));
    w.set_attr("lr", 0.002);  // Replaces.
    w.commit();
  }
  CheckpointReader r = CheckpointReader::open(file);
  EXPECT_EQ(r.list("params"),
            (std::vector<std::string>{"empty", "final_norm", "layers.0.attn.wq"}));
  EXPECT_EQ(r.list(""),
            (std::vector<std::string>{"checksums", "history", "masks", "params", "state"}));
  EXPECT_TRUE(r.list("optim").empty());
  EXPECT_TRUE(r.contains("history/loss"));
  EXPECT_FALSE(r.contains("history/lr"));
  EXPECT_FALSE(r.contains("nothing/here"));
  TensorInfo info = r.info("params/layers.0.attn.wq");
  EXPECT_EQ(info.dtype, DType::kFloat32);
  EXPECT_EQ(info.shape, (std::vector<int64_t>{6, 5}));
  EXPECT_EQ(r.info("masks/layers.0.attn.wq").dtype, DType::kUInt8);
  EXPECT_EQ(r.info("params/empty").shape, (std::vector<int64_t>{0, 3}));

  std::vector<float> wq_back(wq.size());
  r.read_tensor("params/layers.0.attn.wq", wq_back.data());
  EXPECT_EQ(wq_back, wq);
  std::vector<uint8_t> mask_back(mask.size());
  r.read_tensor("masks/layers.0.attn.wq", mask_back.data());
  EXPECT_EQ(mask_back, mask);
  std::vector<float> norm_back(7);
  r.read_rows("params/final_norm", 2, 3, norm_back.data());
  EXPECT_EQ(std::vector<float>(norm_back.begin(), norm_back.begin() + 3),
            std::vector<float>(norm.begin() + 2, norm.begin() + 5));

  EXPECT_EQ(r.read_series_int("history/active"), (std::vector<int64_t>{30, 25, 20}));
  EXPECT_EQ(r.read_series_double("history/active"), (std::vector<double>{30, 25, 20}));
  EXPECT_EQ(r.read_series_double("history/loss"), (std::vector<double>{4.5, 3.25}));
  EXPECT_TRUE(r.read_series_double("history/none").empty());
  EXPECT_EQ(r.read_blob("state/rng"), rng);
  EXPECT_THROW(r.read_series_int("history/loss"), DataError);

  EXPECT_EQ(r.attr_string(checkpoint::kFormatAttr), "journey-checkpoint");
  EXPECT_EQ(r.attr_int(checkpoint::kFormatVersionAttr), checkpoint::kFormatVersion);
  EXPECT_EQ(r.attr_int(checkpoint::kStepAttr), 1000);
  EXPECT_EQ(r.attr_int(checkpoint::kTokensSeenAttr), 8192000);
  EXPECT_DOUBLE_EQ(r.attr_double("lr"), 0.002);
  EXPECT_DOUBLE_EQ(r.attr_double(checkpoint::kStepAttr), 1000.0);
  EXPECT_EQ(r.attr_string(checkpoint::kCellIdAttr), "cell-0042");
  EXPECT_EQ(r.attr_string(checkpoint::kConfigAttr), "[model]\nd_model = 8\n");
  EXPECT_EQ(r.attr_string(checkpoint::kCreatedAttr).size(), 20u);  // 2025-01-31T12:00:00Z
  EXPECT_THROW(r.attr_int(checkpoint::kCellIdAttr), DataError);
  EXPECT_THROW(r.attr("absent"), DataError);
  EXPECT_EQ(r.attr_names(),
            (std::vector<std::string>{"cell_id", "config", "created", "format", "format_version",
                                      "lr", "step", "tokens_seen"}));
  EXPECT_TRUE(r.verify().empty());
  EXPECT_TRUE(check_consistency(r).empty());
}

// Masks take one bit per value on disk, behind the same uint8 0/1 interface.
TEST_F(Checkpoint, MasksAreStoredOneBitPerValue) {
  const int64_t rows = 512, cols = 512;
  std::vector<uint8_t> mask = mask_pattern(rows * cols, 1);
  auto write = [&](const std::string& file, bool one_bit) {
    CheckpointWriteOptions options;
    options.one_bit_masks = one_bit;
    CheckpointWriter w(file, options);
    w.write_tensor("masks/w", DType::kUInt8, {rows, cols}, mask.data());
    w.commit();
  };
  write(path("bits.h5"), true);
  write(path("bytes.h5"), false);
  EXPECT_LT(fs::file_size(path("bits.h5")) * 6, fs::file_size(path("bytes.h5")));
  {
    h5::File f(H5Fopen(path("bits.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    h5::Dataset d(H5Dopen2(f.get(), "masks/w", H5P_DEFAULT));
    h5::Datatype type(H5Dget_type(d.get()));
    EXPECT_EQ(H5Tget_precision(type.get()), 1u);
  }
  CheckpointReader r = CheckpointReader::open(path("bits.h5"));
  EXPECT_EQ(r.info("masks/w").dtype, DType::kUInt8);
  std::vector<uint8_t> back(mask.size(), 7);
  r.read_rows("masks/w", 100, 300, back.data());
  EXPECT_TRUE(std::equal(back.begin(), back.begin() + 300 * cols, mask.begin() + 100 * cols));
}

// Tensors written as row slabs by k "ranks" in scrambled orders, read back by j "ranks" in
// other row ranges; small chunks so that slabs start and end inside chunks.
struct GroupSizes {
  int64_t writers;
  int64_t readers;
};

class CheckpointReshard : public IoTest, public ::testing::WithParamInterface<GroupSizes> {};

TEST_P(CheckpointReshard, SlabsInAnyOrderReadBackInOtherRowRanges) {
  const GroupSizes p = GetParam();
  const std::string file = path("ckpt.h5");
  const int64_t rows = 37, cols = 19;
  const std::vector<float> weights = float_pattern(rows * cols, 5);
  const std::vector<uint8_t> mask = mask_pattern(rows * cols, 6);
  const std::vector<float> bias = float_pattern(rows, 7);
  CheckpointWriteOptions options;
  options.chunk_bytes = 5 * cols * 4;  // Five float rows per chunk.
  options.float_deflate_level = 1;
  {
    CheckpointWriter w(file, options);
    w.create_tensor("params/w", DType::kFloat32, {rows, cols});
    w.create_tensor("masks/w", DType::kUInt8, {rows, cols});
    w.create_tensor("params/b", DType::kFloat32, {rows});
    std::vector<std::pair<int64_t, int64_t>> slabs = row_ranges(rows, p.writers);
    // Last rank first, then the rest alternating from both ends: 3, 0, 2, 1 for four.
    std::vector<size_t> order;
    for (size_t lo = 0, hi = slabs.size(); lo < hi;) {
      order.push_back(--hi);
      if (lo < hi) order.push_back(lo++);
    }
    for (size_t rank : order) {
      auto [begin, count] = slabs[rank];
      w.write_rows("params/w", begin, count, weights.data() + begin * cols);
      w.write_rows("masks/w", begin, count, mask.data() + begin * cols);
      w.write_rows("params/b", begin, count, bias.data() + begin);
    }
    w.commit();
  }
  CheckpointReader r = CheckpointReader::open(file);
  std::vector<float> weights_back(weights.size(), -1.0f), bias_back(bias.size(), -1.0f);
  std::vector<uint8_t> mask_back(mask.size(), 9);
  for (auto [begin, count] : row_ranges(rows, p.readers)) {
    r.read_rows("params/w", begin, count, weights_back.data() + begin * cols);
    r.read_rows("masks/w", begin, count, mask_back.data() + begin * cols);
    r.read_rows("params/b", begin, count, bias_back.data() + begin);
  }
  EXPECT_EQ(weights_back, weights);
  EXPECT_EQ(mask_back, mask);
  EXPECT_EQ(bias_back, bias);
  EXPECT_TRUE(r.verify().empty());
}

INSTANTIATE_TEST_SUITE_P(Checkpoint, CheckpointReshard,
                         ::testing::Values(GroupSizes{4, 2}, GroupSizes{4, 3}, GroupSizes{1, 4},
                                           GroupSizes{3, 4}, GroupSizes{37, 1}),
                         [](const auto& info) {
                           return std::to_string(info.param.writers) + "to" +
                                  std::to_string(info.param.readers);
                         });

TEST_F(Checkpoint, RewrittenRowsKeepTheLastValues) {
  const std::string file = path("ckpt.h5");
  std::vector<float> first = float_pattern(10 * 3, 1), second = float_pattern(10 * 3, 2);
  {
    CheckpointWriter w(file);
    w.write_tensor("params/x", DType::kFloat32, {10, 3}, first.data());
    w.write_rows("params/x", 4, 2, second.data() + 4 * 3);  // After the tensor was complete.
    w.commit();
  }
  std::vector<float> expected = first;
  std::copy(second.begin() + 12, second.begin() + 18, expected.begin() + 12);
  std::vector<float> back(30);
  CheckpointReader::open(file).read_tensor("params/x", back.data());
  EXPECT_EQ(back, expected);
}

TEST_F(Checkpoint, CommitRefusesTensorsWithUnwrittenRows) {
  const std::string file = path("ckpt.h5");
  std::vector<float> values = float_pattern(10 * 2, 1);
  {
    CheckpointWriter w(file);
    w.create_tensor("params/x", DType::kFloat32, {10, 2});
    w.write_rows("params/x", 0, 5, values.data());
    w.write_rows("params/x", 6, 4, values.data() + 12);
    try {
      w.commit();
      FAIL() << "expected std::logic_error";
    } catch (const std::logic_error& e) {
      EXPECT_NE(std::string(e.what()).find("params/x"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("rows 5-5"), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(fs::exists(file));
  EXPECT_TRUE(files().empty());  // The temporary file is gone too.
}

TEST_F(Checkpoint, MisuseIsRejected) {
  CheckpointWriter w(path("ckpt.h5"));
  std::vector<float> values(8);
  std::vector<uint8_t> bytes(8);
  w.create_tensor("params/x", DType::kFloat32, {4, 2});
  w.create_tensor("masks/x", DType::kUInt8, {4, 2});
  EXPECT_THROW(w.create_tensor("params/x", DType::kFloat32, {4, 2}), std::invalid_argument);
  EXPECT_THROW(w.create_tensor("params/scalar", DType::kFloat32, {}), std::invalid_argument);
  EXPECT_THROW(w.write_rows("params/y", 0, 1, values.data()), std::invalid_argument);
  EXPECT_THROW(w.write_rows("params/x", 3, 2, values.data()), std::invalid_argument);
  EXPECT_THROW(w.write_rows("params/x", -1, 1, values.data()), std::invalid_argument);
  EXPECT_THROW(w.write_rows("params/x", 0, 4, bytes.data()), std::invalid_argument);
  EXPECT_THROW(w.write_rows("masks/x", 0, 4, values.data()), std::invalid_argument);
  bytes[3] = 2;  // Masks are 0 or 1.
  EXPECT_THROW(w.write_rows("masks/x", 0, 4, bytes.data()), std::invalid_argument);
  EXPECT_THROW(w.set_attr(checkpoint::kFormatAttr, "other"), std::invalid_argument);
  EXPECT_THROW(w.set_attr(checkpoint::kFormatVersionAttr, checkpoint::kFormatVersion + 1),
               std::invalid_argument);
}

TEST_F(Checkpoint, ReaderChecksTypesAndRowRanges) {
  const std::string file = path("ckpt.h5");
  write_small_checkpoint(file, 100);
  CheckpointReader r = CheckpointReader::open(file);
  std::vector<uint8_t> bytes(40 * 16);
  std::vector<float> floats(40 * 16);
  EXPECT_THROW(r.read_tensor("params/layers.0.attn.wq", bytes.data()), DataError);
  EXPECT_THROW(r.read_tensor("masks/layers.0.attn.wq", floats.data()), DataError);
  EXPECT_THROW(r.read_rows("params/layers.0.attn.wq", 39, 2, floats.data()), DataError);
  try {
    r.info("params/absent");
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("params/absent"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// Checkpoint: crashes, corruption and files that are not checkpoints

TEST_F(Checkpoint, WriterDestroyedWithoutCommitLeavesThePreviousCheckpoint) {
  const std::string file = path("ckpt.h5");
  write_small_checkpoint(file, 100);
  {
    CheckpointWriter w(file);
    w.set_attr(checkpoint::kStepAttr, 200);
    w.write_tensor("params/x", DType::kFloat32, {3}, float_pattern(3, 1).data());
  }
  EXPECT_EQ(CheckpointReader::open(file).attr_int(checkpoint::kStepAttr), 100);
  EXPECT_EQ(files(), std::vector<std::string>{"ckpt.h5"});
}

TEST_F(Checkpoint, CrashBeforeRenameLeavesThePreviousCheckpointValid) {
  const std::string dir = dir_.string();
  write_small_checkpoint(checkpoint_path(dir, 100), 100);
  write_small_checkpoint(checkpoint_path(dir, 200), 200);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A writer that has written everything and dies before commit() renames the file.
    CheckpointWriter w(checkpoint_path(dir, 300));
    w.set_attr(checkpoint::kStepAttr, 300);
    std::vector<float> values = float_pattern(40 * 16, 3);
    w.write_tensor("params/layers.0.attn.wq", DType::kFloat32, {40, 16}, values.data());
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(files().size(), 3u);  // Two checkpoints and the crashed writer's dot-file.
  EXPECT_EQ(list_checkpoints(dir).size(), 2u);
  std::optional<CheckpointEntry> latest = latest_valid(dir);
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->step, 200);
  EXPECT_EQ(CheckpointReader::open(latest->path).attr_int(checkpoint::kStepAttr), 200);
}

TEST_F(Checkpoint, TruncatedFileIsADataErrorNamingTheFile) {
  const std::string file = path("ckpt.h5");
  write_small_checkpoint(file, 100);
  fs::resize_file(file, fs::file_size(file) / 2);
  try {
    CheckpointReader::open(file);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

TEST_F(Checkpoint, FlippedByteInAChunkIsCaughtByTheChecksum) {
  const std::string file = path("ckpt.h5");
  CheckpointWriteOptions options;
  options.chunk_bytes = 8 * 16 * 4;  // Eight rows per chunk: five chunks.
  write_small_checkpoint(file, 100, options);
  corrupt_chunk(file, "params/layers.0.attn.wq", 2);  // Rows 16-23.

  CheckpointReader r = CheckpointReader::open(file);
  std::vector<float> rows(8 * 16);
  EXPECT_NO_THROW(r.read_rows("params/layers.0.attn.wq", 0, 8, rows.data()));
  try {
    r.read_rows("params/layers.0.attn.wq", 16, 8, rows.data());
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(file), std::string::npos) << what;
    EXPECT_NE(what.find("params/layers.0.attn.wq"), std::string::npos) << what;
    EXPECT_NE(what.find("checksum"), std::string::npos) << what;
  }
  std::vector<CheckpointProblem> problems = r.verify();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].dataset, "params/layers.0.attn.wq");
  EXPECT_NE(problems[0].error.find("rows 16-23"), std::string::npos) << problems[0].error;
}

TEST_F(Checkpoint, FlippedByteInAOneBitMaskIsCaught) {
  const std::string file = path("ckpt.h5");
  CheckpointWriteOptions options;
  options.one_bit_masks = true;
  write_small_checkpoint(file, 100, options);
  corrupt_chunk(file, "masks/layers.0.attn.wq", 0);
  std::vector<CheckpointProblem> problems = CheckpointReader::open(file).verify();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].dataset, "masks/layers.0.attn.wq");
}

// Fletcher32 sums 16-bit words modulo 65535, so a word flipped between 0x0000 and 0xFFFF
// leaves it unchanged (the audit's edit: resume then loaded the changed weight). The chunk's
// SHA-256 sees it, in a row read, in verify() and in `journey inspect`.
TEST_F(Checkpoint, AChangeFletcher32CannotSeeIsCaughtByTheDigest) {
  const std::string file = path("ckpt.h5");
  CheckpointWriteOptions options;
  options.chunk_bytes = 8 * 16 * 4;  // Eight rows per chunk.
  {
    CheckpointWriter w(file, options);
    // Ones (words 0x0000 and 0x803F) with one zero, whose high word is edited below.
    std::vector<float> values(40 * 16, 1.0f);
    values[16 * 16 + 2] = 0.0f;
    w.write_tensor("params/layers.0.attn.wq", DType::kFloat32, {40, 16}, values.data());
    w.commit();
  }
  auto [address, size] = chunk_location(file, "params/layers.0.attn.wq", 2);  // Rows 16-23.
  ASSERT_EQ(size, 8u * 16 * 4 + 4);  // Uncompressed rows and the 4-byte Fletcher32.
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(address + 10));  // High half of row 16, element 2.
    f.write("\xff\xff", 2);
  }
  // HDF5's own check passes: the bytes read back, changed (0x0000 -> 0xFFFF is a NaN here).
  {
    h5::File raw(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    h5::Dataset d(H5Dopen2(raw.get(), "params/layers.0.attn.wq", H5P_DEFAULT));
    std::vector<float> values(40 * 16);
    ASSERT_GE(H5Dread(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), 0);
    EXPECT_TRUE(std::isnan(values[16 * 16 + 2]));
  }
  CheckpointReader r = CheckpointReader::open(file);
  std::vector<float> rows(40 * 16);
  EXPECT_NO_THROW(r.read_rows("params/layers.0.attn.wq", 0, 16, rows.data()));
  for (auto [begin, count] : {std::pair<int64_t, int64_t>{16, 8}, {20, 1}, {0, 40}}) {
    try {
      r.read_rows("params/layers.0.attn.wq", begin, count, rows.data());
      ADD_FAILURE() << "expected DataError reading " << count << " rows from " << begin;
    } catch (const DataError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("params/layers.0.attn.wq"), std::string::npos) << what;
      EXPECT_NE(what.find("rows 16-23 do not match their SHA-256 digest"), std::string::npos)
          << what;
    }
  }
  std::vector<CheckpointProblem> problems = r.verify();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].dataset, "params/layers.0.attn.wq");
  EXPECT_NE(problems[0].error.find("rows 16-23 do not match their SHA-256 digest"),
            std::string::npos)
      << problems[0].error;
  const auto inspect = run_process(journey_command("inspect " + file));
  EXPECT_EQ(inspect.exit_code, 1) << inspect.output;
  EXPECT_NE(inspect.output.find("SHA-256"), std::string::npos) << inspect.output;
}

// Another tool that rewrites a dataset drops its digests: a version 3 reader refuses it.
TEST_F(Checkpoint, ADatasetWithoutItsDigestsIsRefused) {
  const std::string file = path("ckpt.h5");
  write_small_checkpoint(file, 100);
  {
    h5::File f(H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
    h5::Dataset d(H5Dopen2(f.get(), "params/norm", H5P_DEFAULT));
    ASSERT_GE(H5Adelete(d.get(), checkpoint::kChunkDigestsAttr), 0);
  }
  CheckpointReader r = CheckpointReader::open(file);
  std::vector<float> norm(16);
  try {
    r.read_tensor("params/norm", norm.data());
    ADD_FAILURE() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("has no SHA-256 digests"), std::string::npos) << e.what();
  }
  std::vector<CheckpointProblem> problems = r.verify();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].dataset, "params/norm");
}

TEST_F(Checkpoint, MissingNonHdf5AndForeignFilesAreDataErrorsNamingTheFile) {
  auto expect_error = [](const std::string& file, const std::string& words) {
    try {
      CheckpointReader::open(file);
      ADD_FAILURE() << "expected DataError for " << file;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expect_error(path("absent.h5"), "does not exist");
  std::ofstream(path("text.h5")) << "step = 100\n";
  expect_error(path("text.h5"), "not an HDF5 file");
  write_foreign_hdf5(path("foreign.h5"), nullptr);
  expect_error(path("foreign.h5"), "no root attribute 'format'");
  write_foreign_hdf5(path("other.h5"), "other-format");
  expect_error(path("other.h5"), "'other-format'");
  write_foreign_hdf5(path("future.h5"), "journey-checkpoint", checkpoint::kFormatVersion + 1);
  expect_error(path("future.h5"),
               "format_version " + std::to_string(checkpoint::kFormatVersion + 1));
  expect_error(dir_.string(), "not a regular file");
}

TEST_F(Checkpoint, DatasetsWithoutAChecksumAreReportedByVerify) {
  // Another tool rewrote a dataset without Fletcher32: flipped bits there would go unnoticed.
  write_foreign_hdf5(path("unchecked.h5"), "journey-checkpoint");
  std::vector<CheckpointProblem> problems = CheckpointReader::open(path("unchecked.h5")).verify();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].dataset, "weights");
  EXPECT_NE(problems[0].error.find("no Fletcher32 checksum"), std::string::npos)
      << problems[0].error;
}

// ---------------------------------------------------------------------------------------------
// Checkpoint: consistency of masks and parameters

// Replaces a string root attribute in place, as a hand edit with h5py or h5edit would.
void edit_string_attr(const std::string& file, const char* name, const std::string& value) {
  h5::File f(H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
  ASSERT_GE(H5Adelete(f.get(), name), 0);
  h5::Datatype type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  h5::Dataspace scalar(H5Screate(H5S_SCALAR));
  h5::Attribute a(H5Acreate2(f.get(), name, type.get(), scalar.get(), H5P_DEFAULT, H5P_DEFAULT));
  const char* text = value.c_str();
  ASSERT_GE(H5Awrite(a.get(), type.get(), &text), 0);
}

TEST_F(Checkpoint, EditedAttributesFailVerification) {
  for (const char* name :
       {checkpoint::kConfigAttr, checkpoint::kCellIdAttr, checkpoint::kTokenizerHashAttr}) {
    const std::string file = path(std::string("edited-") + name + ".h5");
    {
      CheckpointWriter w(file);
      w.write_series("history/active", std::vector<int64_t>{3, 2});
      w.set_attr(checkpoint::kConfigAttr, "[train]\nlr = 0.001\n");
      w.set_attr(checkpoint::kCellIdAttr, "64x2x2-dense-tpp2-seed0");
      w.set_attr(checkpoint::kTokenizerHashAttr, "abc123");
      w.commit();
    }
    EXPECT_TRUE(CheckpointReader::open(file).verify().empty()) << name;
    edit_string_attr(file, name, "edited by hand");
    const std::vector<CheckpointProblem> problems = CheckpointReader::open(file).verify();
    ASSERT_EQ(problems.size(), 1u) << name;
    EXPECT_NE(problems[0].error.find("changed after the checkpoint was written"), std::string::npos)
        << problems[0].error;
    EXPECT_EQ(CheckpointReader::open(file).verify_attributes().size(), 1u) << name;
  }
  // Without its checksum dataset a version-2 file cannot be trusted either.
  const std::string file = path("no-attribute-checksum.h5");
  write_small_checkpoint(file, 10);
  {
    h5::File f(H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
    ASSERT_GE(H5Ldelete(f.get(), checkpoint::kAttributesChecksum, H5P_DEFAULT), 0);
  }
  const std::vector<CheckpointProblem> problems = CheckpointReader::open(file).verify();
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].error.find("no checksum of its root attributes"), std::string::npos)
      << problems[0].error;
}

TEST_F(Checkpoint, ImpossibleCountersAreInconsistent) {
  auto problems_with = [&](int64_t step, int64_t adam_steps, int64_t tokens_seen) {
    const std::string file = path("counters.h5");
    CheckpointWriter w(file);
    w.set_attr(checkpoint::kStepAttr, step);
    w.set_attr(checkpoint::kAdamStepsAttr, adam_steps);
    w.set_attr(checkpoint::kTokensSeenAttr, tokens_seen);
    w.commit();
    return check_consistency(CheckpointReader::open(file));
  };
  EXPECT_TRUE(problems_with(10, 10, 640).empty());
  for (const auto& problems :
       {problems_with(10, 11, 640), problems_with(-5, 0, 0), problems_with(10, 10, -1)}) {
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].dataset, "/");
    EXPECT_NE(problems[0].error.find("impossible counters"), std::string::npos)
        << problems[0].error;
  }
}

TEST_F(Checkpoint, ConsistencyNamesEveryDisagreement) {
  const std::string file = path("ckpt.h5");
  {
    CheckpointWriter w(file);
    std::vector<uint8_t> mask = mask_pattern(4 * 3, 1);
    std::vector<float> good = masked(float_pattern(12, 1), mask);
    w.write_tensor("params/good", DType::kFloat32, {4, 3}, good.data());
    w.write_tensor("masks/good", DType::kUInt8, {4, 3}, mask.data());
    // Shape differs from the parameter.
    w.write_tensor("params/shape", DType::kFloat32, {4, 3}, good.data());
    w.write_tensor("masks/shape", DType::kUInt8, {3, 4}, mask.data());
    // A mask that gets a value that is neither 0 nor 1 below.
    w.write_tensor("params/two", DType::kFloat32, {4, 3}, good.data());
    w.write_tensor("masks/two", DType::kUInt8, {4, 3}, mask.data());
    // A pruned weight that is not zero.
    std::vector<float> leaked = good;
    leaked[0] = 0.5f;  // mask_pattern(.., 1)[0] is 1; [3] is 0.
    leaked[3] = 0.25f;
    w.write_tensor("params/leaked", DType::kFloat32, {4, 3}, leaked.data());
    w.write_tensor("masks/leaked", DType::kUInt8, {4, 3}, mask.data());
    // A mask without a parameter, and a moment of the wrong shape.
    w.write_tensor("masks/orphan", DType::kUInt8, {4, 3}, mask.data());
    w.write_tensor("optim/exp_avg/good", DType::kFloat32, {12}, good.data());
    w.write_tensor("optim/exp_avg_sq/good", DType::kFloat32, {4, 3}, good.data());
    w.commit();
  }
  {  // The writer refuses such values, so another program (or a bug) put it there.
    std::vector<uint8_t> two = mask_pattern(4 * 3, 1);
    two[5] = 2;
    h5::File f(H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT));
    h5::Dataset d(H5Dopen2(f.get(), "masks/two", H5P_DEFAULT));
    ASSERT_GE(H5Dwrite(d.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, two.data()), 0);
    // With fresh digests, as a writer would leave it: the check under test is the mask's.
    checkpoint_hdf5::write_chunk_digests(d.get(), TensorInfo{DType::kUInt8, {4, 3}}, file,
                                         "masks/two");
  }
  std::vector<CheckpointProblem> problems = check_consistency(CheckpointReader::open(file));
  std::map<std::string, std::string> by_dataset;
  for (const CheckpointProblem& p : problems) by_dataset[p.dataset] = p.error;
  EXPECT_EQ(problems.size(), 5u);
  EXPECT_NE(by_dataset["masks/shape"].find("[3, 4]"), std::string::npos)
      << by_dataset["masks/shape"];
  EXPECT_NE(by_dataset["masks/two"].find("the first, 2, at row 1, element 2"), std::string::npos)
      << by_dataset["masks/two"];
  EXPECT_NE(by_dataset["params/leaked"].find("1 nonzero values where masks/leaked is 0"),
            std::string::npos)
      << by_dataset["params/leaked"];
  EXPECT_NE(by_dataset["masks/orphan"].find("no parameter params/orphan"), std::string::npos);
  EXPECT_NE(by_dataset["optim/exp_avg/good"].find("[12]"), std::string::npos);
  EXPECT_EQ(by_dataset.count("masks/good"), 0u);
  EXPECT_EQ(by_dataset.count("optim/exp_avg_sq/good"), 0u);
}

// ---------------------------------------------------------------------------------------------
// Checkpoint: an independent reader (h5py)

TEST_F(Checkpoint, H5pyReadsEveryTensorByName) {
  for (bool compressed : {false, true}) {  // Defaults, then float deflate and 1-bit masks.
    const std::string file = path(compressed ? "compressed.h5" : "default.h5");
    CheckpointWriteOptions options;
    options.chunk_bytes = 256;
    if (compressed) {
      options.float_deflate_level = 4;
      options.one_bit_masks = true;
    }
    {
      CheckpointWriter w(file, options);
      // Written as slabs from two "ranks", second rank first.
      std::vector<float> wq = float_pattern(8 * 6, 1);
      w.create_tensor("params/layers.0.attn.wq", DType::kFloat32, {8, 6});
      w.write_rows("params/layers.0.attn.wq", 4, 4, wq.data() + 24);
      w.write_rows("params/layers.0.attn.wq", 0, 4, wq.data());
      w.write_tensor("params/embed", DType::kFloat32, {5, 3, 2}, float_pattern(30, 2).data());
      w.write_tensor("params/final_norm", DType::kFloat32, {6}, float_pattern(6, 3).data());
      w.write_tensor("masks/layers.0.attn.wq", DType::kUInt8, {8, 6}, mask_pattern(48, 4).data());
      w.write_tensor("optim/exp_avg/layers.0.attn.wq", DType::kFloat32, {8, 6},
                     float_pattern(48, 5).data());
      w.write_series("history/active", std::vector<int64_t>{-3, 3, 9, 15});  // i * 6 - 3
      w.write_series("history/lr", std::vector<double>{7, 7.5, 8});          // i * 0.5 + 7
      w.set_attr(checkpoint::kStepAttr, 1234);
      w.commit();
    }
    const std::string script = std::string(JOURNEY_PYTHON " ") + JOURNEY_SOURCE_DIR +
                               "/tests/python/read_checkpoint.py " + file + " --step 1234";
    const std::string tensors =
        " --tensor params/layers.0.attn.wq:float32:8x6:1 --tensor params/embed:float32:5x3x2:2"
        " --tensor params/final_norm:float32:6:3 --tensor masks/layers.0.attn.wq:uint8:8x6:4"
        " --tensor optim/exp_avg/layers.0.attn.wq:float32:8x6:5"
        " --tensor history/active:int64:4:6 --tensor history/lr:float64:3:7";
    auto r = run_process(script + tensors);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("ok, 7 datasets match"), std::string::npos) << r.output;
    // The script can fail: a wrong expectation is reported by name.
    r = run_process(script + tensors + " --tensor params/extra:float32:2:1");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("params/extra is missing"), std::string::npos) << r.output;
    r = run_process(
        script +
        " --tensor params/layers.0.attn.wq:float32:8x6:9 --tensor params/embed:float32:5x3x2:2"
        " --tensor params/final_norm:float32:6:3");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("params/layers.0.attn.wq differs"), std::string::npos) << r.output;
  }
}

// ---------------------------------------------------------------------------------------------
// DirectoryLock

// The probe behind acquire()'s warning about filesystems that ignore flock: another process
// is refused the lock while it is held here, and gets it once it is released.
TEST(DirectoryLockProbe, ToldAHeldLockFromAFreeOne) {
  const std::string dir = ::testing::TempDir() + "journey-lock-probe";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_EQ(DirectoryLock::excludes_other_processes(dir), std::optional<bool>(false));
  {
    DirectoryLock lock = DirectoryLock::acquire(dir, "the lock test");
    EXPECT_EQ(DirectoryLock::excludes_other_processes(dir), std::optional<bool>(true));
  }
  EXPECT_EQ(DirectoryLock::excludes_other_processes(dir), std::optional<bool>(false));
}

// A lock another process holds for a while (a crashed node's lease on a network filesystem)
// is waited for up to the given time: refused before, taken once the holder lets go.
TEST(DirectoryLockWaiting, TakesALockOnceItsHolderLetsGoAndRefusesBefore) {
  const std::string dir = ::testing::TempDir() + "journey-lock-waiting";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const pid_t holder = testing::start_process(
      "flock -x " + DirectoryLock::lock_file(dir) + " sleep 4", dir + ".log");
  // Until the holder has the lock.
  bool held = false;
  for (int i = 0; i < 100 && !held; ++i) {
    try {
      DirectoryLock::acquire(dir, "the lock test");
      usleep(50000);
    } catch (const UsageError&) {
      held = true;
    }
  }
  ASSERT_TRUE(held) << read_file(dir + ".log");
  EXPECT_THROW(DirectoryLock::acquire_waiting(dir, "the lock test", 0.5), UsageError);
  const DirectoryLock lock = DirectoryLock::acquire_waiting(dir, "the lock test", 60);
  EXPECT_EQ(testing::wait_process(holder), 0);
}

// ---------------------------------------------------------------------------------------------
// CheckpointDir

TEST_F(CheckpointDir, FileNamesParseAndSortNumerically) {
  EXPECT_EQ(checkpoint_file_name(1000), "ckpt-000001000.h5");
  EXPECT_EQ(checkpoint_step("ckpt-000001000.h5"), 1000);
  EXPECT_EQ(checkpoint_step("ckpt-12345678901.h5"), 12345678901);
  for (const char* not_one : {"ckpt-.h5", "ckpt-12a.h5", "ckpt-12.h5.tmp", "xckpt-1.h5",
                              ".ckpt-000000001.h5.tmp-1-ab", "ckpt-1.hdf5"}) {
    EXPECT_FALSE(checkpoint_step(not_one).has_value()) << not_one;
  }
  const std::string dir = dir_.string();
  for (const char* name : {"ckpt-1000000000.h5", "ckpt-000000200.h5", "ckpt-000000030.h5",
                           "notes.txt", ".ckpt-000000400.h5.tmp-1-ab"}) {
    std::ofstream(path(name)) << "x";
  }
  std::vector<int64_t> steps;
  for (const CheckpointEntry& e : list_checkpoints(dir)) steps.push_back(e.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{30, 200, 1000000000}));
  EXPECT_TRUE(list_checkpoints(path("absent")).empty());
  EXPECT_FALSE(latest_valid(path("absent")).has_value());
}

TEST_F(CheckpointDir, LatestValidSkipsCorruptAndTruncatedNewerFilesWithAWarning) {
  const std::string dir = dir_.string();
  for (int64_t step : {100, 200, 300, 400})
    write_small_checkpoint(checkpoint_path(dir, step), step);
  corrupt_chunk(checkpoint_path(dir, 300), "params/layers.0.attn.wq", 0);
  fs::resize_file(checkpoint_path(dir, 400), fs::file_size(checkpoint_path(dir, 400)) - 100);
  ::testing::internal::CaptureStderr();
  std::optional<CheckpointEntry> latest = latest_valid(dir);
  const std::string warnings = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->step, 200);
  EXPECT_NE(warnings.find("warning: skipping checkpoint " + checkpoint_path(dir, 400)),
            std::string::npos)
      << warnings;
  EXPECT_NE(warnings.find("warning: skipping checkpoint " + checkpoint_path(dir, 300)),
            std::string::npos)
      << warnings;
  EXPECT_NE(warnings.find("params/layers.0.attn.wq"), std::string::npos) << warnings;
  EXPECT_EQ(warnings.find(checkpoint_path(dir, 200)), std::string::npos) << warnings;
  EXPECT_TRUE(fs::exists(checkpoint_path(dir, 300)));  // Never deleted.
  EXPECT_TRUE(fs::exists(checkpoint_path(dir, 400)));

  // The skipped files, newest first; set aside under names no listing counts, kept whole.
  std::vector<CheckpointEntry> skipped;
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(latest_valid(dir, &skipped)->step, 200);
  ::testing::internal::GetCapturedStderr();
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped[0].step, 400);
  EXPECT_EQ(skipped[1].step, 300);
  const uintmax_t size = fs::file_size(checkpoint_path(dir, 400));
  EXPECT_EQ(set_aside_invalid(skipped[0]), checkpoint_path(dir, 400) + ".invalid");
  write_small_checkpoint(checkpoint_path(dir, 400), 400);  // A resumed run reaches step 400.
  EXPECT_EQ(set_aside_invalid({400, checkpoint_path(dir, 400)}),
            checkpoint_path(dir, 400) + ".invalid-2");
  EXPECT_EQ(fs::file_size(checkpoint_path(dir, 400) + ".invalid"), size);
  std::vector<int64_t> steps;
  for (const CheckpointEntry& e : list_checkpoints(dir)) steps.push_back(e.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{100, 200, 300}));
  EXPECT_EQ(set_aside_invalid({500, checkpoint_path(dir, 500)}), "");  // Absent: not moved.
  fs::create_directory(checkpoint_path(dir, 600));  // Not a file: not ours to move.
  EXPECT_EQ(set_aside_invalid({600, checkpoint_path(dir, 600)}), "");
  EXPECT_TRUE(fs::is_directory(checkpoint_path(dir, 600)));
}

// A run started afresh beside an older one with more steps must not lose its own newest
// checkpoints to the older run's higher step numbers.
TEST_F(CheckpointDir, PruneOnlyTouchesTheCurrentRunsCheckpoints) {
  const std::string dir = dir_.string();
  for (int64_t step : {500, 600})
    write_small_checkpoint(checkpoint_path(dir, step), step, {}, "old");
  for (int64_t step : {100, 200, 300}) {
    write_small_checkpoint(checkpoint_path(dir, step), step, {}, "new");
  }
  EXPECT_EQ(prune_old(dir, 2, "new"), std::vector<std::string>{checkpoint_path(dir, 100)});
  std::vector<int64_t> steps;
  for (const CheckpointEntry& e : list_checkpoints(dir)) steps.push_back(e.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{200, 300, 500, 600}));
}

TEST_F(CheckpointDir, TemporariesOfKilledWritesAreRemoved) {
  const std::string dir = dir_.string();
  write_small_checkpoint(checkpoint_path(dir, 100), 100);
  const std::string stale = dir + "/.ckpt-000000200.h5.tmp-4242-7";
  std::ofstream(stale) << "half a checkpoint";
  const std::string other = dir + "/.notes.tmp-1";
  std::ofstream(other) << "not ours";
  EXPECT_EQ(remove_stale_temporaries(dir), std::vector<std::string>{stale});
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(other));
  EXPECT_TRUE(fs::exists(checkpoint_path(dir, 100)));
}

// Pruning counts the files that open as this run's checkpoints with intact attributes, and
// reads no dataset: a truncated file is neither counted nor deleted; an old file whose data
// is damaged counts like any other and goes when it is old enough.
TEST_F(CheckpointDir, PruneKeepsTheNewestThatOpenAndEveryFileThatDoesNot) {
  const std::string dir = dir_.string();
  for (int64_t step : {100, 200, 300, 400})
    write_small_checkpoint(checkpoint_path(dir, step), step);
  fs::resize_file(checkpoint_path(dir, 400), fs::file_size(checkpoint_path(dir, 400)) / 2);
  corrupt_chunk(checkpoint_path(dir, 100), "params/norm", 0);
  EXPECT_EQ(prune_old(dir, 2, "run-a"), std::vector<std::string>{checkpoint_path(dir, 100)});
  EXPECT_TRUE(prune_old(dir, 2, "run-a").empty());
  EXPECT_EQ(prune_old(dir, 0, "run-a"), std::vector<std::string>{checkpoint_path(dir, 200)});
  std::vector<int64_t> steps;
  for (const CheckpointEntry& e : list_checkpoints(dir)) steps.push_back(e.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{300, 400}));
  EXPECT_EQ(latest_valid(dir)->step, 300);
}

// ---------------------------------------------------------------------------------------------
// Inspect

// Three masked matrices in two layers with known kept counts, and a history.
void write_inspect_checkpoint(const std::string& file) {
  CheckpointWriter w(file);
  auto masked_param = [&](const std::string& name, int64_t rows, int64_t cols, int64_t kept) {
    std::vector<uint8_t> mask(static_cast<size_t>(rows * cols), 0);
    std::fill(mask.begin(), mask.begin() + kept, 1);
    std::vector<float> values = masked(std::vector<float>(mask.size(), 0.5f), mask);
    w.write_tensor("params/" + name, DType::kFloat32, {rows, cols}, values.data());
    w.write_tensor("masks/" + name, DType::kUInt8, {rows, cols}, mask.data());
  };
  masked_param("layers.0.attn.wq", 4, 8, 8);   // 0.75 sparse
  masked_param("layers.0.attn.wk", 4, 8, 16);  // 0.5
  masked_param("layers.1.mlp.w1", 2, 4, 8);    // dense
  w.write_tensor("params/embed", DType::kFloat32, {10, 8}, std::vector<float>(80, 1.0f).data());
  w.write_series("history/active", std::vector<int64_t>{10, 20, 30, 40});
  w.set_attr(checkpoint::kStepAttr, 1000);
  w.set_attr(checkpoint::kTokensSeenAttr, 8192000);
  w.set_attr(checkpoint::kCellIdAttr, "cell-7");
  w.set_attr(checkpoint::kTokenizerHashAttr, "abc123");
  w.set_attr(checkpoint::kWrittenByRanksAttr, 4);
  w.set_attr(checkpoint::kConfigAttr,
             "[model]\nd_model = 8\nn_layers = 2\n\n[prune]\nsparsity = 0.8\n");
  w.set_attr("loss", 3.5);
  w.commit();
}

TEST_F(Inspect, SummaryCountsSparsityPerParameterLayerAndOverall) {
  const std::string file = path("ckpt.h5");
  write_inspect_checkpoint(file);
  CheckpointSummary s = summarize(CheckpointReader::open(file));
  EXPECT_TRUE(s.problems.empty());
  EXPECT_EQ(s.parameter_tensors, 4);
  EXPECT_EQ(s.parameter_count, 32 + 32 + 8 + 80);
  ASSERT_EQ(s.parameters.size(), 3u);
  EXPECT_EQ(s.parameters[0].name, "layers.0.attn.wk");
  EXPECT_DOUBLE_EQ(s.parameters[0].sparsity(), 0.5);
  EXPECT_DOUBLE_EQ(s.parameters[1].sparsity(), 0.75);
  EXPECT_DOUBLE_EQ(s.parameters[2].sparsity(), 0.0);
  ASSERT_EQ(s.layers.size(), 2u);
  EXPECT_EQ(s.layers[0].name, "layers.0.attn");
  EXPECT_EQ(s.layers[0].total, 64);
  EXPECT_EQ(s.layers[0].kept, 24);
  EXPECT_EQ(s.layers[1].name, "layers.1.mlp");
  EXPECT_EQ(s.prunable.total, 72);
  EXPECT_EQ(s.prunable.kept, 32);
  ASSERT_TRUE(s.mean_active.has_value());
  EXPECT_DOUBLE_EQ(*s.mean_active, 25.0);
  EXPECT_EQ(s.history_steps, 4);
  EXPECT_EQ(config_highlights("[model]\nd_model = 8\nrope_base = 1\n[prune]\nsparsity = 0.8\n"),
            (std::vector<std::pair<std::string, std::string>>{{"model.d_model", "8"},
                                                              {"prune.sparsity", "0.8"}}));
}

TEST_F(Inspect, PrintsTheSummaryAndExits0) {
  const std::string file = path("ckpt.h5");
  write_inspect_checkpoint(file);
  auto r = run_process(journey_command("inspect " + file));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* expected :
       {"step        1000", "tokens      8192000", "cell        cell-7", "tokenizer   abc123",
        "written by 4 ranks", "model.d_model=8", "prune.sparsity=0.8", "attribute   loss = 3.5",
        "layers.0.attn.wq 0.7500  (8 of 32 kept)", "layers.0.attn    0.6250  (24 of 64 kept)",
        "0.5556 of prunable weights (32 of 72 kept)", "N-bar       25.0", "verify      OK"}) {
    EXPECT_NE(r.output.find(expected), std::string::npos) << expected << "\n" << r.output;
  }
}

TEST_F(Inspect, JsonOutputIsMachineReadable) {
  const std::string file = path("ckpt.h5");
  write_inspect_checkpoint(file);
  auto r = run_process(journey_command("inspect --json " + file));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["attributes"]["step"], 1000);
  EXPECT_EQ(j["attributes"]["cell_id"], "cell-7");
  EXPECT_EQ(j["sparsity"]["prunable"]["kept"], 32);
  EXPECT_EQ(j["sparsity"]["layers"][0]["name"], "layers.0.attn");
  EXPECT_DOUBLE_EQ(j["n_bar"].get<double>(), 25.0);
  EXPECT_EQ(j["config_highlights"]["prune.sparsity"], "0.8");
  EXPECT_TRUE(j["problems"].empty());
}

TEST_F(Inspect, CorruptionExits1NamingEachProblem) {
  const std::string file = path("ckpt.h5");
  write_small_checkpoint(file, 100);
  corrupt_chunk(file, "params/norm", 0);
  corrupt_chunk(file, "optim/exp_avg_sq/layers.0.attn.wq", 0);
  auto r = run_process(journey_command("inspect " + file));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAILED: 2 problems"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  params/norm: cannot read"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("  optim/exp_avg_sq/layers.0.attn.wq: cannot read"), std::string::npos)
      << r.output;
  r = run_process(journey_command("inspect --json " + file));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(nlohmann::json::parse(r.output)["problems"].size(), 2u) << r.output;
}

TEST_F(Inspect, AnEditedConfigIsNotVerifyOk) {
  const std::string file = path("edited.h5");
  write_small_checkpoint(file, 100);
  edit_string_attr(file, checkpoint::kCreatedAttr, "2000-01-01T00:00:00Z");
  const auto r = run_process(journey_command("inspect " + file));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("changed after the checkpoint was written"), std::string::npos)
      << r.output;
}

TEST_F(Inspect, MaskDisagreementExits1) {
  const std::string file = path("ckpt.h5");
  {
    CheckpointWriter w(file);
    std::vector<float> values(6, 1.0f);
    std::vector<uint8_t> mask = {1, 1, 0, 1, 1, 1};
    w.write_tensor("params/w", DType::kFloat32, {2, 3}, values.data());
    w.write_tensor("masks/w", DType::kUInt8, {2, 3}, mask.data());
    w.commit();
  }
  auto r = run_process(journey_command("inspect " + file));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("params/w: has 1 nonzero values where masks/w is 0"), std::string::npos)
      << r.output;
}

TEST_F(Inspect, FilesThatAreNotCheckpointsExit1NamingTheFile) {
  std::ofstream(path("text.h5")) << "hello\n";
  write_foreign_hdf5(path("foreign.h5"), nullptr);
  for (const std::string& file : {path("absent.h5"), path("text.h5"), path("foreign.h5")}) {
    auto r = run_process(journey_command("inspect " + file));
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find("journey inspect: error: "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(file), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("HDF5-DIAG"), std::string::npos) << r.output;  // Silenced.
  }
}

TEST_F(Inspect, CommandLineMistakesExit2) {
  EXPECT_EQ(run_process(journey_command("inspect")).exit_code, 2);
  EXPECT_EQ(run_process(journey_command("inspect a.h5 b.h5")).exit_code, 2);
  EXPECT_EQ(run_process(journey_command("inspect --frobnicate a.h5")).exit_code, 2);
  auto r = run_process(journey_command("inspect --help"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("usage: journey inspect CKPT"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace journey
