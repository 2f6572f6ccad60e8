// Fuzz target: a sweep's ledger.json, as `journey status`, `journey report` and a resumed sweep
// load it (Ledger::load), then the results table a sweep writes from it (write_results:
// results.csv and results.h5) and `journey fit` reading that results.csv back
// (read_results_csv). Expected errors are DataError (from the ledger, or from a results.csv
// with too few usable runs); anything else is a finding: what the ledger reader accepts, the
// results writer must be able to write.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/error.h"
#include "fit/results_csv.h"
#include "sweep/ledger.h"
#include "sweep/results_table.h"
#include "tests/fuzz/fuzz_files.h"

using namespace journey;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = fuzz::scratch_dir() + "/sweep";
  std::filesystem::create_directories(dir);
  fuzz::write_scratch_file("sweep/ledger.json", data, size);
  try {
    const Ledger ledger = Ledger::load(dir);
    write_results(ledger);
    read_results_csv(dir);
  } catch (const DataError&) {
  }
  return 0;
}
