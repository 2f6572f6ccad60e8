// Writes the generated seeds of the fuzz corpus with the project's own writers, so that the
// fuzzers start from files the program really writes (docs/fuzzing.md lists every seed and
// where it comes from). Run it again when a format changes:
//
//   build-fuzz/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
//
// Writes CORPUS/token_shard/{valid,truncated}.tok, CORPUS/checkpoint/{valid,one-bit-deflated}.h5,
// CORPUS/ledger/{generated,version-1}.json and CORPUS/results_csv/generated.csv.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/config.h"
#include "io/checkpoint_file.h"
#include "io/token_shard.h"
#include "run/metrics_history.h"
#include "schedules/grid.h"
#include "sweep/ledger.h"
#include "sweep/results_table.h"
#include "tests/test_files.h"

namespace fs = std::filesystem;
using namespace journey;

namespace {

// A small sweep: 2 sizes x (dense, 0.5) x 2 durations = 8 cells, enough for a fit (kMinRuns).
RunConfig small_config() {
  RunConfig config;
  config.model.seq_len = 16;
  config.train.batch_tokens = 64;
  config.data.vocab_size = 320;
  config.sweep.sizes = "16x1x2 24x1x2";
  config.sweep.sparsities = "0 0.5";
  config.sweep.tokens_per_param = "1 2";
  return config;
}

void write_token_shards(const std::string& dir) {
  const std::string valid = dir + "/valid.tok";
  TokenShardWriter writer(valid, 512);
  writer.add_document({1, 17, 300, 42, 511});
  writer.add_document(std::vector<uint16_t>{});
  writer.add_document({1, 2, 3});
  writer.finish();
  const std::string bytes = testing::read_file(valid);
  std::ofstream(dir + "/truncated.tok", std::ios::binary) << bytes.substr(0, bytes.size() - 10);
}

void write_checkpoint(const std::string& path, const CheckpointWriteOptions& options) {
  CheckpointWriter writer(path, options);
  const std::vector<float> embed(8 * 4, 0.25f);
  std::vector<float> wq(4 * 4);
  std::vector<uint8_t> mask(4 * 4);
  for (size_t i = 0; i < wq.size(); ++i) {
    mask[i] = i % 3 != 0;
    wq[i] = mask[i] ? 0.1f * static_cast<float>(i) : 0.0f;
  }
  writer.write_tensor("params/embed", DType::kFloat32, {8, 4}, embed.data());
  writer.write_tensor("params/layers.0.attn.wq", DType::kFloat32, {4, 4}, wq.data());
  writer.write_tensor("masks/layers.0.attn.wq", DType::kUInt8, {4, 4}, mask.data());
  writer.write_tensor("optim/exp_avg/layers.0.attn.wq", DType::kFloat32, {4, 4}, wq.data());
  writer.write_tensor("optim/exp_avg_sq/layers.0.attn.wq", DType::kFloat32, {4, 4}, wq.data());
  MetricsHistory history;
  for (int64_t t = 0; t < 3; ++t) {
    StepRecord step;
    step.step = t;
    step.loss = 7.0 - static_cast<double>(t);
    step.active = 16 - t;
    step.tokens = 64 * (t + 1);
    history.steps.push_back(step);
  }
  history.evals.push_back({3, 5.5});
  history.prunes.push_back({2, {11}});
  history.save(writer);
  writer.write_blob("state/tokenizer_model", {'s', 'p', 'm'});
  writer.set_attr(checkpoint::kStepAttr, 3);
  writer.set_attr(checkpoint::kTokensSeenAttr, 192);
  writer.set_attr(checkpoint::kAdamStepsAttr, 3);
  writer.set_attr(checkpoint::kCellIdAttr, "16x1x2-dense-tpp1-seed0");
  writer.set_attr(checkpoint::kRunIdAttr, "0123456789abcdef");
  writer.set_attr(checkpoint::kTokenizerHashAttr, "feedface");
  writer.set_attr(checkpoint::kConfigAttr, to_ini(small_config()));
  writer.set_attr(checkpoint::kWrittenByRanksAttr, 1);
  writer.commit();
}

// A done ledger of small_config()'s cells with plausible results; returns its directory.
std::string write_ledger(const std::string& work) {
  const std::vector<Cell> cells = expand_grid(small_config());
  Ledger ledger = Ledger::open_or_create(work, "seed", cells);
  for (CellRecord& r : ledger.records()) {
    r.status = CellStatus::kDone;
    r.attempts = 1;
    r.group = 0;
    r.group_size = 1;
    r.wall_s = 2.5;
    RunSummary& s = r.run;
    s.steps_done = s.total_steps = 20;
    s.tokens = 1280;
    s.n_initial = 3 * r.d_model * r.d_model * 4;
    s.n_final = static_cast<int64_t>(static_cast<double>(s.n_initial) * (1 - r.sparsity));
    s.n_avg = 0.5 * static_cast<double>(s.n_initial + s.n_final);
    s.embedding_params = 320 * r.d_model;
    s.compute = 6.0 * s.n_avg * static_cast<double>(s.tokens);
    s.final_loss = 5.0 + 100.0 / std::sqrt(s.n_avg);
    s.final_eval_loss = s.final_loss + 0.05;
    s.tokens_per_s = 4000;
    s.group_size = 1;
  }
  ledger.records().back().status = CellStatus::kFailed;
  ledger.records().back().reason = "diverged, \"quoted\"\nover two lines";
  ledger.save();
  write_results(ledger);
  return work;
}

// The same ledger as version 1 wrote it: results flat in each record, the eval loss as
// eval_loss.
nlohmann::json as_version_1(nlohmann::json ledger) {
  ledger["version"] = 1;
  for (nlohmann::json& cell : ledger["cells"]) {
    const nlohmann::json run = cell["run"];
    for (const char* key : {"steps_done", "total_steps", "tokens", "n_avg", "n_final", "n_initial",
                            "embedding_params", "compute", "final_loss", "tokens_per_s"}) {
      cell[key] = run[key];
    }
    cell["eval_loss"] = run["final_eval_loss"];
    cell.erase("run");
  }
  return ledger;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds CORPUS_DIR\n");
    return 2;
  }
  const std::string corpus = argv[1];
  for (const char* target : {"token_shard", "checkpoint", "ledger", "results_csv"}) {
    fs::create_directories(corpus + "/" + target);
  }
  write_token_shards(corpus + "/token_shard");
  write_checkpoint(corpus + "/checkpoint/valid.h5", {});
  CheckpointWriteOptions compact;
  compact.one_bit_masks = true;
  compact.float_deflate_level = 6;
  compact.mask_deflate_level = 6;
  compact.chunk_bytes = 32;
  write_checkpoint(corpus + "/checkpoint/one-bit-deflated.h5", compact);

  const std::string work = (fs::temp_directory_path() / "journey-fuzz-seeds").string();
  fs::remove_all(work);
  fs::create_directories(work);
  write_ledger(work);
  const std::string ledger = testing::read_file(work + "/ledger.json");
  std::ofstream(corpus + "/ledger/generated.json") << ledger;
  std::ofstream(corpus + "/ledger/version-1.json")
      << as_version_1(nlohmann::json::parse(ledger)).dump(1) << "\n";
  fs::copy_file(work + "/results.csv", corpus + "/results_csv/generated.csv",
                fs::copy_options::overwrite_existing);
  fs::remove_all(work);
  return 0;
}
