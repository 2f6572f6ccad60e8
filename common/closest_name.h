// "Did you mean ...?" for a mistyped key, flag or command.
#pragma once

#include <string>
#include <vector>

namespace journey {

// The candidate nearest to `typed` by edit distance (insertions, deletions, substitutions and
// swaps of neighbours, case-insensitive), when it is near enough to be the one meant: at most
// a third of `typed`'s length away, and at most 3 edits. A beginning (3 letters or more) of
// exactly one candidate counts as near ("sched" for "schedule"). For a dotted key ("model.lr") a
// candidate with the same last part ("train.lr") also counts as near: the right key in the
// wrong section. Empty when nothing is that near.
std::string closest_name(const std::string& typed, const std::vector<std::string>& candidates);

// " (did you mean 'NAME'?)" for closest_name's answer, or "" when there is none.
std::string did_you_mean(const std::string& typed, const std::vector<std::string>& candidates);

}  // namespace journey
