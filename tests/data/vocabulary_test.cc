#include "tandem/data/vocabulary.h"

#include <gtest/gtest.h>

#include "data/test_util.h"
#include "tandem/core/error.h"

namespace tandem {
namespace {

using testing::error_of;

TEST(IdentityVocabulary, RowIsTheId) {
  const Vocabulary v = Vocabulary::identity(10);
  EXPECT_EQ(v.kind(), Vocabulary::Kind::kIdentity);
  EXPECT_FALSE(v.has_oov());
  EXPECT_EQ(v.rows(), 11);
  EXPECT_EQ(v.find(0), 0);
  EXPECT_EQ(v.find(7), 7);
  EXPECT_EQ(v.find(10), 10);
  EXPECT_EQ(v.raw_id(7), 7);
  EXPECT_EQ(v.raw_id(0), 0);
}

TEST(IdentityVocabulary, IdsOutsideTheRangeAreUnknownWithoutOov) {
  const Vocabulary v = Vocabulary::identity(10);
  EXPECT_EQ(v.find(11), std::nullopt);
  EXPECT_EQ(v.find(-1), std::nullopt);
  EXPECT_EQ(v.row_or_oov(11), std::nullopt);
  EXPECT_EQ(v.row_or_oov(3), 3);
  EXPECT_THROW(v.raw_id(11), Error);
  EXPECT_THROW(v.raw_id(-1), Error);
}

TEST(IdentityVocabulary, RejectsNegativeAndAbsurdSizes) {
  EXPECT_CONTAINS(error_of([] { Vocabulary::identity(-1); }), "-1");
  EXPECT_THROW(Vocabulary::identity(int64_t{1} << 31), Error);
  EXPECT_THROW(Vocabulary::identity(INT64_MAX), Error);
  // The largest allowed: 2^31 - 2 rows.
  EXPECT_EQ(Vocabulary::identity((int64_t{1} << 31) - 3).rows(), (int64_t{1} << 31) - 2);
  EXPECT_THROW(Vocabulary::identity((int64_t{1} << 31) - 2), Error);
}

TEST(LookupVocabulary, SortsDeduplicatesAndReservesRowZero) {
  const Vocabulary v = Vocabulary::lookup({30, 10, 20, 10, 30});
  EXPECT_EQ(v.kind(), Vocabulary::Kind::kLookup);
  EXPECT_TRUE(v.has_oov());
  EXPECT_EQ(v.rows(), 4);
  EXPECT_EQ(v.defining_ids(), (std::vector<int64_t>{10, 20, 30}));
  EXPECT_EQ(v.find(10), 1);
  EXPECT_EQ(v.find(20), 2);
  EXPECT_EQ(v.find(30), 3);
  EXPECT_EQ(v.raw_id(1), 10);
  EXPECT_EQ(v.raw_id(3), 30);
}

TEST(LookupVocabulary, UnknownIdsMapToOov) {
  const Vocabulary v = Vocabulary::lookup({5, 100});
  EXPECT_EQ(v.find(6), std::nullopt);
  EXPECT_EQ(v.find(0), std::nullopt);
  EXPECT_EQ(v.row_or_oov(6), Vocabulary::kOovRow);
  EXPECT_EQ(v.row_or_oov(-4), Vocabulary::kOovRow);
  EXPECT_EQ(v.row_or_oov(100), 2);
  EXPECT_CONTAINS(error_of([&] { v.raw_id(0); }), "out-of-vocabulary");
  EXPECT_THROW(v.raw_id(3), Error);
  EXPECT_THROW(v.raw_id(-1), Error);
}

TEST(LookupVocabulary, EmptyHasOnlyTheOovRow) {
  const Vocabulary v = Vocabulary::lookup({});
  EXPECT_EQ(v.rows(), 1);
  EXPECT_EQ(v.row_or_oov(1), Vocabulary::kOovRow);
}

TEST(Vocabulary, DefaultIsEmptyIdentity) {
  const Vocabulary v;
  EXPECT_EQ(v.kind(), Vocabulary::Kind::kIdentity);
  EXPECT_EQ(v.rows(), 0);
  EXPECT_EQ(v.find(0), std::nullopt);
  const Vocabulary back = Vocabulary::from_defining_ids(v.kind(), v.defining_ids());
  EXPECT_EQ(back.rows(), 0);
}

TEST(Vocabulary, RoundTripThroughDefiningIds) {
  const Vocabulary id = Vocabulary::identity(42);
  EXPECT_EQ(id.defining_ids(), (std::vector<int64_t>{42}));
  const Vocabulary id2 = Vocabulary::from_defining_ids(id.kind(), id.defining_ids());
  EXPECT_EQ(id2.kind(), Vocabulary::Kind::kIdentity);
  EXPECT_EQ(id2.rows(), 43);
  EXPECT_EQ(id2.find(42), 42);

  const Vocabulary lk = Vocabulary::lookup({9, 3, 7});
  const Vocabulary lk2 = Vocabulary::from_defining_ids(lk.kind(), lk.defining_ids());
  EXPECT_EQ(lk2.kind(), Vocabulary::Kind::kLookup);
  EXPECT_EQ(lk2.rows(), lk.rows());
  for (const int64_t raw : {3, 7, 9, 4, -1}) {
    EXPECT_EQ(lk2.find(raw), lk.find(raw)) << raw;
    EXPECT_EQ(lk2.row_or_oov(raw), lk.row_or_oov(raw)) << raw;
  }
}

TEST(KeyedVocabulary, IdsSharingAKeyShareItsRow) {
  // Movies 30 and 10 have one title (row 2), 20 another (row 1).
  const Vocabulary v = Vocabulary::keyed({30, 20, 10}, {2, 1, 2});
  EXPECT_EQ(v.kind(), Vocabulary::Kind::kKeyed);
  EXPECT_TRUE(v.has_oov());
  EXPECT_EQ(v.rows(), 3);  // OOV + two keys
  EXPECT_EQ(v.find(10), 2);
  EXPECT_EQ(v.find(30), 2);
  EXPECT_EQ(v.find(20), 1);
  EXPECT_EQ(v.find(11), std::nullopt);
  EXPECT_EQ(v.row_or_oov(11), Vocabulary::kOovRow);
  EXPECT_EQ(v.raw_id(2), 10);  // the smallest id of the row
  EXPECT_EQ(v.raw_id(1), 20);
  EXPECT_CONTAINS(error_of([&] { v.raw_id(0); }), "out-of-vocabulary");
  EXPECT_THROW(v.raw_id(3), Error);
  EXPECT_EQ(v.defining_ids(), (std::vector<int64_t>{10, 20, 30}));
  EXPECT_EQ(v.defining_rows(), (std::vector<int32_t>{2, 1, 2}));

  const Vocabulary back = Vocabulary::from_defining_ids(v.kind(), v.defining_ids(), v.defining_rows());
  EXPECT_EQ(back.rows(), 3);
  for (const int64_t raw : {10, 20, 30, 11, -1}) EXPECT_EQ(back.row_or_oov(raw), v.row_or_oov(raw)) << raw;
}

TEST(KeyedVocabulary, RejectsBadRows) {
  EXPECT_CONTAINS(error_of([] { Vocabulary::keyed({1, 2}, {1}); }), "2 ids but 1 rows");
  EXPECT_CONTAINS(error_of([] { Vocabulary::keyed({1, 2}, {1, 0}); }), "row 0 is the OOV row");
  EXPECT_CONTAINS(error_of([] { Vocabulary::keyed({1, 2}, {1, 3}); }), "outside 1..2");
  EXPECT_CONTAINS(error_of([] { Vocabulary::keyed({1, 2, 3}, {1, 3, 3}); }), "row 2 has no id");
  EXPECT_CONTAINS(error_of([] { Vocabulary::keyed({4, 4}, {1, 1}); }), "id 4 appears twice");
  EXPECT_CONTAINS(error_of([] { Vocabulary::from_defining_ids(Vocabulary::Kind::kKeyed, {2, 1}, {1, 1}); }),
                  "ascending");
  EXPECT_THROW(Vocabulary::from_defining_ids(Vocabulary::Kind::kLookup, {1, 2}, {1, 1}), Error);
}

TEST(Vocabulary, FromDefiningIdsRejectsDamagedInput) {
  EXPECT_THROW(Vocabulary::from_defining_ids(Vocabulary::Kind::kIdentity, {1, 2}), Error);
  EXPECT_THROW(Vocabulary::from_defining_ids(Vocabulary::Kind::kIdentity, {-5}), Error);
  EXPECT_CONTAINS(error_of([] { Vocabulary::from_defining_ids(Vocabulary::Kind::kLookup, {1, 3, 2}); }),
                  "ascending");
  EXPECT_THROW(Vocabulary::from_defining_ids(Vocabulary::Kind::kLookup, {1, 1}), Error);
  EXPECT_THROW(Vocabulary::from_defining_ids(static_cast<Vocabulary::Kind>(7), {1}), Error);
}

}  // namespace
}  // namespace tandem
