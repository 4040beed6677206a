#include "inventory/glob.hpp"

#include <gtest/gtest.h>
#include <string>

namespace bpfleet::inventory {
namespace {

TEST(Glob, LiteralMatchesOnlyItself) {
    EXPECT_TRUE(glob_match("rpi4-01", "rpi4-01"));
    EXPECT_FALSE(glob_match("rpi4-01", "rpi4-011"));
    EXPECT_FALSE(glob_match("rpi4-01", "rpi4-0"));
    EXPECT_TRUE(glob_match("", ""));
    EXPECT_FALSE(glob_match("", "a"));
}

TEST(Glob, StarMatchesAnyRunIncludingEmpty) {
    EXPECT_TRUE(glob_match("*", ""));
    EXPECT_TRUE(glob_match("*", "anything"));
    EXPECT_TRUE(glob_match("rpi*", "rpi"));
    EXPECT_TRUE(glob_match("rpi*", "rpi5-01"));
    EXPECT_TRUE(glob_match("*.example.com", "a.b.example.com"));
    EXPECT_FALSE(glob_match("*.example.com", "example.com"));
    EXPECT_TRUE(glob_match("r*-0*", "rock5b-01"));
    EXPECT_FALSE(glob_match("r*-0*", "rock5b-10"));
}

TEST(Glob, QuestionMarkMatchesExactlyOne) {
    EXPECT_TRUE(glob_match("web?", "web1"));
    EXPECT_FALSE(glob_match("web?", "web"));
    EXPECT_FALSE(glob_match("web?", "web12"));
    EXPECT_TRUE(glob_match("??", "ab"));
}

TEST(Glob, BacktracksAcrossStars) {
    EXPECT_TRUE(glob_match("*a*b", "xxaxxaxxb"));
    EXPECT_FALSE(glob_match("*a*b", "xxaxxaxxc"));
    // Many stars over a long text must stay fast (no exponential backtracking).
    std::string text(10000, 'a');
    EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*b", text));
}

TEST(Glob, CaseSensitive) {
    EXPECT_FALSE(glob_match("Web*", "web1"));
}

TEST(Glob, HasGlob) {
    EXPECT_TRUE(has_glob("rpi*"));
    EXPECT_TRUE(has_glob("web?"));
    EXPECT_FALSE(has_glob("rpi4-01"));
}

} // namespace
} // namespace bpfleet::inventory
