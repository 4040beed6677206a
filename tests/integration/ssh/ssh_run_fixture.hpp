// The set-up every `bpfleet run` over SSH test shares (ssh_run_test.cpp,
// ssh_trust_test.cpp, ssh_network_test.cpp): real OpenSSH sshd on 127.0.0.1,
// the bpfleet binary run as a subprocess (BPFLEET_CLI_PATH), and its
// report.json, journal.jsonl and hosts/NAME/ files read back
// (support/report_json.hpp). Contract: docs/cli.md and docs/inventory.md.
//
// Every run passes --known-hosts and --remote-dir inside the test's scratch
// directory and HOME is a scratch folder, so nothing of root's is read or
// written. Each test's processes (sshd, sessions, bpfleet) are gone when it
// ends. Runs are --load-only (these tests are about the transport) unless a
// test sets m_load_only = false.
#pragma once

#include "oci/image_builder.hpp"
#include "oci/test_servers.hpp"
#include "ssh/cli_process.hpp"
#include "ssh/ssh_test_base.hpp"
#include "ssh/sshd_fixture.hpp"
#include "ssh/test_inventory.hpp"
#include "support/report_json.hpp"
#include "support/require.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <pwd.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace bpfleet::test {

inline std::string object_path(const std::string& name) {
    return std::string(BPFLEET_TEST_BPF_DIR) + "/" + name + ".bpf.o";
}

inline const std::string& agent_sha256() {
    static const std::string sha = sha256_hex(read_bytes(BPFLEET_AGENT_PATH));
    return sha;
}

// A file's contents, made by the tests, hashed the way the controller does.
inline std::string file_sha256(const fs::path& p) {
    return sha256_hex(read_bytes(p));
}

class SshRun : public SshTestBase {
protected:
    SshRun() : SshTestBase("bpfleet-ssh-run") {}

    void SetUp() override {
        SshTestBase::SetUp();
        if (set_up_stopped()) {
            return;
        }
        ASSERT_TRUE(fs::exists(BPFLEET_CLI_PATH)) << BPFLEET_CLI_PATH;
        ASSERT_TRUE(fs::exists(BPFLEET_AGENT_PATH)) << BPFLEET_AGENT_PATH;
        ASSERT_TRUE(fs::exists(object_path("pass"))) << object_path("pass");
        m_remote = dir() / "remote-cache";
        m_out = dir() / "out";
    }

    // An sshd that lets m_key in; ASSERT on ok() in the test.
    std::unique_ptr<SshdFixture> sshd(const std::string& name, SshdOptions options = {}) {
        auto f = std::make_unique<SshdFixture>(dir() / ("sshd-" + name), std::move(options));
        if (f->ok()) {
            f->authorize(m_key);
        }
        return f;
    }

    HostSpec host(const std::string& name, const SshdFixture& sshd) const {
        return host_spec(name, sshd, m_key);
    }

    fs::path inventory(const std::vector<HostSpec>& hosts,
                       const std::string& file = "inventory.toml") const {
        return write_inventory(dir() / file, hosts);
    }

    // run -a OBJECTS -i INVENTORY -o OUT --known-hosts --remote-dir --agent [--load-only],
    // then `extra`.
    [[nodiscard]] std::vector<std::string> run_args(const fs::path& inventory_file,
                                                    const std::vector<std::string>& objects,
                                                    const std::vector<std::string>& extra = {},
                                                    const fs::path& out = {}) const {
        std::vector<std::string> args{"run"};
        for (const auto& o : objects) {
            args.insert(args.end(), {"-a", object_path(o)});
        }
        args.insert(args.end(),
                    {"-i", inventory_file.string(), "-o", (out.empty() ? m_out : out).string(),
                     "--known-hosts", m_known_hosts.string(), "--agent",
                     std::string("x86_64=") + BPFLEET_AGENT_PATH});
        if (!m_remote.empty()) { // empty: the hosts' default cache folder
            args.insert(args.end(), {"--remote-dir", m_remote.string()});
        }
        if (m_load_only) {
            args.push_back("--load-only");
        }
        args.insert(args.end(), extra.begin(), extra.end());
        return args;
    }

    CliResult run(const fs::path& inventory_file, const std::vector<std::string>& objects,
                  const std::vector<std::string>& extra = {}, const fs::path& out = {}) const {
        return run_bpfleet(run_args(inventory_file, objects, extra, out), dir());
    }

    [[nodiscard]] Json report(const fs::path& out = {}) const {
        return read_json((out.empty() ? m_out : out) / "report.json");
    }

    // A directory owned by `user` (mode 0755) under the scratch directory,
    // where that user's --remote-dir can be made.
    fs::path user_dir(const std::string& user) const {
        auto d = dir() / ("home-" + user);
        fs::create_directories(d);
        const passwd* pw = ::getpwnam(user.c_str());
        if (pw != nullptr) {
            (void)::chown(d.c_str(), pw->pw_uid, pw->pw_gid);
        }
        return d;
    }

    fs::path m_remote;
    fs::path m_out;
    bool m_load_only = true;
};

} // namespace bpfleet::test

#define ASSERT_SSHD(f) ASSERT_TRUE((f)->ok()) << (f)->error()
// `auto var = report(out)`, failing the test (with the run's output) unless
// report.json is there and is a JSON object.
#define LOAD_REPORT(var, out, result)                                                              \
    auto var = report(out);                                                                        \
    ASSERT_TRUE(var.is_object()) << "no readable report.json\n" << (result).describe()
