#include "sweep/ledger.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/error.h"
#include "io/atomic_file.h"

namespace journey {
namespace {

// The [dataset] line of an identity that holds the data's fingerprint.
constexpr char kDataLine[] = "data = ";

// Version 2 keeps each cell's run summary under "run"; version 1 ledgers are still read.
constexpr int kLedgerVersion = 2;

std::string ledger_path(const std::string& dir) {
  return dir + "/ledger.json";
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError("cannot read " + path);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw DataError(path + " is not valid JSON (" + e.what() + ")");
  }
}

// The first line where two identities differ, to say what changed.
std::string describe_change(const std::string& stored, const std::string& wanted) {
  std::istringstream a(stored), b(wanted);
  std::string la, lb, section;
  while (std::getline(a, la) && std::getline(b, lb)) {
    if (!la.empty() && la[0] == '[') section = la.substr(1, la.find(']') - 1) + ".";
    if (la != lb) return "it has " + section + la + ", this run has " + section + lb;
  }
  return "the configs differ";
}

// An identity without its [sweep] section: what may not change when a sweep grows.
std::string without_grid(const std::string& identity) {
  std::istringstream in(identity);
  std::string line, kept;
  bool in_grid = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '[') in_grid = line == "[sweep]";
    if (!in_grid) kept += line + "\n";
  }
  return kept;
}

// An identity without its [dataset] data line (ledgers written before it was recorded).
std::string without_data(const std::string& identity) {
  std::istringstream in(identity);
  std::string line, kept, section;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '[') section = line;
    if (section != "[dataset]" || line.rfind(kDataLine, 0) != 0) kept += line + "\n";
  }
  return kept;
}

// Whether a record may take the new grid's config for its cell: nothing of it has run.
bool never_started(const CellRecord& r) {
  return r.status == CellStatus::kPending && r.attempts == 0;
}

// "" when the record's cell may have `wanted`'s config, else what differs. Ledgers written
// before config_sha256 are compared on lr and batch, the values the grid sets per size.
std::string cell_change(const CellRecord& stored, const CellRecord& wanted) {
  const auto show = [](const CellRecord& r) {
    std::ostringstream text;
    text << "lr " << r.lr << ", batch " << r.batch_tokens << " tokens";
    return text.str();
  };
  const bool same_lr = stored.lr == 0 || stored.lr == wanted.lr;
  const bool same_batch = stored.batch_tokens == 0 || stored.batch_tokens == wanted.batch_tokens;
  const bool same_config =
      stored.config_sha256.empty() || stored.config_sha256 == wanted.config_sha256;
  if (same_lr && same_batch && same_config) return "";
  if (same_lr && same_batch) return "its config differs (the same lr and batch)";
  return "it was run with " + show(stored) + ", this config gives it " + show(wanted);
}

void check_cells(const std::string& dir, const std::vector<CellRecord>& records,
                 const std::vector<Cell>& cells) {
  for (const Cell& cell : cells) {
    for (const CellRecord& r : records) {
      if (r.id != cell.id || never_started(r)) continue;
      const std::string change = cell_change(r, CellRecord::from_cell(cell));
      if (change.empty()) continue;
      throw UsageError("output directory " + dir + " holds cell " + cell.id + " and " + change +
                       ": a sweep directory may gain cells but not change the ones it has; use "
                       "another --out, or the original config");
    }
  }
}

// A directory without a ledger may still hold results: a published or merged results
// directory (journey report DIR reads those) or a sweep whose ledger was removed. A sweep
// writing there would replace its results.csv and results.h5, so it is refused.
void refuse_results_without_ledger(const std::string& dir) {
  for (const char* name : {"results.csv", "results.h5", "fit.json", "fit.csv", "cells"}) {
    if (std::filesystem::exists(dir + "/" + name)) {
      throw UsageError("output directory " + dir + " holds " + name + " but no ledger.json: " +
                       "results of a sweep this command cannot resume (a published or merged "
                       "results directory?), which it would overwrite; use another --out");
    }
  }
}

}  // namespace

std::string sweep_identity(const RunConfig& base, const std::string& tokenizer_hash,
                           const std::string& data_fingerprint) {
  return result_identity(base) + "\n[dataset]\ntokenizer = " + tokenizer_hash + "\n" + kDataLine +
         data_fingerprint + "\n";
}

Ledger Ledger::open_or_create(const std::string& dir, const std::string& identity,
                              const std::vector<Cell>& cells) {
  Ledger ledger;
  ledger.dir_ = dir;
  ledger.identity_ = identity;
  if (!std::filesystem::exists(ledger_path(dir))) {
    refuse_results_without_ledger(dir);
  } else {
    Ledger stored = load(dir);
    refuse_changes(stored, identity, cells);
    ledger.records_ = std::move(stored.records_);
    for (CellRecord& r : ledger.records_) {
      if (r.status == CellStatus::kRunning) {
        r.status = CellStatus::kPreempted;
        r.reason = "the previous sweep process ended while this cell ran";
      }
    }
  }
  for (const Cell& cell : cells) {
    auto known = std::find_if(ledger.records_.begin(), ledger.records_.end(),
                              [&](const CellRecord& r) { return r.id == cell.id; });
    if (known == ledger.records_.end()) {
      ledger.records_.push_back(CellRecord::from_cell(cell));
    } else if (never_started(*known)) {
      *known = CellRecord::from_cell(cell);
    }
  }
  return ledger;
}

void Ledger::check_identity(const std::string& dir, const std::string& identity,
                            const std::vector<Cell>& cells) {
  if (std::filesystem::exists(ledger_path(dir))) {
    refuse_changes(load(dir), identity, cells);
  } else {
    refuse_results_without_ledger(dir);
  }
}

void Ledger::refuse_changes(const Ledger& stored, const std::string& identity,
                            const std::vector<Cell>& cells) {
  const std::string& dir = stored.dir_;
  const std::string fixed = without_grid(stored.identity_);
  std::string wanted = without_grid(identity);
  if (without_data(fixed) == fixed) wanted = without_data(wanted);  // Recorded no data yet.
  if (fixed != wanted && without_data(fixed) == without_data(wanted)) {
    throw UsageError("output directory " + dir + " holds a sweep trained on other data (" +
                     describe_change(fixed, wanted) +
                     "): data.dir must hold the sweep's dataset (the same data prepared again "
                     "or moved is accepted); use another --out for new data");
  }
  if (fixed != wanted) {
    throw UsageError("output directory " + dir + " holds a sweep with a different config (" +
                     describe_change(fixed, wanted) +
                     "); only [sweep] may change, to add cells; use another --out, or the "
                     "original config to resume");
  }
  check_cells(dir, stored.records_, cells);
}

Ledger Ledger::load(const std::string& dir) {
  const std::string path = ledger_path(dir);
  if (!std::filesystem::exists(path)) {
    throw DataError(dir + " is not a sweep directory: " + path + " does not exist");
  }
  nlohmann::json j = read_json(path);
  Ledger ledger;
  ledger.dir_ = dir;
  try {
    if (j.at("format").get<std::string>() != "journey-ledger") {
      throw DataError(path + " is not a Journey ledger");
    }
    // Compared as JSON, not converted first: get<int>() of 1e300 is undefined behaviour.
    const nlohmann::json& version = j.at("version");
    if (version != kLedgerVersion && version != 1) {
      throw DataError(path + " has ledger version " + j.at("version").dump() + ", expected 1 or " +
                      std::to_string(kLedgerVersion));
    }
    ledger.identity_ = j.at("identity").get<std::string>();
    for (const auto& cell : j.at("cells")) {
      try {
        ledger.records_.push_back(CellRecord::from_json(cell, version.get<int>()));
      } catch (const DataError& e) {
        throw DataError(path + ": " + e.what());
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw DataError(path + " is malformed (" + e.what() + ")");
  }
  return ledger;
}

CellRecord& Ledger::at(const std::string& id) {
  for (CellRecord& r : records_) {
    if (r.id == id) return r;
  }
  throw std::logic_error("no cell " + id + " in the ledger");
}

std::vector<std::string> sizes_with_several_rates(const Ledger& ledger) {
  std::vector<std::string> sizes;
  std::map<std::string, double> first_rate;
  for (const CellRecord& r : ledger.records()) {
    if (r.status != CellStatus::kDone) continue;
    const auto [it, first] = first_rate.emplace(r.size, r.lr);
    if (!first && it->second != r.lr &&
        std::find(sizes.begin(), sizes.end(), r.size) == sizes.end()) {
      sizes.push_back(r.size);
    }
  }
  return sizes;
}

int Ledger::count(CellStatus status) const {
  int n = 0;
  for (const CellRecord& r : records_) n += r.status == status;
  return n;
}

void Ledger::save() const {
  nlohmann::json j;
  j["format"] = "journey-ledger";
  j["version"] = kLedgerVersion;
  j["identity"] = identity_;
  j["cells"] = nlohmann::json::array();
  for (const CellRecord& r : records_) j["cells"].push_back(r.to_json());
  write_file_atomically(ledger_path(dir_), j.dump(1) + "\n");
}

}  // namespace journey
