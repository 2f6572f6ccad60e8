#include "worker/step_metrics.h"

#include <sstream>

#include "io/atomic_file.h"
#include "io/checkpoint_file.h"

namespace journey {
namespace {

constexpr char kPrefix[] = "history/";

template <class Field>
std::vector<double> column(const std::vector<StepRecord>& steps, Field field) {
  std::vector<double> out;
  for (const StepRecord& r : steps) out.push_back(r.*field);
  return out;
}

}  // namespace

double MetricsHistory::mean_active() const {
  if (steps.empty()) return 0.0;
  long double sum = 0;
  for (const StepRecord& r : steps) sum += r.active;
  return static_cast<double>(sum / steps.size());
}

void MetricsHistory::save(CheckpointWriter& w) const {
  std::vector<int64_t> step, active, tokens, eval_step;
  std::vector<double> eval_loss;
  for (const StepRecord& r : steps) {
    step.push_back(r.step);
    active.push_back(r.active);
    tokens.push_back(r.tokens);
  }
  for (const EvalRecord& e : evals) {
    eval_step.push_back(e.step);
    eval_loss.push_back(e.loss);
  }
  const std::string p = kPrefix;
  w.write_series(p + "step", step);
  w.write_series(checkpoint::kActiveSeries, active);
  w.write_series(p + "tokens", tokens);
  w.write_series(p + "loss", column(steps, &StepRecord::loss));
  w.write_series(p + "lr", column(steps, &StepRecord::lr));
  w.write_series(p + "grad_norm", column(steps, &StepRecord::grad_norm));
  w.write_series(p + "density", column(steps, &StepRecord::density));
  w.write_series(p + "flops", column(steps, &StepRecord::flops));
  w.write_series(p + "tokens_per_s", column(steps, &StepRecord::tokens_per_s));
  w.write_series(p + "mfu", column(steps, &StepRecord::mfu));
  w.write_series(p + "epoch", column(steps, &StepRecord::epoch));
  w.write_series(p + "elapsed_s", column(steps, &StepRecord::elapsed_s));
  w.write_series(p + "eval_step", eval_step);
  w.write_series(p + "eval_loss", eval_loss);
}

MetricsHistory MetricsHistory::load(const CheckpointReader& r) {
  const std::string p = kPrefix;
  MetricsHistory h;
  std::vector<int64_t> step = r.read_series_int(p + "step");
  std::vector<int64_t> active = r.read_series_int(checkpoint::kActiveSeries);
  std::vector<int64_t> tokens = r.read_series_int(p + "tokens");
  std::vector<double> loss = r.read_series_double(p + "loss"), lr = r.read_series_double(p + "lr"),
                      grad_norm = r.read_series_double(p + "grad_norm"),
                      density = r.read_series_double(p + "density"),
                      flops = r.read_series_double(p + "flops"),
                      tps = r.read_series_double(p + "tokens_per_s"),
                      mfu = r.read_series_double(p + "mfu"),
                      epoch = r.read_series_double(p + "epoch"),
                      elapsed = r.read_series_double(p + "elapsed_s");
  for (size_t i = 0; i < step.size(); ++i) {
    h.steps.push_back({step[i], loss[i], lr[i], grad_norm[i], active[i], density[i], tokens[i],
                       flops[i], tps[i], mfu[i], epoch[i], elapsed[i]});
  }
  std::vector<int64_t> eval_step = r.read_series_int(p + "eval_step");
  std::vector<double> eval_loss = r.read_series_double(p + "eval_loss");
  for (size_t i = 0; i < eval_step.size(); ++i) h.evals.push_back({eval_step[i], eval_loss[i]});
  return h;
}

void MetricsHistory::write_csv(const std::string& dir) const {
  std::ostringstream m;
  m.precision(9);
  m << "step,loss,lr,grad_norm,active,density,tokens,flops,tokens_per_s,mfu,epoch,elapsed_s\n";
  for (const StepRecord& r : steps) {
    m << r.step << ',' << r.loss << ',' << r.lr << ',' << r.grad_norm << ',' << r.active << ','
      << r.density << ',' << r.tokens << ',' << r.flops << ',' << r.tokens_per_s << ',' << r.mfu
      << ',' << r.epoch << ',' << r.elapsed_s << '\n';
  }
  write_file_atomically(dir + "/metrics.csv", m.str());
  std::ostringstream e;
  e.precision(9);
  e << "step,eval_loss\n";
  for (const EvalRecord& r : evals) e << r.step << ',' << r.loss << '\n';
  write_file_atomically(dir + "/eval.csv", e.str());
}

}  // namespace journey
