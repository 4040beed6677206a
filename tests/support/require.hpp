// Prerequisite checks for tests: a test that lacks one skips with the reason,
// unless BPFLEET_REQUIRE_ALL=1 (set by CI), which turns the skip into a failure
// so that nothing is silently skipped there.
#pragma once

#include <cstdlib>
#include <gtest/gtest.h>
#include <string>

namespace bpfleet::test {

inline bool require_all() {
    const char* v = std::getenv("BPFLEET_REQUIRE_ALL");
    return v && std::string(v) == "1";
}

} // namespace bpfleet::test

#define BPFLEET_REQUIRE(condition, reason)                                                         \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            if (::bpfleet::test::require_all()) {                                                  \
                FAIL() << "prerequisite missing (BPFLEET_REQUIRE_ALL=1): " << (reason);            \
            } else {                                                                               \
                GTEST_SKIP() << (reason);                                                          \
            }                                                                                      \
        }                                                                                          \
    } while (0)
