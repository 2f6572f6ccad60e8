#include "common/closest_name.h"

#include <algorithm>
#include <cctype>
#include <cstddef>

namespace journey {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Optimal string alignment distance (Damerau-Levenshtein without repeated edits of one
// substring): typos are mostly one wrong, missing, extra or swapped letter.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string last_part(const std::string& key) {
  const size_t dot = key.rfind('.');
  return dot == std::string::npos ? std::string() : key.substr(dot + 1);
}

}  // namespace

std::string closest_name(const std::string& typed, const std::vector<std::string>& candidates) {
  const std::string word = lower(typed);
  const size_t limit = std::min<size_t>(3, word.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const size_t distance = edit_distance(word, lower(candidate));
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (!best.empty()) return best;
  // A beginning of exactly one name: "sched" for "schedule".
  std::string extended;
  for (const std::string& candidate : candidates) {
    if (word.size() < 3 || lower(candidate).rfind(word, 0) != 0) continue;
    if (!extended.empty()) return "";
    extended = candidate;
  }
  if (!extended.empty()) return extended;
  // The right key in the wrong section: "model.lr" for "train.lr".
  const std::string part = last_part(word);
  if (part.empty()) return "";
  for (const std::string& candidate : candidates) {
    if (lower(last_part(candidate)) == part) return candidate;
  }
  return "";
}

std::string did_you_mean(const std::string& typed, const std::vector<std::string>& candidates) {
  const std::string name = closest_name(typed, candidates);
  return name.empty() ? std::string() : " (did you mean '" + name + "'?)";
}

}  // namespace journey
