// `bpfleet run` over SSH, who is trusted: host keys (changed, unknown under
// strict, a host's own known_hosts file), client keys (wrong, passphrase
// protected, every key type) and become through sudo.

#include "ssh/ssh_run_fixture.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>
#include <set>
#include <string>
#include <sys/stat.h>
#include <vector>
namespace bpfleet::test {
namespace {

using namespace std::chrono_literals;

// "SHA256:..." of a known_hosts line's key, as ssh-keygen -l says it.
std::string key_fingerprint(const std::string& known_hosts_line) {
    TempDir tmp;
    const auto file = tmp.path() / "key";
    write_text(file, known_hosts_line + "\n");
    std::string out;
    if (FILE* p = ::popen(("ssh-keygen -l -f " + file.string() + " 2>/dev/null").c_str(), "r")) {
        char buf[512];
        while (std::fgets(buf, sizeof buf, p) != nullptr) {
            out += buf;
        }
        ::pclose(p);
    }
    const auto start = out.find("SHA256:");
    return start == std::string::npos ? std::string()
                                      : out.substr(start, out.find(' ', start) - start);
}

// 3a. A changed host key: refused under strict and accept-new, before
//     authentication; the other hosts go on; known_hosts is not touched.
TEST_F(SshRun, ChangedHostKeyIsRefusedBeforeAuthentication) {
    auto a = sshd("a");
    auto b = sshd("b");
    auto c = sshd("c");
    ASSERT_SSHD(a);
    ASSERT_SSHD(b);
    ASSERT_SSHD(c);
    auto specs = std::vector<HostSpec>{host("host-a", *a), host("host-b", *b), host("host-c", *c)};
    auto first = run(inventory(specs), {"pass"}, {}, dir() / "out-1");
    ASSERT_EQ(first.exit_code, 0) << first.describe();
    const std::string learned = read_text(m_known_hosts);
    {
        // Each added key is said, as ssh says it, and kept in the report.
        LOAD_REPORT(rep1, dir() / "out-1", first);
        for (const auto& [name, f] : {std::pair{"host-a", a.get()}, std::pair{"host-b", b.get()},
                                      std::pair{"host-c", c.get()}}) {
            FIND_HOST(h, rep1, name, first);
            ASSERT_TRUE(h->contains("host_keys_added")) << h->dump();
            const Json& added = (*h)["host_keys_added"];
            ASSERT_EQ(added.size(), 1u) << added.dump();
            const std::string fp = key_fingerprint(f->known_hosts_line());
            ASSERT_FALSE(fp.empty());
            EXPECT_EQ(str(added[0], "fingerprint"), fp) << added.dump();
            EXPECT_EQ(str(added[0], "file"), m_known_hosts.string()) << added.dump();
            EXPECT_EQ(str(added[0], "host"), "[127.0.0.1]:" + std::to_string(f->port()))
                << added.dump();
            EXPECT_NE(first.err.find(std::string(name) + ": permanently added '[127.0.0.1]:" +
                                     std::to_string(f->port()) + "' (" + str(added[0], "type") +
                                     " " + fp + ") to " + m_known_hosts.string()),
                      std::string::npos)
                << first.err;
        }
    }
    for (const auto* f : {a.get(), b.get(), c.get()}) {
        // The key blob, however the host name is written (plain or hashed).
        std::string blob = f->known_hosts_line().substr(f->known_hosts_line().rfind(' ') + 1);
        EXPECT_NE(learned.find(blob), std::string::npos)
            << "accept-new did not record " << f->endpoint() << "\n"
            << learned;
    }

    ASSERT_TRUE(b->restart_with_new_host_key()) << b->error();
    for (auto& s : specs) {
        s.host_key_policy = "strict";
    }
    auto offset = b->log_size();
    auto second = run(inventory(specs), {"pass"}, {}, dir() / "out-2");
    EXPECT_EQ(second.exit_code, 3) << second.describe();
    LOAD_REPORT(rep, dir() / "out-2", second);
    FIND_HOST(hb, rep, "host-b", second);
    EXPECT_EQ(str(*hb, "status"), "hostkey_mismatch") << hosts_summary(rep);
    EXPECT_EQ(str(*hb, "stage"), "hostkey") << hosts_summary(rep);
    EXPECT_FALSE(str(*hb, "error").empty());
    for (const auto& name : {"host-a", "host-c"}) {
        const Json* h = find_host(rep, name);
        ASSERT_NE(h, nullptr) << hosts_summary(rep);
        EXPECT_EQ(str(*h, "status"), "ok") << hosts_summary(rep);
        EXPECT_FALSE(h->contains("host_keys_added")) << "known already: " << h->dump();
    }
    EXPECT_EQ(num(rep["summary"], "hosts_unanswered"), 1) << rep["summary"].dump();
    // Nothing was sent to the impostor: no authentication request at all.
    EXPECT_EQ(b->log_count("userauth-request", offset), 0) << b->log(offset);
    EXPECT_EQ(b->log_count("Accepted publickey", offset), 0) << b->log(offset);
    EXPECT_EQ(read_text(m_known_hosts), learned) << "strict must not write known_hosts";

    // accept-new takes new keys only, never changed ones.
    for (auto& s : specs) {
        s.host_key_policy = "accept-new";
    }
    offset = b->log_size();
    auto third = run(inventory(specs), {"pass"}, {}, dir() / "out-3");
    EXPECT_EQ(third.exit_code, 3) << third.describe();
    LOAD_REPORT(rep3, dir() / "out-3", third);
    const Json* hb3 = find_host(rep3, "host-b");
    ASSERT_NE(hb3, nullptr) << hosts_summary(rep3);
    EXPECT_EQ(str(*hb3, "status"), "hostkey_mismatch") << hosts_summary(rep3);
    EXPECT_EQ(b->log_count("userauth-request", offset), 0) << b->log(offset);
    EXPECT_EQ(read_text(m_known_hosts), learned) << "accept-new must not replace a changed key";
}

// 3b. strict with an empty known_hosts: the unknown key is refused.
TEST_F(SshRun, StrictRefusesAnUnknownHostKey) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    auto spec = host("host-a", *a);
    spec.host_key_policy = "strict";
    auto r = run(inventory({spec}), {"pass"});
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(h, rep, "host-a", r);
    EXPECT_EQ(str(*h, "status"), "hostkey_mismatch") << hosts_summary(rep);
    EXPECT_EQ(str(*h, "stage"), "hostkey") << hosts_summary(rep);
    EXPECT_EQ(a->log_count("userauth-request"), 0) << a->log();
    EXPECT_EQ(read_text(m_known_hosts), "") << "strict must not learn the key";
}

// 3c. A host's own known_hosts (inventory setting, relative to the inventory
//     file) is checked instead of --known-hosts: strict passes with the key
//     there, and --known-hosts is neither read nor written for that host.
TEST_F(SshRun, AHostsOwnKnownHostsFileIsUsed) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    fs::create_directories(dir() / "lab");
    std::ofstream(dir() / "lab" / "known_hosts") << a->known_hosts_line() << "\n";
    auto spec = host("host-a", *a);
    spec.host_key_policy = "strict";
    spec.extra_lines.push_back("known_hosts = \"known_hosts\"");
    auto r = run(write_inventory(dir() / "lab" / "inventory.toml", {spec}), {"pass"});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(h, rep, "host-a", r);
    EXPECT_EQ(str(*h, "status"), "ok") << hosts_summary(rep);
    EXPECT_EQ(read_text(m_known_hosts), "") << "--known-hosts must not be touched";

    // Without the key in that file, strict refuses and names the file.
    std::ofstream(dir() / "lab" / "known_hosts", std::ios::trunc);
    auto refused = run(write_inventory(dir() / "lab" / "inventory.toml", {spec}), {"pass"});
    EXPECT_EQ(refused.exit_code, 3) << refused.describe();
    LOAD_REPORT(rep2, {}, refused);
    FIND_HOST(h2, rep2, "host-a", refused);
    EXPECT_EQ(str(*h2, "status"), "hostkey_mismatch") << hosts_summary(rep2);
    EXPECT_NE(str(*h2, "error").find((dir() / "lab" / "known_hosts").string()), std::string::npos)
        << str(*h2, "error");
}

// 3d. Without --known-hosts the file is $HOME/.ssh/known_hosts, the home the
//     default keys come from: with HOME elsewhere than the passwd home,
//     accept-new wrote the passwd home's file and the hint named "~".
TEST_F(SshRun, WithoutKnownHostsTheFileFollowsHome) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    const fs::path home = dir() / "home"; // the CLI's HOME (run_bpfleet)
    const fs::path passwd_known = "/root/.ssh/known_hosts";
    const bool passwd_had = fs::exists(passwd_known);
    const std::string passwd_before = passwd_had ? read_text(passwd_known) : "";
    auto spec = host("host-a", *a);
    spec.host_key_policy = "accept-new";
    std::vector<std::string> args = run_args(inventory({spec}), {"pass"});
    auto k = std::find(args.begin(), args.end(), "--known-hosts");
    ASSERT_NE(k, args.end());
    args.erase(k, k + 2);
    auto r = run_bpfleet(args, dir());
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    const std::string blob = a->known_hosts_line().substr(a->known_hosts_line().rfind(' ') + 1);
    EXPECT_NE(read_text(home / ".ssh" / "known_hosts").find(blob), std::string::npos)
        << "accept-new did not record the key under $HOME";
    struct stat st {};
    ASSERT_EQ(::stat((home / ".ssh").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_EQ(passwd_had ? read_text(passwd_known) : "", passwd_before)
        << "the passwd home's known_hosts was written";
    if (!passwd_had) {
        EXPECT_FALSE(fs::exists(passwd_known));
    }

    // Strict with an unknown key names that file in its hint.
    std::ofstream(home / ".ssh" / "known_hosts", std::ios::trunc).close();
    spec.host_key_policy = "strict";
    args = run_args(inventory({spec}), {"pass"});
    k = std::find(args.begin(), args.end(), "--known-hosts");
    args.erase(k, k + 2);
    auto refused = run_bpfleet(args, dir());
    EXPECT_EQ(refused.exit_code, 3) << refused.describe();
    LOAD_REPORT(rep, {}, refused);
    FIND_HOST(h, rep, "host-a", refused);
    EXPECT_NE(str(*h, "error").find((home / ".ssh" / "known_hosts").string()), std::string::npos)
        << str(*h, "error");
}

// A key that is not in authorized_keys.
TEST_F(SshRun, WrongKeyIsAnAuthFailure) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    auto stranger = make_client_key(dir() / "keys", "ed25519", "stranger");
    ASSERT_TRUE(stranger.error.empty()) << stranger.error;
    auto spec = host("host-a", *a);
    spec.identity_files = {stranger.private_key};
    auto r = run(inventory({spec}), {"pass"});
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(h, rep, "host-a", r);
    EXPECT_EQ(str(*h, "status"), "auth_failed") << hosts_summary(rep);
    EXPECT_EQ(str(*h, "stage"), "auth") << hosts_summary(rep);
    EXPECT_FALSE(str(*h, "error").empty());
    EXPECT_FALSE(h->contains("agent") && !(*h)["agent"].is_null()) << "nothing was deployed";
    EXPECT_GE(a->log_count("userauth-request"), 1) << "it did try\n" << a->log();
    EXPECT_EQ(a->log_count("Accepted publickey"), 0) << a->log();
}

// 4b. A key protected by a passphrase is passed over with the reason, and
// never prompted for: bpfleet runs unattended, and a prompt on its terminal
// (OpenSSL's, for PEM keys) would stall every host. Run on a pty to see one.
TEST_F(SshRun, PassphraseProtectedKeyIsPassedOverWithoutAPrompt) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    auto locked = make_client_key(dir() / "keys", "rsa", "locked", "bpfleet-secret");
    ASSERT_TRUE(locked.error.empty()) << locked.error;
    a->authorize(locked);
    ASSERT_NE(read_text(locked.private_key).find("ENCRYPTED"), std::string::npos)
        << "the key is not PEM-encrypted:\n"
        << read_text(locked.private_key);
    auto spec = host("host-a", *a);
    spec.identity_files = {locked.private_key};
    CliProcess process(run_args(inventory({spec}), {"pass"}), dir(), /*terminal=*/true);
    auto r = process.wait(60);
    ASSERT_FALSE(r.timed_out) << "stalled (on a passphrase prompt?)\n" << r.describe();
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    EXPECT_EQ(r.out.find("pass phrase"), std::string::npos) << "prompted on the terminal\n"
                                                            << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(h, rep, "host-a", r);
    EXPECT_EQ(str(*h, "status"), "auth_failed") << hosts_summary(rep);
    const std::string error = str(*h, "error");
    EXPECT_NE(error.find(locked.private_key.string()), std::string::npos) << error;
    EXPECT_NE(error.find("passphrase"), std::string::npos) << error;
    EXPECT_EQ(a->log_count("Accepted publickey"), 0) << a->log();
}

// ed25519, ecdsa and rsa identity files.
TEST_F(SshRun, EveryKeyTypeLogsIn) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    std::vector<HostSpec> specs;
    for (const std::string type : {"ed25519", "ecdsa", "rsa"}) {
        auto key = make_client_key(dir() / "keys", type, "user_" + type);
        ASSERT_TRUE(key.error.empty()) << key.error;
        a->authorize(key);
        specs.push_back(host_spec("key-" + type, *a, key));
    }
    auto r = run(inventory(specs), {"pass"});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    LOAD_REPORT(rep, {}, r);
    EXPECT_EQ(host_names(rep), (Names{"key-ed25519", "key-ecdsa", "key-rsa"}))
        << hosts_summary(rep);
    for (const auto& h : hosts_of(rep)) {
        EXPECT_EQ(str(h, "status"), "ok") << hosts_summary(rep);
    }
    for (const char* algo : {"ssh2: ED25519", "ssh2: ECDSA", "ssh2: RSA"}) {
        EXPECT_GE(a->log_count(algo), 1) << algo << "\n" << a->log();
    }
}

// 7a. become through a NOPASSWD rule: the agent runs as root.
TEST_F(SshRun, BecomeRunsTheAgentAsRoot) {
    ASSERT_TRUE(s_users_error.empty()) << s_users_error;
    BPFLEET_REQUIRE(bpf_usable(), "the kernel refuses BPF here: loads can't show root");
    auto a = sshd("a");
    ASSERT_SSHD(a);
    auto spec = host("host-sudo", *a);
    spec.user = kSudoUser;
    spec.become = true;
    m_remote = user_dir(kSudoUser) / "cache";
    auto r = run(inventory({spec}), {"pass"});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(h, rep, "host-sudo", r);
    EXPECT_EQ(str(*h, "status"), "ok") << hosts_summary(rep);
    EXPECT_EQ(str(*h, "user"), kSudoUser);
    ASSERT_TRUE(h->contains("facts") && (*h)["facts"].contains("privileges"))
        << h->dump(2).substr(0, 4000);
    EXPECT_EQ(num((*h)["facts"]["privileges"], "euid"), 0) << (*h)["facts"]["privileges"].dump();
    const Json* pass = find_check(*h, "pass.bpf.o");
    ASSERT_NE(pass, nullptr) << h->dump(2).substr(0, 4000);
    auto verdicts = load_verdicts(*pass);
    EXPECT_FALSE(verdicts.empty());
    for (const auto& [program, verdict] : verdicts) {
        EXPECT_EQ(verdict, "pass") << program;
    }
    EXPECT_GE(a->log_count(std::string("Accepted publickey for ") + kSudoUser), 1) << a->log();
    // Deployed as the SSH user, not as root.
    struct stat st {};
    auto deployed = m_remote / ("agent-" + agent_sha256());
    ASSERT_EQ(::stat(deployed.c_str(), &st), 0) << deployed;
    EXPECT_EQ(st.st_uid, ::getpwnam(kSudoUser)->pw_uid);
}

// 7b. become where sudo wants a password: an auth failure at "become".
TEST_F(SshRun, BecomeWithoutASudoRuleIsAnAuthFailure) {
    ASSERT_TRUE(s_users_error.empty()) << s_users_error;
    auto a = sshd("a");
    ASSERT_SSHD(a);
    auto spec = host("host-nosudo", *a);
    spec.user = kNoSudoUser;
    spec.become = true;
    m_remote = user_dir(kNoSudoUser) / "cache";
    auto r = run(inventory({spec}), {"pass"});
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(h, rep, "host-nosudo", r);
    EXPECT_EQ(str(*h, "status"), "auth_failed") << hosts_summary(rep);
    EXPECT_EQ(str(*h, "stage"), "become") << hosts_summary(rep);
    std::string error = str(*h, "error");
    std::transform(error.begin(), error.end(), error.begin(), ::tolower);
    EXPECT_NE(error.find("sudo"), std::string::npos) << error;
    EXPECT_NE(error.find("password"), std::string::npos) << error;
}

} // namespace
} // namespace bpfleet::test
