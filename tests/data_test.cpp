// Data: corpus reading, tokenizer, token shards, the split, the loader and `journey prepare`.
#include <gtest/gtest.h>

#include "data/text.h"

namespace journey {
namespace {

TEST(DataText, CleanTextNormalisesLineEnds) {
  EXPECT_EQ(clean_text("a \r\nb\rc\x02"), "a\nb\nc");
}

}  // namespace
}  // namespace journey
