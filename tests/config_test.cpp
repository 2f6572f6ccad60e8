// Config parsing, overrides, round trip and every validation rule (in-process; the exit
// codes of the same rules are checked through the binary in cli_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <string>

#include "common/closest_name.h"
#include "common/config.h"
#include "common/error.h"
#include "common/ini_entries.h"
#include "common/named_values.h"
#include "common/number_text.h"
#include "schedules/run_plan.h"
#include "tests/bad_config_values.h"

namespace journey {
namespace {

std::string write_temp(const std::string& text) {
  char path[] = "/tmp/journey-config-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

// common/named_values.h: a table is read both ways, and its names are listed in order.
TEST(NamedValues, ReadBothWaysAndListTheNamesInOrder) {
  enum class Fruit { kApple, kPear, kPlum, kQuince };
  constexpr NamedValue<Fruit> kFruits[] = {
      {"apple", Fruit::kApple}, {"pear", Fruit::kPear}, {"plum", Fruit::kPlum}};
  for (const auto& row : kFruits) {
    EXPECT_STREQ(name_of(kFruits, row.value), row.name);
    EXPECT_EQ(value_named(kFruits, row.name), row.value);
  }
  EXPECT_EQ(name_of(kFruits, Fruit::kQuince), nullptr);
  EXPECT_STREQ(name_of(kFruits, Fruit::kQuince, "?"), "?");
  EXPECT_FALSE(value_named(kFruits, "Apple"));  // Names are exact.
  EXPECT_EQ(names_of(kFruits), "apple, pear or plum");
  constexpr NamedValue<Fruit> kOne[] = {{"apple", Fruit::kApple}};
  EXPECT_EQ(names_of(kOne), "apple");
}

// Every enumerated key prints the name it parses, and an unknown name's error lists them all.
TEST(Config, EnumeratedKeysRoundTripAndListTheirNames) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> keys = {
      {"train.device", {"auto", "cpu", "cuda"}}, {"train.precision", {"fp32", "bf16"}},
      {"model.family", {"llama", "parallel"}},   {"prune.phase_units", {"compute", "steps"}},
      {"prune.scope", {"global", "layer"}},      {"prune.schedule", {"geometric", "cubic"}},
  };
  for (const auto& [key, names] : keys) {
    const std::string section = "[" + key.substr(0, key.find('.')) + "]\n";
    const std::string line = key.substr(key.find('.') + 1) + " = ";
    for (const std::string& name : names) {
      const RunConfig config = parse_config_text(section + line + name + "\n", "test");
      EXPECT_NE(to_ini(config).find(line + name + "\n"), std::string::npos) << key << " " << name;
    }
    try {
      parse_config_text(section + line + "bogus\n", "test");
      ADD_FAILURE() << key << " took bogus";
    } catch (const UsageError& e) {
      std::string listed = names[0];
      for (size_t i = 1; i < names.size(); ++i) {
        listed += (i + 1 == names.size() ? " or " : ", ") + names[i];
      }
      EXPECT_NE(std::string(e.what()).find("must be " + listed), std::string::npos) << e.what();
    }
  }
}

TEST(Config, DefaultsAreValid) {
  RunConfig c = parse_config("", {});
  EXPECT_NO_THROW(validate(c));
  EXPECT_EQ(c.model.ffn(), 4 * c.model.d_model);
}

TEST(Config, FileSectionsAndCommandLineOverrideWins) {
  std::string path = write_temp("[model]\nd_model = 256\nn_heads = 8\n[prune]\nsparsity = 0.5\n");
  RunConfig c = parse_config(path, {"--prune.sparsity=0.8", "--model.n_layers", "3"});
  EXPECT_EQ(c.model.d_model, 256);
  EXPECT_EQ(c.model.n_heads, 8);
  EXPECT_EQ(c.model.n_layers, 3);
  EXPECT_DOUBLE_EQ(c.prune.sparsity, 0.8);
  std::remove(path.c_str());
}

TEST(Config, EffectiveConfigRoundTripsExactly) {
  RunConfig c = parse_config(
      "", {"--train.lr=0.000123456789", "--sweep.sizes=64x2x2 128x2x4", "--prune.schedule=cubic"});
  std::string ini = to_ini(c);
  std::string path = write_temp(ini);
  RunConfig back = parse_config(path, {});
  EXPECT_EQ(to_ini(back), ini);
  EXPECT_DOUBLE_EQ(back.train.lr, 0.000123456789);
  EXPECT_EQ(back.sweep.sizes, "64x2x2 128x2x4");
  std::remove(path.c_str());
}

TEST(Config, UnknownKeyInFileNamesFileAndKey) {
  std::string path = write_temp("[model]\nwidth = 3\n");
  try {
    parse_config(path, {});
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("model.width"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

TEST(Config, ClosestNameFindsTyposPrefixesAndTheWrongSection) {
  const std::vector<std::string> keys = {"train.lr", "train.batch_tokens", "model.d_model",
                                         "schedule", "sweep"};
  EXPECT_EQ(closest_name("train.batchtokens", keys), "train.batch_tokens");  // Missing letter.
  EXPECT_EQ(closest_name("MODEL.D_MODLE", keys), "model.d_model");  // Case, swapped letters.
  EXPECT_EQ(closest_name("model.lr", keys), "train.lr");            // Wrong section.
  EXPECT_EQ(closest_name("sched", keys), "schedule");               // Unique beginning.
  EXPECT_EQ(closest_name("swe", {"sweep", "sweeps"}), "");          // Two beginnings.
  EXPECT_EQ(closest_name("frobnicate", keys), "");                  // Nothing near.
  EXPECT_EQ(closest_name("lr", keys), "");  // Too short for even one edit to be a typo.
  EXPECT_EQ(did_you_mean("scheduel", keys), " (did you mean 'schedule'?)");
  EXPECT_EQ(did_you_mean("frobnicate", keys), "");
}

TEST(Config, NumbersAreWrittenAsTheShortestTextThatReadsBack) {
  EXPECT_EQ(shortest_decimal(0.003), "0.003");
  EXPECT_EQ(shortest_decimal(3e-3 * 1e-300), "3e-303");
  EXPECT_EQ(shortest_decimal(4096), "4096");
  for (double x : {1.0 / 3, 4.4513123456789, 2.299e+06, 1e22}) {
    EXPECT_EQ(std::stod(shortest_decimal(x)), x) << shortest_decimal(x);
  }
}

TEST(Config, UnknownKeySuggestsTheNearestKey) {
  std::string path = write_temp("[train]\nbatch_tokenz = 4096\n");
  try {
    parse_config(path, {});
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(
        std::string(e.what()).find("train.batch_tokenz' (did you mean 'train.batch_tokens'?)"),
        std::string::npos)
        << e.what();
  }
  std::remove(path.c_str());
  try {
    parse_config("", {"--model.lr=0.1"});
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("(did you mean '--train.lr'?)"), std::string::npos)
        << e.what();
  }
}

TEST(Config, MissingFileIsAUsageError) {
  EXPECT_THROW(parse_config("/nonexistent/journey.ini", {}), UsageError);
}

TEST(Config, MalformedValueNamesTheKey) {
  try {
    parse_config("", {"--model.d_model=wide"});
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("model.d_model"), std::string::npos) << e.what();
  }
}

// Found by tests/fuzz (regressions/config/placeholder-*.ini): Boost.Program_options formats its
// errors by replacing placeholders such as %value% until none is left, so a key or value that
// held one looped forever. Before the fix these hung; the message shows '%' as '?'.
TEST(Config, KeysAndValuesHoldingBoostPlaceholdersAreErrorsNotHangs) {
  for (const std::string text : {"[train]\nlr = %value%\n", "[model]\nd%original_token%x = 1\n",
                                 "[model]\n%canonical_option% = 1\n", "%invalid_line%\n"}) {
    const std::string path = write_temp(text);
    try {
      parse_config(path, {});
      ADD_FAILURE() << text;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
    std::remove(path.c_str());
    EXPECT_THROW(parse_config_text(text, "stored config"), UsageError) << text;
  }
  try {
    parse_config("", {"--train.lr=%value%"});
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("'?value?'"), std::string::npos) << e.what();
  }
}

// Regression (tests/fuzz/regressions/config/seed-beyond-int64.ini, undefined behaviour under
// UBSan): a seed beyond int64_t was converted before its range was checked.
TEST(Config, SweepSeedsBeyondInt64AreRejected) {
  RunConfig c = parse_config("", {"--sweep.seeds=0 1e30"});
  try {
    validate(c);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("sweep.seeds = 1e30"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("below 2^63"), std::string::npos) << e.what();
  }
  c.sweep.seeds = "9223372036854774784";  // The largest double below 2^63.
  EXPECT_NO_THROW(validate(c));
}

class ConfigValidation : public ::testing::TestWithParam<testing::BadValue> {};

TEST_P(ConfigValidation, NamesKeyValueAndRule) {
  const testing::BadValue& bad = GetParam();
  try {
    // Some rules (finite numbers) are checked while parsing, the rest by validate().
    validate(parse_config("", {bad.override_flag}));
    FAIL() << "no error for " << bad.override_flag;
  } catch (const UsageError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(bad.key), std::string::npos) << what;
    EXPECT_NE(what.find(bad.rule_words), std::string::npos) << what;
    std::string flag = bad.override_flag;
    std::string value = flag.substr(flag.find('=') + 1);
    if (std::string(bad.key).rfind("sweep.", 0) != 0) {
      EXPECT_NE(what.find("= " + value), std::string::npos) << what;
    }
  }
}

std::string rule_name(const ::testing::TestParamInfo<testing::BadValue>& info) {
  std::string name = std::to_string(info.index) + "_";
  for (const char* p = info.param.override_flag; *p; ++p) {
    name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(EveryRule, ConfigValidation, ::testing::ValuesIn(testing::kBadValues),
                         rule_name);

TEST(Config, ExplicitEndBeforeStartIsRejected) {
  RunConfig c = parse_config("", {"--prune.start_step=10", "--prune.end_step=5"});
  EXPECT_THROW(validate(c), UsageError);
}

TEST(Config, EmptyDatasetDirIsRejected) {
  std::string path = write_temp("[data]\ndir =\n");
  RunConfig c = parse_config(path, {});
  try {
    validate(c);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("data.dir"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

TEST(Config, SplitList) {
  EXPECT_EQ(split_list(" 0, 0.5  0.8,"), (std::vector<std::string>{"0", "0.5", "0.8"}));
  EXPECT_TRUE(split_list("").empty());
}

TEST(Config, IniEntriesListKeysAsWrittenInFileOrder) {
  using Entries = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(ini_entries("# comment\n[ model ]\r\n d_model = 48 \r\nno equals sign\n\n"
                        "[prune]\n; comment\nsparsity=0.8\nfuture_key = a = b\nsparsity = 0.5\n"),
            (Entries{{"model.d_model", "48"},
                     {"prune.sparsity", "0.8"},
                     {"prune.future_key", "a = b"},
                     {"prune.sparsity", "0.5"}}));
  EXPECT_TRUE(ini_entries("").empty());
  // What to_ini() writes reads back key for key.
  const RunConfig c = parse_config("", {"--model.d_model=48"});
  const Entries entries = ini_entries(to_ini(c));
  EXPECT_NE(std::find(entries.begin(), entries.end(), Entries::value_type{"model.d_model", "48"}),
            entries.end());
}

TEST(Config, PruneExcludeIsCheckedAgainstScopeModelAndSparsity) {
  RunConfig c = parse_config("", {"--prune.exclude=*.wq", "--prune.scope=layer"});
  try {
    validate(c);
    FAIL() << "prune.exclude with layer scope was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("prune.exclude"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("global"), std::string::npos) << e.what();
  }
  c = parse_config("", {"--prune.exclude=*.wq head", "--prune.sparsity=0.5"});
  validate(c);
  EXPECT_NO_THROW(make_plan(c));
  for (const auto& [exclude, words] : std::vector<std::pair<std::string, std::string>>{
           {"*.wqq", "matches no prunable matrix"},  // A typo.
           {"embed", "matches no prunable matrix"},  // Not prunable in the first place.
           {"*", "more than the"}}) {                // Nothing left to prune.
    c.prune.exclude = exclude;
    try {
      make_plan(c);
      FAIL() << exclude;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("prune.exclude = " + exclude), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace journey
