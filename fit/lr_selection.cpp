#include "fit/lr_selection.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "common/error.h"

namespace journey {
namespace {

std::string where(const RunRecord& run) {
  return run.file + " line " + std::to_string(run.line);
}

SizeRateChoice choose(const std::string& size, const std::vector<const RunRecord*>& runs) {
  SizeRateChoice choice;
  choice.size = size;
  // lr -> tokens -> dense losses (one per seed).
  std::map<double, std::map<double, std::vector<double>>> dense;
  std::set<double> rates;
  for (const RunRecord* run : runs) {
    rates.insert(run->lr);
    if (run->sparsity == 0) dense[run->lr][run->tokens].push_back(run->loss);
  }
  if (rates.size() == 1) {
    choice.chosen_lr = *rates.begin();
    choice.rates.push_back({choice.chosen_lr, 0.0});
    return choice;
  }
  // Durations at which every rate has a dense run.
  std::set<double> common;
  bool first = true;
  for (double lr : rates) {
    std::set<double> here;
    for (const auto& [tokens, losses] : dense[lr]) here.insert(tokens);
    if (first) {
      common = here;
      first = false;
    } else {
      std::set<double> both;
      std::set_intersection(common.begin(), common.end(), here.begin(), here.end(),
                            std::inserter(both, both.begin()));
      common = both;
    }
  }
  if (common.empty()) {
    throw UsageError("--select best-lr: size " + size + " has " + std::to_string(rates.size()) +
                     " rates but no duration (tokens) at which each has a dense run, so they "
                     "cannot be compared");
  }
  choice.common_durations = static_cast<int>(common.size());
  double best = 0;
  for (double lr : rates) {
    double sum = 0;
    for (double tokens : common) {
      const std::vector<double>& losses = dense[lr][tokens];
      double seed_sum = 0;
      for (double loss : losses) seed_sum += loss;
      sum += seed_sum / losses.size();
    }
    const RateScore score{lr, sum / common.size()};
    choice.rates.push_back(score);
    if (choice.rates.size() == 1 || score.mean_dense_loss < best) {
      best = score.mean_dense_loss;
      choice.chosen_lr = lr;
    }
  }
  return choice;
}

}  // namespace

LrSelection select_best_lr(const std::vector<RunRecord>& runs) {
  std::vector<std::string> sizes;
  std::map<std::string, std::vector<const RunRecord*>> by_size;
  for (const RunRecord& run : runs) {
    if (run.lr <= 0) {
      throw UsageError("--select best-lr needs each run's lr, and " + where(run) +
                       " has none (no lr column)");
    }
    if (!by_size.count(run.size)) sizes.push_back(run.size);
    by_size[run.size].push_back(&run);
  }
  LrSelection selection;
  std::map<std::string, double> chosen;
  for (const std::string& size : sizes) {
    selection.choices.push_back(choose(size, by_size[size]));
    chosen[size] = selection.choices.back().chosen_lr;
  }
  for (const RunRecord& run : runs) {
    SizeRateChoice& choice =
        *std::find_if(selection.choices.begin(), selection.choices.end(),
                      [&](const SizeRateChoice& c) { return c.size == run.size; });
    if (run.lr == chosen[run.size]) {
      selection.runs.push_back(run);
      ++choice.kept_runs;
    } else {
      ++choice.dropped_runs;
    }
  }
  return selection;
}

std::vector<std::string> describe(const LrSelection& selection) {
  std::vector<std::string> lines;
  for (const SizeRateChoice& c : selection.choices) {
    std::ostringstream line;
    line << "lr selection: " << c.size << " keeps lr " << c.chosen_lr;
    if (c.rates.size() == 1) {
      line << " (its only rate)";
    } else {
      for (size_t i = 0; i < c.rates.size(); ++i) {
        const RateScore& r = c.rates[i];
        if (r.lr == c.chosen_lr) line << " (mean dense loss " << r.mean_dense_loss << ")";
      }
      line << " of";
      for (size_t i = 0; i < c.rates.size(); ++i) {
        line << (i == 0 ? " " : ", ") << c.rates[i].lr << " (" << c.rates[i].mean_dense_loss << ")";
      }
      line << " at " << c.common_durations << " common duration"
           << (c.common_durations == 1 ? "" : "s");
    }
    line << "; " << c.kept_runs << " runs kept, " << c.dropped_runs << " dropped";
    lines.push_back(line.str());
  }
  return lines;
}

}  // namespace journey
