#include "common/suggest.hpp"

#include <gtest/gtest.h>

namespace bpfleet {
namespace {

TEST(Suggest, EditDistanceCountsASwapAsOne) {
    EXPECT_EQ(edit_distance("", ""), 0u);
    EXPECT_EQ(edit_distance("limit", "limit"), 0u);
    EXPECT_EQ(edit_distance("limt", "limit"), 1u);
    EXPECT_EQ(edit_distance("lmiit", "limit"), 1u);
    EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
    EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(Suggest, OnlyNearWordsAreSuggested) {
    const std::vector<std::string> flags{"--limit", "--forks", "--list-hosts", "--inventory"};
    EXPECT_EQ(closest_match("--limt", flags), "--limit");
    EXPECT_EQ(closest_match("--frks", flags), "--forks");
    EXPECT_EQ(closest_match("--list-host", flags), "--list-hosts");
    EXPECT_FALSE(closest_match("--colour-scheme", flags));
    EXPECT_FALSE(closest_match("", flags));
    // Short words allow one edit only: "rn" is not "run"'s typo of two.
    const std::vector<std::string> commands{"run", "probe", "pull"};
    EXPECT_EQ(closest_match("rn", commands), "run");
    EXPECT_FALSE(closest_match("xy", commands));
    EXPECT_EQ(did_you_mean("prbe", commands), " (did you mean 'probe'?)");
    EXPECT_EQ(did_you_mean("zzzzzz", commands), "");
}

} // namespace
} // namespace bpfleet
