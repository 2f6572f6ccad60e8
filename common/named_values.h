// An enum's names, one table each: the one place they are written, read both ways (a name to
// its value when a config, a flag or a file is parsed; a value to its name when one is
// printed), so parsing and printing cannot disagree and an unknown name's error lists exactly
// the names accepted.
//
// A table is an array of NamedValue<E> {name, value[, description]}, in the order help texts
// and errors list the names; any row type with `name` and `value` members serves (the
// checkpoint dtypes' rows add the size), and common/pruning_schedules.h is the same idea with
// more columns (names_of() reads its names too). Adding a value to an enum is one row in its table.
#pragma once

#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <type_traits>

namespace journey {

template <class E>
struct NamedValue {
  const char* name;
  E value;
  const char* description = "";
};

// The name of `value` in `table`; `otherwise` when the table has no row for it (a value cast
// from an out-of-range integer; a table missing a value of its enum is a bug its tests catch).
template <class Table, class E>
const char* name_of(const Table& table, E value, const char* otherwise = nullptr) {
  for (const auto& row : table) {
    if (row.value == value) return row.name;
  }
  return otherwise;
}

// The value named `name` in `table`; nullopt for any other text (the caller throws its error
// with names_of(table)).
template <class Table>
auto value_named(const Table& table, const std::string& name)
    -> std::optional<std::decay_t<decltype(std::begin(table)->value)>> {
  for (const auto& row : table) {
    if (name == row.name) return row.value;
  }
  return std::nullopt;
}

// "a, b or c": the names of `table` in order, for errors and help.
template <class Table>
std::string names_of(const Table& table) {
  std::string names;
  const size_t n = static_cast<size_t>(std::end(table) - std::begin(table));
  size_t i = 0;
  for (const auto& row : table) {
    if (i > 0) names += i + 1 == n ? " or " : ", ";
    names += row.name;
    ++i;
  }
  return names;
}

}  // namespace journey
