// `bpfleet run` over SSH against real OpenSSH sshd on 127.0.0.1: the
// bpfleet binary runs as a subprocess (BPFLEET_CLI_PATH) and the tests read
// its report.json, journal.jsonl and hosts/NAME/ files, and the sshd logs.
// Contract: docs/cli.md and docs/inventory.md.
//
// Every run passes --known-hosts and --remote-dir inside the test's scratch
// directory and HOME is a scratch folder, so nothing of root's is read or
// written. Each test's processes (sshd, sessions, bpfleet) are gone when it
// ends. Runs are --load-only (these tests are about the transport) except in
// the first test, which checks full attach-and-fire reports over SSH.

#include "oci/image_builder.hpp"
#include "oci/test_servers.hpp"
#include "ssh/ssh_test_base.hpp"
#include "ssh/sshd_fixture.hpp"
#include "support/require.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <pwd.h>
#include <regex>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace bpfleet::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using Names = std::set<std::string>;

std::string slurp(const fs::path& p) {
    return read_text(p);
}

// The file as JSON; null when missing or not JSON (tests assert on that).
Json read_json(const fs::path& p) {
    return Json::parse(slurp(p), nullptr, /*allow_exceptions=*/false);
}

// The complete lines of a journal (a line still being written is left out).
std::vector<Json> read_journal(const fs::path& p) {
    std::string text = slurp(p);
    std::vector<Json> out;
    std::size_t pos = 0;
    for (auto end = text.find('\n'); end != std::string::npos;
         pos = end + 1, end = text.find('\n', pos)) {
        out.push_back(Json::parse(text.substr(pos, end - pos), nullptr, false));
    }
    return out;
}

Names names_of(const std::vector<Json>& hosts) {
    Names names;
    for (const auto& h : hosts) {
        if (h.is_object() && h.contains("name") && h["name"].is_string()) {
            names.insert(h["name"].get<std::string>());
        }
    }
    return names;
}

// report["hosts"], or an empty array.
Json hosts_of(const Json& report) {
    return report.is_object() && report.contains("hosts") && report["hosts"].is_array()
               ? report["hosts"]
               : Json::array();
}

Names host_names(const Json& report) {
    if (!report.is_object() || !report.contains("hosts") || !report["hosts"].is_array()) {
        return {};
    }
    return names_of(report["hosts"].get<std::vector<Json>>());
}

const Json* find_host(const Json& report, const std::string& name) {
    if (!report.is_object() || !report.contains("hosts") || !report["hosts"].is_array()) {
        return nullptr;
    }
    for (const auto& h : report["hosts"]) {
        if (h.value("name", "") == name) {
            return &h;
        }
    }
    return nullptr;
}

std::string str(const Json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                  : std::string{};
}

// One line per host (name status stage: error), for failure messages.
std::string hosts_summary(const Json& report) {
    if (!report.is_object() || !report.contains("hosts")) {
        return "(no report.json or no hosts in it)";
    }
    std::string out;
    for (const auto& h : report["hosts"]) {
        out += "  " + str(h, "name") + " " + str(h, "status") + " [" + str(h, "stage") + "] " +
               str(h, "error") + "\n";
    }
    return out;
}

// The check of the object whose artifact or object name ends with `name`.
const Json* find_check(const Json& host, const std::string& name) {
    if (!host.contains("checks") || !host["checks"].is_array()) {
        return nullptr;
    }
    auto ends_with = [&](const std::string& s) {
        return s.size() >= name.size() && s.compare(s.size() - name.size(), name.size(), name) == 0;
    };
    for (const auto& c : host["checks"]) {
        if (ends_with(str(c, "object")) || ends_with(str(c, "artifact"))) {
            return &c;
        }
    }
    return nullptr;
}

// program name -> load verdict, of one check.
std::map<std::string, std::string> load_verdicts(const Json& check) {
    std::map<std::string, std::string> out;
    if (!check.contains("report") || !check["report"].contains("programs")) {
        return out;
    }
    for (const auto& p : check["report"]["programs"]) {
        out[str(p, "name")] = p.contains("load") ? str(p["load"], "verdict") : std::string{};
    }
    return out;
}

std::string object_path(const std::string& name) {
    return std::string(BPFLEET_TEST_BPF_DIR) + "/" + name + ".bpf.o";
}

const std::string& agent_sha256() {
    static const std::string sha = sha256_hex(read_bytes(BPFLEET_AGENT_PATH));
    return sha;
}

// A file's contents, made by the tests, hashed the way the controller does.
std::string file_sha256(const fs::path& p) {
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

// `const Json* var`: the host `name` of report `rep`, failing the test (with
// the hosts and the run's output) when the report lacks it.
#define FIND_HOST(var, rep, name, result)                                                          \
    const Json* var = find_host(rep, name);                                                        \
    ASSERT_NE(var, nullptr) << hosts_summary(rep) << (result).describe()
#define ASSERT_SSHD(f) ASSERT_TRUE((f)->ok()) << (f)->error()
// `auto var = report(out)`, failing the test (with the run's output) unless
// report.json is there and is a JSON object.
#define LOAD_REPORT(var, out, result)                                                              \
    auto var = report(out);                                                                        \
    ASSERT_TRUE(var.is_object()) << "no readable report.json\n" << (result).describe()

// 1. Three hosts, two objects: statuses, facts, verdicts, the report, the
//    journal and the per-host files.
TEST_F(SshRun, ChecksEveryObjectOnThreeHosts) {
    auto a = sshd("a");
    auto b = sshd("b");
    auto c = sshd("c");
    ASSERT_SSHD(a);
    ASSERT_SSHD(b);
    ASSERT_SSHD(c);
    std::map<std::string, const SshdFixture*> fleet{
        {"host-a", a.get()}, {"host-b", b.get()}, {"host-c", c.get()}};
    auto inv = inventory({host("host-a", *a), host("host-b", *b), host("host-c", *c)});
    BPFLEET_REQUIRE(bpf_usable(), "the kernel refuses BPF here: no verdicts to compare");
    m_load_only = false; // the whole check: load, attach and fire
    auto r = run(inv, {"pass", "mixed"});
    EXPECT_EQ(r.exit_code, 1) << "mixed.bpf.o's bad_unchecked is refused on every host: exit 1\n"
                              << r.describe();

    LOAD_REPORT(rep, {}, r);
    EXPECT_EQ(str(rep, "schema"), "bpfleet.run/v1");
    EXPECT_EQ(rep.value("exit_status", -1), 1);
    EXPECT_EQ(rep["artifacts"].size(), 2u) << rep["artifacts"].dump();
    ASSERT_EQ(host_names(rep), (Names{"host-a", "host-b", "host-c"}))
        << hosts_summary(rep) << r.describe();
    int programs = 0;
    for (const auto& [name, fixture] : fleet) {
        SCOPED_TRACE(name);
        const Json& h = *find_host(rep, name);
        EXPECT_EQ(str(h, "status"), "ok") << hosts_summary(rep) << r.describe();
        EXPECT_EQ(str(h, "stage"), "");
        EXPECT_EQ(str(h, "transport"), "ssh");
        EXPECT_EQ(str(h, "address"), "127.0.0.1");
        EXPECT_EQ(h.value("port", 0), fixture->port());
        EXPECT_EQ(str(h, "user"), "root");
        EXPECT_GE(h.value("attempts", 0), 1);
        ASSERT_TRUE(h.contains("facts") && h["facts"].is_object()) << h.dump(2).substr(0, 4000);
        EXPECT_TRUE(h["facts"].contains("kernel")) << h["facts"].dump().substr(0, 2000);
        ASSERT_TRUE(h.contains("agent")) << h.dump(2).substr(0, 4000);
        EXPECT_EQ(str(h["agent"], "arch"), "x86_64");
        EXPECT_EQ(str(h["agent"], "sha256"), agent_sha256());

        const Json* pass = find_check(h, "pass.bpf.o");
        const Json* mixed = find_check(h, "mixed.bpf.o");
        ASSERT_NE(pass, nullptr) << h.dump(2).substr(0, 4000);
        ASSERT_NE(mixed, nullptr) << h.dump(2).substr(0, 4000);
        auto pass_verdicts = load_verdicts(*pass);
        EXPECT_FALSE(pass_verdicts.empty()) << pass->dump(2).substr(0, 4000);
        for (const auto& [program, verdict] : pass_verdicts) {
            EXPECT_EQ(verdict, "pass") << program;
        }
        auto mixed_verdicts = load_verdicts(*mixed);
        EXPECT_EQ(mixed_verdicts["good_pass"], "pass") << mixed->dump(2).substr(0, 4000);
        EXPECT_EQ(mixed_verdicts["bad_unchecked"], "fail") << mixed->dump(2).substr(0, 4000);
        programs += static_cast<int>(pass_verdicts.size() + mixed_verdicts.size());

        auto facts = read_json(m_out / "hosts" / name / "facts.json");
        EXPECT_TRUE(facts.is_object() && facts.contains("kernel")) << facts.dump().substr(0, 1000);
        EXPECT_TRUE(fs::exists(m_out / "hosts" / name / "agent-stderr.txt"));
        EXPECT_GE(fixture->log_count("Accepted publickey for root"), 1) << fixture->log();
    }
    const Json& summary = rep["summary"];
    EXPECT_EQ(summary.value("hosts", -1), 3) << summary.dump();
    EXPECT_EQ(summary.value("hosts_ok", -1), 3) << summary.dump();
    EXPECT_EQ(summary.value("hosts_unanswered", -1), 0) << summary.dump();
    EXPECT_EQ(summary.value("programs", -1), programs) << summary.dump();
    EXPECT_EQ(summary.value("fail", -1), 3) << summary.dump();
    EXPECT_EQ(summary.value("pass", -1), programs - 3) << summary.dump();

    auto journal = read_journal(m_out / "journal.jsonl");
    EXPECT_EQ(journal.size(), 3u) << slurp(m_out / "journal.jsonl").substr(0, 4000);
    EXPECT_EQ(names_of(journal), (Names{"host-a", "host-b", "host-c"}));
    for (const auto& line : journal) {
        EXPECT_EQ(str(line, "status"), "ok") << line.dump().substr(0, 1000);
    }
}

// 2. The agent goes up once per remote dir, under its hash, and is reused.
TEST_F(SshRun, UploadsTheAgentOnceAndReusesIt) {
    auto a = sshd("a");
    auto b = sshd("b");
    auto c = sshd("c");
    ASSERT_SSHD(a);
    ASSERT_SSHD(b);
    ASSERT_SSHD(c);
    auto inv = inventory({host("host-a", *a), host("host-b", *b), host("host-c", *c)});
    ASSERT_FALSE(fs::exists(m_remote));
    auto first = run(inv, {"pass"}, {"--forks", "1"}, dir() / "out-1");
    ASSERT_EQ(first.exit_code, 0) << first.describe();
    LOAD_REPORT(rep1, dir() / "out-1", first);
    const fs::path deployed = m_remote / ("agent-" + agent_sha256());
    int uploaded = 0;
    for (const auto& name : {"host-a", "host-b", "host-c"}) {
        const Json* h = find_host(rep1, name);
        ASSERT_NE(h, nullptr) << hosts_summary(rep1);
        ASSERT_TRUE(h->contains("agent")) << h->dump(2).substr(0, 4000);
        const Json& agent = (*h)["agent"];
        EXPECT_EQ(str(agent, "sha256"), agent_sha256());
        EXPECT_EQ(str(agent, "path"), deployed.string());
        uploaded += agent.value("uploaded", false) ? 1 : 0;
    }
    // One host at a time on one machine: the first uploads, the others find it.
    EXPECT_EQ(uploaded, 1) << rep1["hosts"].dump().substr(0, 4000);

    struct stat st {};
    ASSERT_EQ(::stat(m_remote.c_str(), &st), 0) << m_remote;
    EXPECT_EQ(st.st_mode & 07777, 0700u) << "remote dir mode " << std::oct << (st.st_mode & 07777);
    ASSERT_EQ(::stat(deployed.c_str(), &st), 0) << deployed;
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_NE(st.st_mode & S_IXUSR, 0u) << "not executable";
    EXPECT_EQ(file_sha256(deployed), agent_sha256());
    std::vector<std::string> entries;
    for (const auto& e : fs::directory_iterator(m_remote)) {
        entries.push_back(e.path().filename().string());
    }
    EXPECT_EQ(entries, std::vector<std::string>{deployed.filename().string()})
        << "nothing else is left on the host";

    auto second = run(inv, {"pass"}, {}, dir() / "out-2");
    ASSERT_EQ(second.exit_code, 0) << second.describe();
    LOAD_REPORT(rep2, dir() / "out-2", second);
    for (const auto& name : {"host-a", "host-b", "host-c"}) {
        const Json* h = find_host(rep2, name);
        ASSERT_NE(h, nullptr) << hosts_summary(rep2);
        EXPECT_EQ(str((*h)["agent"], "sha256"), agent_sha256()) << name;
        EXPECT_FALSE((*h)["agent"].value("uploaded", true)) << name << ": uploaded again";
    }
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
    const std::string learned = slurp(m_known_hosts);
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
    }
    EXPECT_EQ(rep["summary"].value("hosts_unanswered", -1), 1) << rep["summary"].dump();
    // Nothing was sent to the impostor: no authentication request at all.
    EXPECT_EQ(b->log_count("userauth-request", offset), 0) << b->log(offset);
    EXPECT_EQ(b->log_count("Accepted publickey", offset), 0) << b->log(offset);
    EXPECT_EQ(slurp(m_known_hosts), learned) << "strict must not write known_hosts";

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
    EXPECT_EQ(slurp(m_known_hosts), learned) << "accept-new must not replace a changed key";
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
    EXPECT_EQ(slurp(m_known_hosts), "") << "strict must not learn the key";
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
    EXPECT_EQ(slurp(m_known_hosts), "") << "--known-hosts must not be touched";

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

// 4. A key that is not in authorized_keys.
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

// 4c. A host that takes the connection but does not finish the handshake in
// time (a stopped sshd: the kernel still accepts) is tried again, and gets
// through once it answers.
TEST_F(SshRun, HandshakeThatTimesOutIsRetried) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    auto spec = host("host-a", *a);
    spec.connect_timeout = 2;
    ASSERT_EQ(::kill(a->pid(), SIGSTOP), 0);
    CliProcess process(run_args(inventory({spec}), {"pass"}, {"--host-retries", "2"}), dir());
    bool failed_once = false;
    for (int i = 0; i < 600 && !failed_once && process.running(); ++i) {
        std::this_thread::sleep_for(50ms);
        const std::string said = process.out_so_far() + process.err_so_far();
        failed_once = said.find("attempt 1 failed") != std::string::npos;
    }
    ::kill(a->pid(), SIGCONT);
    auto r = process.wait(60);
    ASSERT_TRUE(failed_once) << r.describe();
    EXPECT_NE((r.out + r.err).find("timed out while"), std::string::npos) << r.describe();
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(h, rep, "host-a", r);
    EXPECT_EQ(str(*h, "status"), "ok") << hosts_summary(rep);
    EXPECT_EQ(h->value("attempts", 0), 2) << hosts_summary(rep);
}

// 5. Nobody listens: unreachable, fast, naming where it tried.
TEST_F(SshRun, ClosedPortIsUnreachableWithinTheConnectTimeout) {
    int port = free_port();
    ASSERT_FALSE(listening_on(port));
    HostSpec spec;
    spec.name = "host-closed";
    spec.port = port;
    spec.identity_files = {m_key.private_key};
    spec.connect_timeout = 3;
    auto r = run(inventory({spec}), {"pass"});
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    // A refused connection, its retries and their backoff: well under 10 s.
    EXPECT_LT(r.seconds, 10.0) << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(h, rep, "host-closed", r);
    EXPECT_EQ(str(*h, "status"), "unreachable") << hosts_summary(rep);
    EXPECT_EQ(str(*h, "stage"), "connect") << hosts_summary(rep);
    const std::string error = str(*h, "error");
    EXPECT_NE(error.find("127.0.0.1"), std::string::npos) << error;
    EXPECT_NE(error.find(std::to_string(port)), std::string::npos) << error;
    EXPECT_EQ(rep["summary"].value("hosts_unanswered", -1), 1) << rep["summary"].dump();
}

// 5b. Addresses that are names are looked up (off the event loop): "localhost"
// gets in, a name that does not exist is unreachable and says so.
TEST_F(SshRun, HostNamesAreLookedUp) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    auto named = host("by-name", *a);
    named.address = "localhost";
    HostSpec nowhere = host("nowhere", *a);
    nowhere.address = "no-such-host.invalid";
    auto r = run(inventory({named, nowhere}), {"pass"}, {"--host-retries", "0"});
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(h, rep, "by-name", r);
    EXPECT_EQ(str(*h, "status"), "ok") << hosts_summary(rep);
    const Json* n = find_host(rep, "nowhere");
    ASSERT_NE(n, nullptr) << hosts_summary(rep);
    EXPECT_EQ(str(*n, "status"), "unreachable") << hosts_summary(rep);
    EXPECT_EQ(str(*n, "stage"), "connect") << hosts_summary(rep);
    EXPECT_NE(str(*n, "error").find("cannot resolve no-such-host.invalid"), std::string::npos)
        << str(*n, "error");
}

// 6a. A bastion, and a chain of two; jump_only hosts are not checked.
TEST_F(SshRun, JumpHostsAndChainedJumpHosts) {
    auto bastion1 = sshd("bastion1");
    auto bastion2 = sshd("bastion2");
    auto target = sshd("target");
    ASSERT_SSHD(bastion1);
    ASSERT_SSHD(bastion2);
    ASSERT_SSHD(target);
    auto b1 = host("bastion1", *bastion1);
    b1.jump_only = true;
    auto b2 = host("bastion2", *bastion2);
    b2.jump_only = true;
    b2.jump = {"bastion1"};
    auto one = host("via-one", *target);
    one.jump = {"bastion1"};
    auto two = host("via-two", *target);
    two.jump = {
        "bastion2"}; // bastion2's own jump is followed first: bastion1 -> bastion2 -> target
    auto r = run(inventory({b1, b2, one, two}), {"pass"});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    LOAD_REPORT(rep, {}, r);
    EXPECT_EQ(host_names(rep), (Names{"via-one", "via-two"}))
        << "jump_only hosts are never checked\n"
        << hosts_summary(rep) << r.describe();
    for (const auto& name : {"via-one", "via-two"}) {
        const Json* h = find_host(rep, name);
        ASSERT_NE(h, nullptr) << hosts_summary(rep);
        EXPECT_EQ(str(*h, "status"), "ok") << hosts_summary(rep);
        EXPECT_EQ(h->value("port", 0), target->port());
    }
    auto forward_to = [](const SshdFixture& f) {
        return "to 127.0.0.1 port " + std::to_string(f.port());
    };
    const std::string request = "server_request_direct_tcpip: originator";
    // via-one: bastion1 -> target. via-two: bastion1 -> bastion2 -> target.
    EXPECT_GE(bastion1->log_count(forward_to(*target)), 1) << bastion1->log();
    EXPECT_GE(bastion1->log_count(forward_to(*bastion2)), 1) << bastion1->log();
    EXPECT_GE(bastion2->log_count(forward_to(*target)), 1) << bastion2->log();
    EXPECT_GE(bastion1->log_count(request), 2) << bastion1->log();
    EXPECT_EQ(bastion2->log_count(forward_to(*bastion1)), 0) << bastion2->log();
    EXPECT_GE(target->log_count("Accepted publickey for root"), 2) << target->log();
}

// 6b. A bastion that refuses to forward: the host behind it is unreachable.
TEST_F(SshRun, JumpHostWithoutForwardingFailsNamingTheJump) {
    auto closed = sshd("closed", SshdOptions{.extra_config = {"AllowTcpForwarding no"}});
    auto target = sshd("target");
    ASSERT_SSHD(closed);
    ASSERT_SSHD(target);
    auto bastion = host("closed-bastion", *closed);
    bastion.jump_only = true;
    auto behind = host("behind", *target);
    behind.jump = {"closed-bastion"};
    auto direct = host("direct", *target);
    auto r = run(inventory({bastion, behind, direct}), {"pass"});
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(h, rep, "behind", r);
    EXPECT_EQ(str(*h, "status"), "unreachable") << hosts_summary(rep);
    EXPECT_EQ(str(*h, "stage"), "connect") << hosts_summary(rep);
    const std::string error = str(*h, "error");
    EXPECT_TRUE(error.find("closed-bastion") != std::string::npos ||
                error.find(std::to_string(closed->port())) != std::string::npos)
        << "the error names the jump: " << error;
    EXPECT_EQ(h->value("attempts", 0), 1) << "a bastion that forwards nothing is not retried";
    const Json* d = find_host(rep, "direct");
    ASSERT_NE(d, nullptr) << hosts_summary(rep);
    EXPECT_EQ(str(*d, "status"), "ok") << hosts_summary(rep);
    EXPECT_GE(closed->log_count("Accepted publickey"), 1) << "the bastion was logged in to\n"
                                                          << closed->log();
    EXPECT_EQ(target->log_count("Accepted publickey"), 1) << "only `direct` reached the target\n"
                                                          << target->log();
}

// 6c. Behind a working bastion nobody listens: unreachable, retried like a
// refusal without a bastion, and the error says where the jump host could
// not connect.
TEST_F(SshRun, ClosedPortBehindABastionIsRetriedAndUnreachable) {
    auto b = sshd("bastion");
    ASSERT_SSHD(b);
    auto bastion = host("bastion", *b);
    bastion.jump_only = true;
    const int port = free_port();
    ASSERT_FALSE(listening_on(port));
    HostSpec behind;
    behind.name = "behind";
    behind.port = port;
    behind.identity_files = {m_key.private_key};
    behind.jump = {"bastion"};
    auto r = run(inventory({bastion, behind}), {"pass"}, {"--host-retries", "1"});
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(h, rep, "behind", r);
    EXPECT_EQ(str(*h, "status"), "unreachable") << hosts_summary(rep);
    EXPECT_EQ(str(*h, "stage"), "connect") << hosts_summary(rep);
    EXPECT_EQ(h->value("attempts", 0), 2) << hosts_summary(rep);
    const std::string error = str(*h, "error");
    EXPECT_NE(error.find(std::to_string(port)), std::string::npos) << error;
    EXPECT_NE(error.find(std::to_string(b->port())), std::string::npos)
        << "names the jump: " << error;
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
    EXPECT_EQ((*h)["facts"]["privileges"].value("euid", -1), 0)
        << (*h)["facts"]["privileges"].dump();
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

// The default cache folder is ~/.cache/bpfleet; when $HOME can't take it, a
// private folder in /tmp.
TEST_F(SshRun, AgentGoesToTheHomeCacheElseToAPrivateTmpFolder) {
    ASSERT_TRUE(s_users_error.empty()) << s_users_error;
    const passwd* pw = ::getpwnam(kNoSudoUser);
    ASSERT_NE(pw, nullptr);
    const fs::path home = pw->pw_dir;
    const fs::path cache = home / ".cache";
    const fs::path tmp_dir = fs::path("/tmp") / ("bpfleet-" + std::to_string(pw->pw_uid));
    std::error_code ec;
    fs::remove_all(cache / "bpfleet", ec);
    fs::remove_all(tmp_dir, ec);
    auto a = sshd("a");
    ASSERT_SSHD(a);
    auto spec = host("plain-user", *a);
    spec.user = kNoSudoUser;
    m_remote.clear();
    const std::string agent_file = "agent-" + agent_sha256();

    auto first = run(inventory({spec}), {"pass"});
    LOAD_REPORT(rep, {}, first);
    const Json* h = find_host(rep, "plain-user");
    ASSERT_NE(h, nullptr) << first.describe();
    EXPECT_EQ(str(*h, "status"), "ok") << hosts_summary(rep);
    EXPECT_EQ(str((*h)["agent"], "path"), (cache / "bpfleet" / agent_file).string());
    struct stat st {};
    ASSERT_EQ(::stat((cache / "bpfleet").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    EXPECT_EQ(st.st_uid, pw->pw_uid);

    // ~/.cache is now a file the user can't replace: the fallback takes over.
    fs::remove_all(cache, ec);
    std::ofstream(cache) << "not a folder\n";
    auto second = run(inventory({spec}), {"pass"});
    fs::remove(cache, ec);
    LOAD_REPORT(rep2, {}, second);
    h = find_host(rep2, "plain-user");
    ASSERT_NE(h, nullptr) << second.describe();
    EXPECT_EQ(str(*h, "status"), "ok") << hosts_summary(rep2);
    EXPECT_EQ(str((*h)["agent"], "path"), (tmp_dir / agent_file).string());
    EXPECT_TRUE((*h)["agent"]["uploaded"].get<bool>());
    ASSERT_EQ(::stat(tmp_dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    EXPECT_EQ(st.st_uid, pw->pw_uid);
    fs::remove_all(tmp_dir, ec);
}

// 8. --limit and --shard pick exactly their hosts; bad ones connect nowhere.
TEST_F(SshRun, LimitAndShardSelectExactlyTheirHosts) {
    auto a = sshd("a");
    ASSERT_SSHD(a);
    std::vector<HostSpec> specs;
    for (const auto& [name, tags] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"alpha", {"x"}}, {"bravo", {"x", "y"}}, {"charlie", {"y"}}, {"delta", {}}}) {
        auto s = host(name, *a);
        s.tags = tags;
        specs.push_back(s);
    }
    auto inv = inventory(specs);
    int n = 0;
    auto selected = [&](const std::vector<std::string>& selection) {
        auto out = dir() / ("out-" + std::to_string(++n));
        auto r = run(inv, {"pass"}, selection, out);
        EXPECT_EQ(r.exit_code, 0) << r.describe();
        auto rep = report(out);
        EXPECT_TRUE(rep.is_object()) << "no readable report.json\n" << r.describe();
        for (const auto& h : hosts_of(rep)) {
            EXPECT_EQ(str(h, "status"), "ok") << hosts_summary(rep);
        }
        return host_names(rep);
    };
    EXPECT_EQ(selected({"--limit", "tag:x"}), (Names{"alpha", "bravo"}));
    EXPECT_EQ(selected({"--limit", "!bravo"}), (Names{"alpha", "charlie", "delta"}));
    // Sorted by name, the k-th host goes to shard (k mod N) + 1.
    auto shard1 = selected({"--shard", "1/2"});
    auto shard2 = selected({"--shard", "2/2"});
    EXPECT_EQ(shard1, (Names{"alpha", "charlie"}));
    EXPECT_EQ(shard2, (Names{"bravo", "delta"}));
    Names both;
    std::set_intersection(shard1.begin(), shard1.end(), shard2.begin(), shard2.end(),
                          std::inserter(both, both.end()));
    EXPECT_TRUE(both.empty());
    EXPECT_EQ(selected({"--limit", "tag:y", "--shard", "2/2"}), (Names{"charlie"}))
        << "--shard after --limit";

    auto offset = a->log_size();
    for (const auto& [bad, named] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"--shard", "0/2"}, "0/2"}, {{"--limit", "alpha,nosuch"}, "nosuch"}}) {
        auto r = run(inv, {"pass"}, bad, dir() / "out-bad");
        EXPECT_EQ(r.exit_code, 2) << r.describe();
        EXPECT_NE((r.out + r.err).find(named), std::string::npos)
            << "the error names " << named << "\n"
            << r.describe();
    }
    EXPECT_EQ(a->log_count("Connection from", offset), 0) << "a usage error connects nowhere\n"
                                                          << a->log(offset);
}

// 9. Kill the controller mid-run; --resume runs only what the journal lacks.
TEST_F(SshRun, ResumeAfterSigkillRunsOnlyTheMissingHosts) {
    std::map<std::string, std::unique_ptr<SshdFixture>> fleet;
    std::vector<HostSpec> specs;
    for (const auto& name : {"host-a", "host-b", "host-c"}) {
        fleet[name] = sshd(name, SshdOptions{.extra_config = {slow_force_command(0.5)}});
        ASSERT_SSHD(fleet[name]);
        specs.push_back(host(name, *fleet[name]));
    }
    auto inv = inventory(specs);
    auto journal_path = m_out / "journal.jsonl";
    std::vector<Json> done;
    {
        CliProcess first(run_args(inv, {"pass"}, {"--forks", "1"}), dir());
        auto deadline = std::chrono::steady_clock::now() + 90s;
        while (std::chrono::steady_clock::now() < deadline && first.running()) {
            done = read_journal(journal_path);
            if (!done.empty()) {
                break;
            }
            std::this_thread::sleep_for(20ms);
        }
        ASSERT_TRUE(first.running()) << "the run ended before it could be killed\n"
                                     << first.wait(1).describe();
        first.signal(SIGKILL);
        auto killed = first.wait(10);
        EXPECT_EQ(killed.term_signal, SIGKILL) << killed.describe();
    }
    done = read_journal(journal_path);
    ASSERT_GE(done.size(), 1u);
    ASSERT_LT(done.size(), 3u) << "every host finished before the kill";
    Names finished = names_of(done);
    std::map<std::string, std::size_t> offsets;
    for (const auto& [name, f] : fleet) {
        offsets[name] = f->log_size();
    }

    auto second = run(inv, {"pass"}, {"--forks", "1", "--resume", journal_path.string()});
    EXPECT_EQ(second.exit_code, 0) << second.describe();
    LOAD_REPORT(rep, {}, second);
    ASSERT_EQ(host_names(rep), (Names{"host-a", "host-b", "host-c"}))
        << hosts_summary(rep) << second.describe();
    for (const auto& h : rep["hosts"]) {
        EXPECT_EQ(str(h, "status"), "ok") << hosts_summary(rep);
    }
    for (const auto& [name, f] : fleet) {
        int logins = f->log_count("Accepted publickey", offsets[name]);
        if (finished.count(name)) {
            EXPECT_EQ(logins, 0) << name << " was in the journal but was contacted again\n"
                                 << f->log(offsets[name]);
        } else {
            EXPECT_GE(logins, 1) << name << " was not in the journal but was not run\n"
                                 << second.describe();
        }
    }
    auto journal = read_journal(journal_path);
    std::map<std::string, int> lines;
    for (const auto& line : journal) {
        ++lines[str(line, "name")];
    }
    EXPECT_EQ(lines, (std::map<std::string, int>{{"host-a", 1}, {"host-b", 1}, {"host-c", 1}}))
        << "one journal line per host\n"
        << slurp(journal_path).substr(0, 4000);
}

// 10. An "agent" that speaks garbage, or floods without a newline.
TEST_F(SshRun, GarbledAgentIsAnAgentErrorNotACrash) {
    auto garbage = sshd("garbage");
    auto flood = sshd("flood");
    ASSERT_SSHD(garbage);
    ASSERT_SSHD(flood);
    // One fake agent for both hosts; it tells them apart by the server port.
    auto script = dir() / "fake-agent";
    {
        std::ofstream s(script);
        s << "#!/bin/sh\n"
          << "case \"$SSH_CONNECTION\" in\n"
          << "*\" " << garbage->port() << "\")\n"
          << "    printf '{\"type\":\"hello\",\"protocol\":1,\"agent\":{\"version\":'\n"
          << "    printf '\\001\\002 not json }}}\\n'\n"
          << "    sleep 2 ;;\n"
          << "*)\n"
          << "    head -c 104857600 /dev/zero | tr '\\000' x ;;\n"
          << "esac\n";
    }
    fs::permissions(script, fs::perms(0755));
    std::vector<std::string> args =
        run_args(inventory({host("garbage", *garbage), host("flood", *flood)}), {"pass"});
    // Replace the real agent with the script.
    auto agent = std::find(args.begin(), args.end(), std::string("x86_64=") + BPFLEET_AGENT_PATH);
    ASSERT_NE(agent, args.end());
    *agent = "x86_64=" + script.string();
    auto r = run_bpfleet(args, dir(), 150);
    EXPECT_FALSE(r.timed_out) << r.describe();
    EXPECT_EQ(r.term_signal, 0) << r.describe();
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    LOAD_REPORT(rep, {}, r);
    for (const auto& name : {"garbage", "flood"}) {
        const Json* h = find_host(rep, name);
        ASSERT_NE(h, nullptr) << hosts_summary(rep) << r.describe();
        EXPECT_EQ(str(*h, "status"), "agent_error") << hosts_summary(rep);
        EXPECT_FALSE(str(*h, "error").empty());
    }
    const std::string error = str(*find_host(rep, "flood"), "error");
    EXPECT_TRUE(std::regex_search(error, std::regex(R"(\d+\s*(bytes?|B|KiB|MiB|GiB)\b)")))
        << "the error names a byte size: " << error;
}

// 11. A host that stops answering mid-run is lost within a few keepalives.
TEST_F(SshRun, HostThatFreezesMidRunIsLostByKeepalive) {
    auto a = sshd("a");
    auto b = sshd("b");
    // Every command of the frozen host starts a second late: time to catch
    // its agent's channel open.
    auto c = sshd("c", SshdOptions{.extra_config = {slow_force_command(1)}});
    ASSERT_SSHD(a);
    ASSERT_SSHD(b);
    ASSERT_SSHD(c);
    auto inv = inventory({host("host-a", *a), host("host-b", *b), host("host-frozen", *c)});
    // No retry: a new connection would find a fresh, unfrozen session.
    CliProcess cli(run_args(inv, {"pass"}, {"--keepalive", "1", "--host-retries", "0"}), dir());

    // The agent's session: a process below c's sshd whose command is the
    // agent's `serve`, or the deployed agent itself ("DIR/agent-SHA serve";
    // the deploy commands name DIR too, but they end before the check: not
    // them).
    auto agent_started = [&] {
        for (pid_t p : c->session_processes()) {
            const std::string cmdline = process_cmdline(p);
            if (process_env(p, "SSH_ORIGINAL_COMMAND").find(" serve") != std::string::npos ||
                (cmdline.find(m_remote.string()) != std::string::npos &&
                 cmdline.find(" serve") != std::string::npos)) {
                return true;
            }
        }
        return false;
    };
    auto deadline = std::chrono::steady_clock::now() + 60s;
    bool started = false;
    while (cli.running() && !(started = agent_started()) &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
    }
    ASSERT_TRUE(started)
        << "no agent session on the slow host within 60 s, or the run ended first\n"
        << c->log() << cli.wait(1).describe();

    auto frozen = c->freeze_sessions();
    struct Thaw {
        SshdFixture& sshd;
        std::vector<pid_t> pids;
        ~Thaw() { sshd.thaw(pids); }
    } thaw{*c, frozen};
    auto frozen_at = std::chrono::steady_clock::now();
    auto r = cli.wait(60);
    auto lost_after =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - frozen_at).count();
    EXPECT_LT(lost_after, 10.0) << "3 keepalives of 1 s, then the run ends\n" << r.describe();
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    LOAD_REPORT(rep, {}, r);
    FIND_HOST(h, rep, "host-frozen", r);
    const std::string status = str(*h, "status");
    EXPECT_TRUE(status == "timeout" || status == "unreachable") << hosts_summary(rep);
    EXPECT_NE(str(*h, "error").find("keepalive"), std::string::npos) << str(*h, "error");
    for (const auto& name : {"host-a", "host-b"}) {
        const Json* ok = find_host(rep, name);
        ASSERT_NE(ok, nullptr) << hosts_summary(rep);
        EXPECT_EQ(str(*ok, "status"), "ok") << hosts_summary(rep);
    }
}

// 12. ed25519, ecdsa and rsa identity files.
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

// scripts/sshd-farm.sh's inventory works with bpfleet as written.
TEST_F(SshRun, FarmInventoryRuns) {
    const int base = free_port_block(3);
    ASSERT_NE(base, 0);
    const fs::path script = fs::path(BPFLEET_SOURCE_DIR) / "scripts/sshd-farm.sh";
    auto farm = dir() / "farm";
    std::string out;
    ASSERT_EQ(run_command({script.string(), "start", farm.string(), "--count", "3", "--base-port",
                           std::to_string(base)},
                          &out, 60),
              0)
        << out;
    struct Stop {
        fs::path script, farm;
        ~Stop() {
            std::string o;
            run_command({script.string(), "stop", farm.string()}, &o, 60);
        }
    } stop{script, farm};
    m_known_hosts = farm / "known_hosts";
    auto r = run(farm / "inventory.toml", {"pass"});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    LOAD_REPORT(rep, {}, r);
    EXPECT_EQ(host_names(rep), (Names{"host-001", "host-002", "host-003"})) << hosts_summary(rep);
    for (const auto& h : hosts_of(rep)) {
        EXPECT_EQ(str(h, "status"), "ok") << hosts_summary(rep);
    }
}

} // namespace
} // namespace bpfleet::test
