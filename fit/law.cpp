#include "fit/law.h"

#include <algorithm>
#include <cmath>

#include "common/named_values.h"

namespace journey {

namespace {

constexpr NamedValue<LawForm> kLawFormNames[] = {
    {"chinchilla", LawForm::kChinchilla},
    {"sparse", LawForm::kSparse},
};

}  // namespace

const char* law_form_name(LawForm form) {
  return name_of(kLawFormNames, form);
}

std::optional<LawForm> law_form_named(const std::string& name) {
  return value_named(kLawFormNames, name);
}

int parameter_count(LawForm form) {
  return form == LawForm::kChinchilla ? 5 : 7;
}

const std::vector<std::string>& coefficient_names(LawForm form) {
  static const std::vector<std::string> kChinchilla = {"A", "B", "E", "alpha", "beta"};
  static const std::vector<std::string> kSparse = {"a_S", "b_S", "c_S", "b_N", "a_D", "b_D", "c"};
  return form == LawForm::kChinchilla ? kChinchilla : kSparse;
}

LawPoint make_law_point(double n, double tokens, double sparsity, double loss) {
  LawPoint p;
  p.log_n = std::log(n);
  p.log_d = std::log(tokens);
  p.log_keep = std::log1p(-sparsity);
  p.log_loss = std::log(loss);
  return p;
}

double log_predict(LawForm form, const double* x, const LawPoint& p, double* grad) {
  if (form == LawForm::kChinchilla) {
    // Terms u = (a - alpha log N, b - beta log D, e); log L = max + log sum exp(u - max).
    const double u0 = x[0] - x[3] * p.log_n;
    const double u1 = x[1] - x[4] * p.log_d;
    const double u2 = x[2];
    const double m = std::max(u0, std::max(u1, u2));
    const double w0 = std::exp(u0 - m), w1 = std::exp(u1 - m), w2 = std::exp(u2 - m);
    const double sum = w0 + w1 + w2;
    if (grad != nullptr) {
      // d LSE / du_k is the softmax weight of term k.
      const double s0 = w0 / sum, s1 = w1 / sum, s2 = w2 / sum;
      grad[0] = s0;
      grad[1] = s1;
      grad[2] = s2;
      grad[3] = -s0 * p.log_n;
      grad[4] = -s1 * p.log_d;
    }
    return m + std::log(sum);
  }
  // Sparse: x = (a_s, c_s, b, e, b_N, b_D, b_S).
  const double u0 = x[0] + x[6] * p.log_keep - x[4] * p.log_n;
  const double u1 = x[1] - x[4] * p.log_n;
  const double u2 = x[2] - x[5] * p.log_d;
  const double u3 = x[3];
  const double m = std::max(std::max(u0, u1), std::max(u2, u3));
  const double w0 = std::exp(u0 - m), w1 = std::exp(u1 - m), w2 = std::exp(u2 - m),
               w3 = std::exp(u3 - m);
  const double sum = w0 + w1 + w2 + w3;
  if (grad != nullptr) {
    const double s0 = w0 / sum, s1 = w1 / sum, s2 = w2 / sum, s3 = w3 / sum;
    grad[0] = s0;
    grad[1] = s1;
    grad[2] = s2;
    grad[3] = s3;
    grad[4] = -(s0 + s1) * p.log_n;
    grad[5] = -s2 * p.log_d;
    grad[6] = s0 * p.log_keep;
  }
  return m + std::log(sum);
}

double Law::predict(const LawPoint& p) const {
  return std::exp(log_predict(form, x.data(), p, nullptr));
}

std::vector<double> Law::coefficients() const {
  if (form == LawForm::kChinchilla) {
    return {std::exp(x[0]), std::exp(x[1]), std::exp(x[2]), x[3], x[4]};
  }
  return {std::exp(x[0]), x[6], std::exp(x[1]), x[4], std::exp(x[2] / x[5]), x[5], std::exp(x[3])};
}

Law chinchilla_law(double A, double B, double E, double alpha, double beta) {
  return Law{LawForm::kChinchilla, {std::log(A), std::log(B), std::log(E), alpha, beta}};
}

}  // namespace journey
