#include "sweep/ledger.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "io/atomic_file.h"

namespace journey {
namespace {

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

}  // namespace

std::string sweep_identity(const RunConfig& base, const std::string& tokenizer_hash) {
  return result_identity(base) + "\n[dataset]\ntokenizer = " + tokenizer_hash + "\n";
}

Ledger Ledger::open_or_create(const std::string& dir, const std::string& identity,
                              const std::vector<Cell>& cells) {
  Ledger ledger;
  ledger.dir_ = dir;
  ledger.identity_ = identity;
  if (std::filesystem::exists(ledger_path(dir))) {
    check_identity(dir, identity);
    Ledger stored = load(dir);
    ledger.records_ = std::move(stored.records_);
    for (CellRecord& r : ledger.records_) {
      if (r.status == CellStatus::kRunning) {
        r.status = CellStatus::kPreempted;
        r.reason = "the previous sweep process ended while this cell ran";
      }
    }
  }
  for (const Cell& cell : cells) {
    bool known = false;
    for (const CellRecord& r : ledger.records_) known = known || r.id == cell.id;
    if (!known) ledger.records_.push_back(CellRecord::from_cell(cell));
  }
  return ledger;
}

void Ledger::check_identity(const std::string& dir, const std::string& identity) {
  if (!std::filesystem::exists(ledger_path(dir))) return;
  const Ledger stored = load(dir);
  if (stored.identity_ != identity) {
    throw UsageError("output directory " + dir + " holds a sweep with a different config (" +
                     describe_change(stored.identity_, identity) +
                     "); use another --out, or the original config to resume");
  }
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
