// OutputDir: the output directory is written without following links a local
// user planted, and refused when another user could plant them; the run's
// writers (journal, hosts/NAME/, report.json) all go through it.

#include "report/output_dir.hpp"
#include "report/run_outputs.hpp"
#include "report/run_recorder.hpp"
#include "support/sample_reports.hpp"
#include "support/temp_dir.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bpfleet::report {
namespace {

namespace fs = std::filesystem;
using test::sample_host;
using test::sample_program;

constexpr uid_t kNobody = 65534;

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::size_t entries(const fs::path& dir) {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir), fs::directory_iterator{}));
}

RunReportBuilder builder_for(std::vector<std::string> hosts) {
    RunReportBuilder builder({"probe.bpf.o"}, "lab.toml");
    builder.select(std::move(hosts));
    return builder;
}

TEST(OutputDir, WriteFileReplacesAtomicallyAndLeavesNoTempFile) {
    test::TempDir dir;
    auto out = OutputDir::open(dir / "out");
    ASSERT_TRUE(out) << out.error().describe();
    ASSERT_TRUE(out->write_file("report.json", "first\n"));
    ASSERT_TRUE(out->write_file("report.json", "second\n"));
    EXPECT_EQ(read_text(dir / "out" / "report.json"), "second\n");
    EXPECT_EQ(entries(dir / "out"), 1u);
    // A failed write (a folder in the way) leaves no temp file either.
    fs::create_directories(dir / "out" / "taken" / "x");
    auto failed = out->write_file("taken", "x");
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().context, (dir / "out" / "taken").string());
    EXPECT_EQ(entries(dir / "out"), 2u);
}

TEST(OutputDir, NamesMustBePlainAndSubdirsAreMadeOnePartAtATime) {
    test::TempDir dir;
    auto out = OutputDir::open(dir.path());
    ASSERT_TRUE(out);
    EXPECT_FALSE(out->write_file("../escape", "x"));
    EXPECT_FALSE(out->write_file("..", "x"));
    EXPECT_FALSE(out->write_file("", "x"));
    EXPECT_FALSE(out->subdir("hosts/../../x"));
    EXPECT_FALSE(out->subdir("/etc"));
    auto logs = out->subdir("hosts/a/logs");
    ASSERT_TRUE(logs) << logs.error().describe();
    EXPECT_EQ(logs->path(), dir / "hosts" / "a" / "logs");
    ASSERT_TRUE(logs->write_file("x.log", "log"));
    EXPECT_EQ(read_text(dir / "hosts" / "a" / "logs" / "x.log"), "log");
}

TEST(OutputDir, AFileWhereTheDirectoryShouldBeIsAnError) {
    test::TempDir dir;
    std::ofstream(dir / "file") << "x";
    auto out = OutputDir::open(dir / "file");
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code, "io");
    EXPECT_FALSE(OutputDir::open(dir / "file" / "below"));
}

// The attack: a local user who can write into -o plants links to files they
// want overwritten; a run as root followed them all.
TEST(OutputDir, PlantedLinksInTheOutputDirectoryAreNeverFollowed) {
    test::TempDir dir;
    const auto out = dir / "out";
    const auto victim = dir / "victim";
    const auto victim_dir = dir / "victim-dir";
    fs::create_directories(out / "hosts" / "a" / "logs");
    fs::create_directories(victim_dir);
    std::ofstream(victim) << "precious\n";
    // hosts/a/facts.json and a log file -> the victim; hosts/b -> a folder;
    // report.json's temp file by its old, predictable name (.tmp.PID).
    fs::create_symlink(victim, out / "hosts" / "a" / "facts.json");
    fs::create_symlink(victim, out / "hosts" / "a" / "agent-stderr.txt");
    fs::create_symlink(victim, out / "hosts" / "a" / "logs" / "probe.bpf.o.p.log");
    fs::create_symlink(victim_dir, out / "hosts" / "b");
    fs::create_symlink(victim, out / ("report.json.tmp." + std::to_string(getpid())));
    fs::create_symlink(victim, out / "report.json");

    auto recorder = RunRecorder::open({out, {}}, builder_for({"a", "b"}));
    ASSERT_TRUE(recorder) << recorder.error().describe();
    EXPECT_TRUE(
        recorder->record(sample_host("a", {sample_program("p", Verdict::Fail)}), "hi", false)
            .empty());
    // The symlinked hosts/b is refused, and said so naming it; b's result
    // still reaches the journal and the report.
    auto errors = recorder->record(sample_host("b", {}), "hi", false);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].context, (out / "hosts" / "b").string());
    EXPECT_NE(errors[0].message.find("not followed"), std::string::npos) << errors[0].message;

    const RunReport report = recorder->finish("");
    ASSERT_TRUE(write_run_outputs(report, {recorder->output(), TableKind::Programs, nullptr}));

    EXPECT_EQ(read_text(victim), "precious\n");
    EXPECT_TRUE(fs::is_empty(victim_dir));
    // The links were replaced by the files bpfleet meant to write.
    EXPECT_FALSE(fs::is_symlink(out / "hosts" / "a" / "facts.json"));
    EXPECT_EQ(Json::parse(read_text(out / "hosts" / "a" / "facts.json"))["arch"], "x86_64");
    EXPECT_EQ(read_text(out / "hosts" / "a" / "agent-stderr.txt"), "hi");
    EXPECT_FALSE(fs::is_symlink(out / "hosts" / "a" / "logs" / "probe.bpf.o.p.log"));
    EXPECT_FALSE(fs::is_symlink(out / "report.json"));
    EXPECT_EQ(Json::parse(read_text(out / "report.json"))["hosts"].size(), 2u);
}

TEST(OutputDir, ALinkPlantedAsTheJournalIsNotAppendedTo) {
    test::TempDir dir;
    const auto out = dir / "out";
    const auto victim = dir / "victim";
    fs::create_directories(out);
    std::ofstream(victim) << "precious\n";
    fs::create_symlink(victim, out / "journal.jsonl");
    auto recorder = RunRecorder::open({out, {}}, builder_for({"a"}));
    ASSERT_TRUE(recorder) << recorder.error().describe();
    EXPECT_TRUE(recorder->record(sample_host("a", {}), "", false).empty());
    EXPECT_EQ(read_text(victim), "precious\n");
    EXPECT_FALSE(fs::is_symlink(out / "journal.jsonl"));
}

TEST(OutputDir, ResumeOnASymlinkedJournalIsRefusedAndItsTargetUntouched) {
    test::TempDir dir;
    const auto victim = dir / "victim";
    std::ofstream(victim) << "precious\n";
    fs::create_symlink(victim, dir / "journal.jsonl");
    auto recorder = RunRecorder::open({dir / "out", dir / "journal.jsonl"}, builder_for({"a"}));
    ASSERT_FALSE(recorder);
    EXPECT_EQ(recorder.error().context, (dir / "journal.jsonl").string());
    EXPECT_NE(recorder.error().message.find("symbolic link"), std::string::npos)
        << recorder.error().message;
    EXPECT_EQ(read_text(victim), "precious\n");
}

TEST(OutputDir, AnotherUsersDirectoryOrJournalIsRefused) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root to give a folder to another user";
    }
    test::TempDir dir;
    fs::create_directories(dir / "theirs");
    ASSERT_EQ(::chown((dir / "theirs").c_str(), kNobody, kNobody), 0);
    auto theirs = OutputDir::open(dir / "theirs");
    ASSERT_FALSE(theirs);
    EXPECT_NE(theirs.error().message.find("belongs to uid 65534"), std::string::npos)
        << theirs.error().message;

    // A folder below -o made by another user is refused the same way.
    fs::create_directories(dir / "mine" / "hosts");
    ASSERT_EQ(::chown((dir / "mine" / "hosts").c_str(), kNobody, kNobody), 0);
    auto mine = OutputDir::open(dir / "mine");
    ASSERT_TRUE(mine) << mine.error().describe();
    EXPECT_FALSE(mine->subdir("hosts"));

    // Their link to our folder is not followed either.
    fs::create_directories(dir / "target");
    fs::create_symlink(dir / "target", dir / "link");
    ASSERT_EQ(::lchown((dir / "link").c_str(), kNobody, kNobody), 0);
    auto link = OutputDir::open(dir / "link");
    ASSERT_FALSE(link);
    EXPECT_NE(link.error().message.find("symbolic link"), std::string::npos);
    // Our own link is.
    fs::create_symlink(dir / "target", dir / "own-link");
    EXPECT_TRUE(OutputDir::open(dir / "own-link"));

    std::ofstream(dir / "journal.jsonl") << "";
    ASSERT_EQ(::chown((dir / "journal.jsonl").c_str(), kNobody, kNobody), 0);
    auto journal = RunRecorder::open({dir / "out", dir / "journal.jsonl"}, builder_for({"a"}));
    ASSERT_FALSE(journal);
    EXPECT_NE(journal.error().message.find("belongs to uid 65534"), std::string::npos)
        << journal.error().message;
}

TEST(OutputDir, AsRootAFolderOthersCanWriteIsRefused) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "the rule is for runs as root";
    }
    test::TempDir dir;
    fs::create_directories(dir / "shared");
    ASSERT_EQ(::chmod((dir / "shared").c_str(), 01777), 0);
    auto shared = RunRecorder::open({dir / "shared", {}}, builder_for({"a"}));
    ASSERT_FALSE(shared);
    EXPECT_NE(shared.error().message.find("writable by other users (mode 1777)"), std::string::npos)
        << shared.error().message;
    EXPECT_FALSE(fs::exists(dir / "shared" / "hosts")); // nothing written into it

    ASSERT_EQ(::chmod((dir / "shared").c_str(), 0775), 0);
    EXPECT_FALSE(OutputDir::open(dir / "shared"));
    ASSERT_EQ(::chmod((dir / "shared").c_str(), 0755), 0);
    EXPECT_TRUE(OutputDir::open(dir / "shared"));
}

} // namespace
} // namespace bpfleet::report
