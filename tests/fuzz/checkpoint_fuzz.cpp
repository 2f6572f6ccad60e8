// Fuzz target: a checkpoint file, read as `journey inspect` reads it (CheckpointReader::open,
// then summarize(): verify() of every dataset and the attributes, the consistency checks and
// the mask counts), its config attribute as `journey eval-tokens` parses it, and its history as
// a resumed run loads it (MetricsHistory::load). Expected errors are DataError (and UsageError
// for a config attribute that does not parse); any other exception, a crash or undefined
// behaviour in our code is a finding. A crash inside libhdf5 itself is HDF5's bug, not ours:
// docs/fuzzing.md says how such inputs are recorded.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "common/config.h"
#include "common/error.h"
#include "io/checkpoint_file.h"
#include "io/checkpoint_summary.h"
#include "run/metrics_history.h"
#include "tests/fuzz/fuzz_files.h"

using namespace journey;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_scratch_file("checkpoint.h5", data, size);
  try {
    const CheckpointReader reader = CheckpointReader::open(path);
    const CheckpointSummary summary = summarize(reader);
    for (const auto& [name, value] : summary.attributes) {
      if (name != checkpoint::kConfigAttr || !std::holds_alternative<std::string>(value)) continue;
      const std::string& ini = std::get<std::string>(value);
      config_highlights(ini);
      try {
        validate(parse_config_text(ini, "the config stored in " + path));
      } catch (const UsageError&) {
      }
    }
    MetricsHistory::load(reader);
  } catch (const DataError&) {
  }
  return 0;
}
