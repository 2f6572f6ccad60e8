// The scaling-law forms `journey fit` compares, and their predictions.
//
// Chinchilla (Hoffmann et al. 2022), with N the chosen size variable (N-bar, N_final or
// N_initial, see SizeVariable in fit/fit_report.h):
//   L(N, D) = E + A / N^alpha + B / D^beta
// Sparse (Frantar et al. 2023, arXiv 2309.08520, eq. 1), with N the non-zero parameters
// N_final and S the final sparsity:
//   L(S, N, D) = (a_S (1 - S)^b_S + c_S) (1 / N)^b_N + (a_D / D)^b_D + c
//
// Both are fitted in log-sum-exp form (Chinchilla Approach 3), which keeps every coefficient
// positive without bounds and makes log L smooth in the parameters x:
//   chinchilla  x = (a, b, e, alpha, beta):
//     log L = LSE(a - alpha log N, b - beta log D, e),  A = e^a, B = e^b, E = e^e
//   sparse      x = (a_s, c_s, b, e, b_N, b_D, b_S):
//     log L = LSE(a_s + b_S log(1 - S) - b_N log N, c_s - b_N log N, b - b_D log D, e),
//     a_S = e^a_s, c_S = e^c_s, a_D = e^(b / b_D), c = e^e
// The "coefficients" are the named, natural-scale values above (A, B, E, alpha, beta, or
// a_S, b_S, c_S, b_N, a_D, b_D, c); the "parameters" are x. Pure functions, no errors.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace journey {

enum class LawForm { kChinchilla, kSparse };

// "chinchilla" or "sparse" (fits.json's "form"), and back; nullopt for any other name.
const char* law_form_name(LawForm form);
std::optional<LawForm> law_form_named(const std::string& name);
// Length of x: 5 or 7.
int parameter_count(LawForm form);
// Names of the natural-scale coefficients, in the order coefficients() returns them.
const std::vector<std::string>& coefficient_names(LawForm form);

// One observation as a law sees it, in logs (precomputed once: the fitter evaluates each
// point thousands of times).
struct LawPoint {
  double log_n = 0;     // log N of the size variable in use
  double log_d = 0;     // log D (tokens)
  double log_keep = 0;  // log(1 - S); 0 for dense runs. Only the sparse law reads it.
  double log_loss = 0;  // log L observed
  // How many times the point counts in a fit's objective: a bootstrap resample draws some
  // runs more than once and weights each by its count (fit/bootstrap.h).
  double weight = 1;
};

LawPoint make_law_point(double n, double tokens, double sparsity, double loss);

// log L-hat at `p` for parameters `x`; when `grad` is not null it receives d log L-hat / dx.
double log_predict(LawForm form, const double* x, const LawPoint& p, double* grad);

// A fitted law: its form and parameters x.
struct Law {
  LawForm form = LawForm::kChinchilla;
  std::vector<double> x;

  double predict(const LawPoint& p) const;  // L-hat, not its log
  // Natural-scale coefficients in coefficient_names() order.
  std::vector<double> coefficients() const;
};

// The Chinchilla law from its natural coefficients A, B, E, alpha, beta (all > 0).
Law chinchilla_law(double A, double B, double E, double alpha, double beta);

}  // namespace journey
