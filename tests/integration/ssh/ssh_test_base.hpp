// The start every SSH test shares: the prerequisites (skipped, or failed
// under BPFLEET_REQUIRE_ALL=1), the test users made once per suite, a scratch
// directory, an ed25519 client key in it and an empty known_hosts file.
// A test suite derives from it, names its scratch prefix, and in its own
// SetUp calls SshTestBase::SetUp() and returns when that skipped or failed.
#pragma once

#include "ssh/sshd_fixture.hpp"
#include "support/require.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <utility>

namespace bpfleet::test {

class SshTestBase : public ::testing::Test {
protected:
    explicit SshTestBase(std::string scratch_prefix)
        : m_scratch_prefix(std::move(scratch_prefix)) {}

    static void SetUpTestSuite() {
        if (ssh_prerequisites_missing().empty()) {
            s_users_error = ensure_test_users();
        }
    }

    void SetUp() override {
        auto missing = ssh_prerequisites_missing();
        BPFLEET_REQUIRE(missing.empty(), missing);
        m_scratch = std::make_unique<ScratchDir>(m_scratch_prefix);
        m_key = make_client_key(dir() / "keys", "ed25519");
        ASSERT_TRUE(m_key.error.empty()) << m_key.error;
        m_known_hosts = dir() / "known_hosts";
        std::ofstream(m_known_hosts).close();
    }

    // True when SetUp skipped the test or failed: the derived SetUp stops there.
    [[nodiscard]] bool set_up_stopped() const { return IsSkipped() || HasFatalFailure(); }

    [[nodiscard]] const fs::path& dir() const { return m_scratch->path(); }

    // What making the test users said ("" when they exist); tests that need them ASSERT on it.
    static inline std::string s_users_error;
    std::string m_scratch_prefix;
    std::unique_ptr<ScratchDir> m_scratch;
    ClientKey m_key;
    fs::path m_known_hosts;
};

} // namespace bpfleet::test
