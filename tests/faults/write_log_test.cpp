// The write-log checker on hand-made logs: it must flag what the fault suite relies on it to flag
// (a stale write, a token regression, a token with two owners), and nothing in a clean handover.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "write_log.hpp"

namespace tenure::faults {
namespace {

const int64_t ms = 1'000'000;

TEST(WriteLogCheck, CleanHandoverPasses) {
  auto c = check_writes({{1 * ms, "a", 1}, {2 * ms, "a", 1}, {10 * ms, "b", 2}, {11 * ms, "b", 2}});
  EXPECT_TRUE(c.safe());
  EXPECT_EQ(c.terms.size(), 2u);
  EXPECT_EQ(c.overlaps, 0);
}

TEST(WriteLogCheck, OldLeaderWritingAfterTheNewOneIsStale) {
  auto c =
      check_writes({{1 * ms, "a", 1}, {10 * ms, "b", 2}, {13 * ms, "a", 1}, {14 * ms, "b", 2}});
  EXPECT_FALSE(c.safe());
  ASSERT_EQ(c.stale.size(), 1u);
  EXPECT_EQ(c.stale[0].identity, "a");
  EXPECT_EQ(c.overlaps, 1);
  EXPECT_DOUBLE_EQ(c.max_overlap_ms, 3.0);
  EXPECT_EQ(c.regressions, 0);
}

TEST(WriteLogCheck, NewTermWithSmallerTokenIsARegression) {
  auto c = check_writes({{1 * ms, "a", 5}, {10 * ms, "b", 4}});
  EXPECT_EQ(c.regressions, 1);
  EXPECT_FALSE(c.safe());
}

TEST(WriteLogCheck, TokenWithTwoOwners) {
  auto c = check_writes({{1 * ms, "a", 3}, {10 * ms, "b", 3}});
  ASSERT_EQ(c.shared_tokens.size(), 1u);
  EXPECT_EQ(c.shared_tokens[0], 3u);
  EXPECT_FALSE(c.safe());
}

TEST(WriteLogCheck, ReadsAndSortsTheLogSkippingATornLine) {
  std::string path = ::testing::TempDir() + "/write_log_test.log";
  {
    std::ofstream out(path);
    out << "2000000 b 2\n1000000 a 1\n3000000 b";  // out of order, last line torn
  }
  auto ws = read_write_log(path);
  std::remove(path.c_str());
  ASSERT_EQ(ws.size(), 2u);
  EXPECT_EQ(ws[0].identity, "a");
  EXPECT_EQ(ws[1].token, 2u);
}

}  // namespace
}  // namespace tenure::faults
