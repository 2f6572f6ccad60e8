// A small prepared dataset for tests that train: the Emma fixture (tests/data/austen-emma.txt)
// with a 512-piece tokenizer, prepared once into the build tree and reused by every test
// process after that (prepare writes to a temporary directory and renames it, so a
// half-made fixture is never seen).
#pragma once

#include <filesystem>
#include <string>

#include "tests/subprocess.h"

namespace journey::testing {

inline constexpr int kTestVocab = 512;

inline std::string test_dataset_dir() {
  const std::string dir = std::string(JOURNEY_BUILD_DIR) + "/test-fixtures/emma-v512";
  if (!std::filesystem::exists(dir + "/manifest.json")) {
    std::filesystem::create_directories(std::string(JOURNEY_BUILD_DIR) + "/test-fixtures");
    ProcessResult r = run_process(journey_command("prepare --data.sources=" JOURNEY_SOURCE_DIR
                                                  "/tests/data/austen-emma.txt "
                                                  "--data.vocab_size=" +
                                                  std::to_string(kTestVocab) +
                                                  " --data.val_fraction=0.1 "
                                                  "--data.dir=" +
                                                  dir));
    if (r.exit_code != 0 && !std::filesystem::exists(dir + "/manifest.json")) {
      throw std::runtime_error("could not prepare the test dataset: " + r.output);
    }
  }
  return dir;
}

// The same text and tokenizer split differently (a fifth for validation): other data that a
// run or sweep of test_dataset_dir() must not continue on.
inline std::string other_test_dataset_dir() {
  const std::string dir = std::string(JOURNEY_BUILD_DIR) + "/test-fixtures/emma-v512-val20";
  if (!std::filesystem::exists(dir + "/manifest.json")) {
    const std::string tokenizer = test_dataset_dir() + "/tokenizer.model";
    ProcessResult r = run_process(journey_command("prepare --data.sources=" JOURNEY_SOURCE_DIR
                                                  "/tests/data/austen-emma.txt --data.vocab_size=" +
                                                  std::to_string(kTestVocab) +
                                                  " --data.val_fraction=0.2 --tokenizer " +
                                                  tokenizer + " --data.dir=" + dir));
    if (r.exit_code != 0 && !std::filesystem::exists(dir + "/manifest.json")) {
      throw std::runtime_error("could not prepare the second test dataset: " + r.output);
    }
  }
  return dir;
}

}  // namespace journey::testing
