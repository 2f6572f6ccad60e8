#include "run/tensorboard_events.h"

#include <unistd.h>

#include <boost/crc.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/log.h"

namespace journey {
namespace {

// Protocol buffer wire format: a field's key is (number << 3) | wire type.
constexpr uint8_t kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5;

void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

void put_key(std::string& out, int field, uint8_t wire_type) {
  put_varint(out, (static_cast<uint64_t>(field) << 3) | wire_type);
}

template <typename T>
void put_little_endian(std::string& out, T value) {
  char bytes[sizeof value];
  std::memcpy(bytes, &value, sizeof value);  // x86 and ARM are little-endian, as protobuf is.
  out.append(bytes, sizeof value);
}

void put_bytes(std::string& out, int field, const std::string& bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out += bytes;
}

double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Event { double wall_time = 1; int64 step = 2; <body> }
std::string event(int64_t step, const std::string& body) {
  std::string out;
  put_key(out, 1, kFixed64);
  put_little_endian(out, unix_seconds());
  put_key(out, 2, kVarint);
  put_varint(out, static_cast<uint64_t>(step));
  return out + body;
}

}  // namespace

uint32_t tfrecord_masked_crc32c(const void* data, size_t size) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(data, size);
  const uint32_t value = crc.checksum();
  return ((value >> 15) | (value << 17)) + 0xa282ead8u;
}

TensorBoardEvents::TensorBoardEvents(const std::string& dir, int64_t resumed_at) {
  char host[256] = "host";
  gethostname(host, sizeof host - 1);
  // Microseconds: TensorBoard reads a directory's files in name order, and a resumed run's
  // file must come after the files it continues (16 digits until the year 2286).
  path_ = dir + "/events.out.tfevents." +
          std::to_string(static_cast<int64_t>(unix_seconds() * 1e6)) + "." + host + "." +
          std::to_string(getpid());
  file_ = std::fopen(path_.c_str(), "wb");
  if (file_ == nullptr) {
    log::warn("no TensorBoard file: cannot create " + path_ + ": " + std::strerror(errno));
    return;
  }
  std::string version;
  put_bytes(version, 3, "brain.Event:2");
  write_record(event(0, version));
  if (resumed_at > 0) {
    std::string session_log;  // SessionLog { status = START (1) }
    put_key(session_log, 1, kVarint);
    put_varint(session_log, 1);
    std::string body;
    put_bytes(body, 7, session_log);
    // TensorBoard drops the points at this step and later: the first step trained again.
    write_record(event(resumed_at + 1, body));
  }
  flush();
}

TensorBoardEvents::~TensorBoardEvents() {
  if (file_ != nullptr) std::fclose(file_);
}

void TensorBoardEvents::add_step(const StepRecord& r) {
  const int64_t step = r.step + 1;
  add_scalar("train/loss", step, r.loss);
  add_scalar("train/lr", step, r.lr);
  add_scalar("train/grad_norm", step, r.grad_norm);
  add_scalar("train/density", step, r.density);
  add_scalar("train/tokens_per_s", step, r.tokens_per_s);
  add_scalar("train/mfu", step, r.mfu);
  flush();
}

void TensorBoardEvents::add_eval(const EvalRecord& e) {
  add_scalar("eval/loss", e.step, e.loss);
  flush();
}

// Summary { repeated Value value = 1; }  Value { string tag = 1; float simple_value = 2; }
void TensorBoardEvents::add_scalar(const std::string& tag, int64_t step, double value) {
  std::string summary_value;
  put_bytes(summary_value, 1, tag);
  put_key(summary_value, 2, kFixed32);
  put_little_endian(summary_value, static_cast<float>(value));
  std::string summary;
  put_bytes(summary, 1, summary_value);
  std::string body;
  put_bytes(body, 5, summary);
  write_record(event(step, body));
}

void TensorBoardEvents::write_record(const std::string& event) {
  if (file_ == nullptr) return;
  std::string record;
  put_little_endian(record, static_cast<uint64_t>(event.size()));
  put_little_endian(record, tfrecord_masked_crc32c(record.data(), 8));
  record += event;
  put_little_endian(record, tfrecord_masked_crc32c(event.data(), event.size()));
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size()) {
    log::warn("TensorBoard file " + path_ + " dropped: " + std::strerror(errno));
    std::fclose(file_);
    file_ = nullptr;
  }
}

void TensorBoardEvents::flush() {
  if (file_ != nullptr && std::fflush(file_) != 0) {
    log::warn("TensorBoard file " + path_ + " dropped: " + std::strerror(errno));
    std::fclose(file_);
    file_ = nullptr;
  }
}

}  // namespace journey
