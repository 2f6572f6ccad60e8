// Fuzz target: a config file, as every command that takes --config reads it (app/cli.cpp):
// parse_config() then validate(); and the same text as parse_config_text() reads the config
// stored in a checkpoint or sent to a worker group. Expected errors are UsageError.
// Contract checked beyond "no crash, no undefined behaviour": a config that validates prints
// (to_ini) as text that parses back to the same config, as every run's saved config.ini must.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/config.h"
#include "common/error.h"
#include "tests/fuzz/fuzz_files.h"

using namespace journey;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_scratch_file("config.ini", data, size);
  try {
    const RunConfig config = parse_config(path, {});
    validate(config);
    const std::string ini = to_ini(config);
    RunConfig reread;
    try {
      reread = parse_config_text(ini, "to_ini() of a valid config");
    } catch (const UsageError& e) {
      fuzz::contract_broken(e.what());
    }
    if (to_ini(reread) != ini) fuzz::contract_broken("to_ini() does not parse back to itself");
  } catch (const UsageError&) {
  }
  try {
    validate(parse_config_text(std::string(reinterpret_cast<const char*>(data), size), "input"));
  } catch (const UsageError&) {
  }
  return 0;
}
