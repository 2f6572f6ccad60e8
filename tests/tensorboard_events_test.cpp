// TensorBoard event files (run/tensorboard_events.h): the CRC-32C that frames every record,
// against the standard check value, and the framing of a written file. That TensorBoard's
// own reader reads the files, purges a resumed run's repeated steps and gets the values is
// Resume.TensorBoardShowsEachStepOnceAcrossAResume (resume_test.cpp).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "run/tensorboard_events.h"

namespace journey {
namespace {

TEST(TensorBoardEvents, MaskedCrc32cOfTheCheckStringIsTheStandardOneMasked) {
  // CRC-32C("123456789") = 0xE3069283 (RFC 3720 and every CRC catalogue); TFRecord masks a
  // CRC by rotating it right by 15 bits and adding 0xa282ead8.
  const uint32_t crc = 0xE3069283u;
  const uint32_t masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
  EXPECT_EQ(tfrecord_masked_crc32c("123456789", 9), masked);
  EXPECT_NE(tfrecord_masked_crc32c("123456788", 9), masked);
}

TEST(TensorBoardEvents, EveryRecordIsFramedByItsLengthAndChecksums) {
  const std::string dir = ::testing::TempDir() + "journey-tensorboard-events";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path;
  {
    TensorBoardEvents events(dir, /*resumed_at=*/16);
    StepRecord r;
    r.step = 16;
    r.loss = 3.5;
    events.add_step(r);
    events.add_eval({17, 3.25});
    path = events.path();
  }
  EXPECT_NE(path.find("/events.out.tfevents."), std::string::npos) << path;
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // file_version, SessionLog START, six train scalars, one eval scalar.
  int records = 0;
  size_t at = 0;
  while (at < bytes.size()) {
    ASSERT_LE(at + 12, bytes.size());
    uint64_t length = 0;
    uint32_t length_crc = 0, data_crc = 0;
    std::memcpy(&length, bytes.data() + at, 8);
    std::memcpy(&length_crc, bytes.data() + at + 8, 4);
    EXPECT_EQ(length_crc, tfrecord_masked_crc32c(bytes.data() + at, 8));
    ASSERT_LE(at + 12 + length + 4, bytes.size());
    std::memcpy(&data_crc, bytes.data() + at + 12 + length, 4);
    EXPECT_EQ(data_crc, tfrecord_masked_crc32c(bytes.data() + at + 12, length));
    at += 12 + length + 4;
    ++records;
  }
  EXPECT_EQ(records, 9);
  EXPECT_NE(bytes.find("brain.Event:2"), std::string::npos);
  EXPECT_NE(bytes.find("train/loss"), std::string::npos);
  EXPECT_NE(bytes.find("eval/loss"), std::string::npos);
}

}  // namespace
}  // namespace journey
