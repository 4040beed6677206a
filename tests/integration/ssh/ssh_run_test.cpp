// `bpfleet run` over SSH: what a run leaves (reports, journal, hosts/NAME/),
// the agent's cache on the hosts, host selection, --resume after a killed
// controller, an agent that speaks garbage, and the sshd farm. The set-up all
// SSH run tests share is in ssh_run_fixture.hpp.

#include "ssh/ssh_run_fixture.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>
namespace bpfleet::test {
namespace {

using namespace std::chrono_literals;

// Three hosts, two objects: statuses, facts, verdicts, the report, the
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
    EXPECT_EQ(journal.size(), 3u) << read_text(m_out / "journal.jsonl").substr(0, 4000);
    EXPECT_EQ(names_of(journal), (Names{"host-a", "host-b", "host-c"}));
    for (const auto& line : journal) {
        EXPECT_EQ(str(line, "status"), "ok") << line.dump().substr(0, 1000);
    }
}

// The agent goes up once per remote dir, under its hash, and is reused.
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

// --limit and --shard pick exactly their hosts; bad ones connect nowhere.
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

// Kill the controller mid-run; --resume runs only what the journal lacks.
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
        << read_text(journal_path).substr(0, 4000);
}

// An "agent" that speaks garbage, or floods without a newline.
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
