// Levenshtein distance, checked against hand-counted edits.
#include <gtest/gtest.h>

#include "tandem/core/edit_distance.h"

namespace tandem {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("epochs", "epochs"), 0u);
  EXPECT_EQ(edit_distance("epoch", "epochs"), 1u);     // one insertion
  EXPECT_EQ(edit_distance("trian", "train"), 2u);      // two substitutions
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);   // k->s, e->i, +g
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("flaw", "lawn"), edit_distance("lawn", "flaw"));
  EXPECT_EQ(edit_distance("flaw", "lawn"), 2u);        // -f, +n
}

}  // namespace
}  // namespace tandem
