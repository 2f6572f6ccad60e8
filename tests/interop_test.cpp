// interop/safetensors_reader.h: dtype conversion and the refusal of files whose header does
// not fit their bytes. (`journey import` and `journey export` are tested end to end in
// worker_test.cpp, WorkerTrainRun.*HuggingFace*.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "interop/safetensors_reader.h"
#include "interop/safetensors_writer.h"

namespace journey {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class SafetensorsReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "journey-safetensors-" + std::to_string(getpid());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A file of `header` (padded, length-prefixed) and `data`, as written by hand.
  std::string write(const std::string& name, const json& header, const std::string& data,
                    std::optional<uint64_t> claimed_length = {}) {
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    const uint64_t length = claimed_length.value_or(text.size());
    std::string file(8, '\0');
    std::memcpy(file.data(), &length, 8);
    file += text + data;
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << file;
    return path;
  }

  // The DataError's message of opening `path`, or "" when it opens.
  static std::string open_error(const std::string& path) {
    try {
      SafetensorsReader::open(path);
    } catch (const DataError& e) {
      return e.what();
    }
    return "";
  }

  std::string dir_;
};

std::string halves(const std::vector<uint16_t>& values) {
  std::string bytes(values.size() * 2, '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

TEST_F(SafetensorsReaderTest, ConvertsF16AndBF16ToFloat32Exactly) {
  // F16: 1, -2, 0.5, the largest (65504), the smallest subnormal (2^-24), -0, +inf.
  // BF16: 1, -3, 2^-133 (subnormal), 3.3895e38 (the largest).
  const std::vector<uint16_t> f16 = {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x8000, 0x7C00};
  const std::vector<uint16_t> bf16 = {0x3F80, 0xC040, 0x0001, 0x7F7F};
  const std::string path =
      write("halves.safetensors",
            {{"a", {{"dtype", "F16"}, {"shape", {7}}, {"data_offsets", {0, 14}}}},
             {"b", {{"dtype", "BF16"}, {"shape", {2, 2}}, {"data_offsets", {14, 22}}}}},
            halves(f16) + halves(bf16));
  const SafetensorsReader reader = SafetensorsReader::open(path);
  const std::vector<float> a = reader.read_f32("a");
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(a[0], 1.0f);
  EXPECT_EQ(a[1], -2.0f);
  EXPECT_EQ(a[2], 0.5f);
  EXPECT_EQ(a[3], 65504.0f);
  EXPECT_EQ(a[4], std::ldexp(1.0f, -24));
  EXPECT_TRUE(a[5] == 0.0f && std::signbit(a[5]));
  EXPECT_EQ(a[6], std::numeric_limits<float>::infinity());
  const std::vector<float> b = reader.read_f32("b");
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b[0], 1.0f);
  EXPECT_EQ(b[1], -3.0f);
  EXPECT_EQ(b[2], std::ldexp(1.0f, -133));
  EXPECT_EQ(b[3], 3.3895313892515355e38f);
  EXPECT_EQ(reader.tensor("b").shape, (std::vector<int64_t>{2, 2}));
}

TEST_F(SafetensorsReaderTest, ReadsWhatTheWriterWrites) {
  SafetensorsWriter writer;
  writer.add_f32("w", {2, 3}, {1, 2, 3, 4, 5, 6});
  writer.add_i32("i", {7, -8});
  writer.add_i64("j", {int64_t{1} << 40});
  writer.set_metadata("w.note", "hello");
  writer.write(dir_ + "/w.safetensors");
  const SafetensorsReader reader = SafetensorsReader::open(dir_ + "/w.safetensors");
  EXPECT_EQ(reader.names(), (std::vector<std::string>{"i", "j", "w"}));
  EXPECT_EQ(reader.read_f32("w"), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(reader.read_i64("i"), (std::vector<int64_t>{7, -8}));
  EXPECT_EQ(reader.read_i64("j"), (std::vector<int64_t>{int64_t{1} << 40}));
  EXPECT_EQ(reader.metadata().at("w.note"), "hello");
  try {
    reader.read_f32("i");
    FAIL() << "an I32 tensor was read as float";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("tensor i is I32"), std::string::npos) << e.what();
  }
  try {
    reader.tensor("missing");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("has no tensor missing"), std::string::npos);
  }
}

TEST_F(SafetensorsReaderTest, RefusesFilesWhoseHeaderDoesNotFitTheirBytes) {
  const std::string four(16, '\1');
  auto entry = [](const char* dtype, std::vector<int64_t> shape, uint64_t b, uint64_t e) {
    return json{{"dtype", dtype}, {"shape", shape}, {"data_offsets", {b, e}}};
  };
  struct Case {
    std::string name, path, expect;
  };
  const std::vector<Case> cases = {
      {"short", write("short", json::object(), "", 0), ""},  // Replaced below.
      {"length", write("length", {{"t", entry("F32", {4}, 0, 16)}}, four, 1 << 20),
       "exceeds the file"},
      {"past-end", write("past-end", {{"t", entry("F32", {4}, 8, 24)}}, four),
       "tensor t: data_offsets [8, 24] lie outside"},
      {"shape", write("shape", {{"t", entry("F32", {3}, 0, 16)}}, four),
       "tensor t: data_offsets hold 16 bytes"},
      {"dtype", write("dtype", {{"t", entry("Q7", {4}, 0, 16)}}, four),
       "tensor t: unknown dtype Q7"},
      {"overlap",
       write("overlap", {{"t", entry("F32", {2}, 0, 8)}, {"u", entry("F32", {3}, 4, 16)}}, four),
       "tensor u: its bytes overlap tensor t's"},
      {"not-json", write("not-json", "just a string", four), "not a JSON object"},
  };
  std::ofstream(dir_ + "/short", std::ios::binary | std::ios::trunc) << "abc";
  EXPECT_NE(open_error(dir_ + "/short").find(dir_ + "/short"), std::string::npos);
  for (size_t i = 1; i < cases.size(); ++i) {
    const std::string error = open_error(cases[i].path);
    EXPECT_NE(error.find(cases[i].path), std::string::npos) << cases[i].name << ": " << error;
    EXPECT_NE(error.find(cases[i].expect), std::string::npos) << cases[i].name << ": " << error;
  }
  EXPECT_NE(open_error(dir_ + "/absent").find(dir_ + "/absent"), std::string::npos);
}

}  // namespace
}  // namespace journey
