// RunRecorder: the output directory of a run in progress (journal,
// hosts/NAME/) and resuming from an earlier journal; the table writer.

#include "common/file.hpp"
#include "report/host_files.hpp"
#include "report/run_recorder.hpp"
#include "report/table.hpp"
#include "support/sample_reports.hpp"
#include "support/temp_dir.hpp"

#include <cstdio>
#include <fstream>
#include <gtest/gtest.h>

namespace bpfleet::report {
namespace {

namespace fs = std::filesystem;
using test::sample_host;
using test::sample_program;
using test::sample_unanswered;

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

RunIdentity identity(const std::string& sha = std::string(64, 'b')) {
    RunIdentity id;
    id.artifacts.push_back({"build/probe.bpf.o", "", {{"", "probe.bpf.o", sha}}});
    id.options = Json{{"load_only", false}};
    return id;
}

RunReportBuilder builder_for(std::vector<std::string> hosts) {
    RunReportBuilder builder({"build/probe.bpf.o"}, "lab.toml");
    builder.select(std::move(hosts));
    return builder;
}

TEST(RunRecorder, JournalsAnswersWritesHostFilesAndKeepsCancelledHostsOut) {
    test::TempDir dir;
    const auto out = dir / "out";
    auto recorder = RunRecorder::open({out, {}, identity()}, builder_for({"a", "b", "c"}));
    ASSERT_TRUE(recorder) << recorder.error().describe();
    EXPECT_EQ(recorder->journal_path(), out / "journal.jsonl");
    EXPECT_EQ(recorder->resumed_count(), 0u);

    ASSERT_TRUE(recorder
                    ->record(sample_host("a", {sample_program("../../evil", Verdict::Fail)}),
                             "agent said hi\n", false)
                    .empty());
    ASSERT_TRUE(
        recorder->record(sample_unanswered("b", HostStatus::Unreachable), "", false).empty());
    ASSERT_TRUE(
        recorder->record(sample_unanswered("c", HostStatus::Skipped, "run"), "", true).empty());

    auto journaled = read_journal(out / "journal.jsonl");
    ASSERT_TRUE(journaled) << journaled.error().describe();
    EXPECT_EQ(journaled->hosts.size(), 2u); // c was cancelled: it runs again on --resume
    EXPECT_EQ(journaled->hosts.count("c"), 0u);
    EXPECT_EQ(Json(journaled->identity), Json(identity()));

    EXPECT_EQ(read_text(out / "hosts" / "a" / "agent-stderr.txt"), "agent said hi\n");
    EXPECT_EQ(Json::parse(read_text(out / "hosts" / "a" / "facts.json"))["arch"], "x86_64");
    // The program name from the host cannot leave logs/.
    EXPECT_EQ(read_text(out / "hosts" / "a" / "logs" / "probe.bpf.o._.._.._evil.log"),
              "0: (b7) r0 = 0\nR1 invalid mem access 'scalar'\n");
    EXPECT_FALSE(fs::exists(out / "hosts" / "c"));

    auto report = recorder->finish("SIGINT");
    ASSERT_EQ(report.hosts.size(), 3u); // the cancelled host is in the report, as skipped
    EXPECT_EQ(report.hosts[2].status, HostStatus::Skipped);
    EXPECT_EQ(exit_code(report), 130);
}

// --resume OLD/journal.jsonl -o NEW: the journal and hosts/ live in NEW (OLD's
// journal is left as it was), with OLD's hosts carried over.
TEST(RunRecorder, ResumeTakesJournaledHostsIntoTheNewOutputsJournal) {
    test::TempDir dir;
    const auto first = dir / "first";
    {
        RunIdentity first_identity = identity();
        first_identity.id = "20250105T221804Z-000000000001";
        auto recorder = RunRecorder::open({first, {}, first_identity}, builder_for({"a", "b"}));
        ASSERT_TRUE(recorder);
        ASSERT_TRUE(
            recorder->record(sample_host("a", {sample_program("p", Verdict::Pass)}), "", false)
                .empty());
    }
    const auto old_journal = first / "journal.jsonl";
    const std::string old_text = read_text(old_journal);
    RunIdentity second_identity = identity();
    second_identity.id = "20250105T230000Z-000000000002";
    auto recorder =
        RunRecorder::open({dir / "second", old_journal, second_identity}, builder_for({"a", "b"}));
    ASSERT_TRUE(recorder) << recorder.error().describe();
    // The interrupted run goes on under its own id, in the new journal too.
    EXPECT_EQ(recorder->identity().id, "20250105T221804Z-000000000001");
    EXPECT_TRUE(recorder->resumed("a"));
    EXPECT_FALSE(recorder->resumed("b"));
    EXPECT_EQ(recorder->resumed_count(), 1u);
    EXPECT_EQ(recorder->journal_path(), dir / "second" / "journal.jsonl");

    ASSERT_TRUE(recorder->record(sample_host("b", {sample_program("p", Verdict::Pass)}), "", false)
                    .empty());
    EXPECT_FALSE(recorder->resumed("b")); // answered now, not resumed
    auto report = recorder->finish("");
    ASSERT_EQ(report.hosts.size(), 2u);
    EXPECT_EQ(report.hosts[0].name, "a");
    EXPECT_EQ(report.hosts[1].name, "b");
    EXPECT_EQ(exit_code(report), 0);
    auto hosts = read_journal(dir / "second" / "journal.jsonl");
    ASSERT_TRUE(hosts) << hosts.error().describe();
    EXPECT_EQ(hosts->hosts.size(), 2u);
    EXPECT_EQ(hosts->identity.id, "20250105T221804Z-000000000001");
    EXPECT_EQ(read_text(old_journal), old_text) << "the old run's journal is not touched";
    EXPECT_TRUE(fs::exists(dir / "second" / "hosts" / "b"));
}

TEST(RunRecorder, ResumeInPlaceAppendsAfterCuttingATornLine) {
    test::TempDir dir;
    const auto out = dir / "out";
    {
        auto recorder = RunRecorder::open({out, {}, identity()}, builder_for({"a", "b"}));
        ASSERT_TRUE(recorder);
        ASSERT_TRUE(recorder->record(sample_host("a", {}), "", false).empty());
    }
    const auto journal = out / "journal.jsonl";
    std::ofstream(journal, std::ios::app) << "{\"name\":\"b\",\"sta"; // killed mid-write
    auto recorder = RunRecorder::open({out, journal, identity()}, builder_for({"a", "b"}));
    ASSERT_TRUE(recorder) << recorder.error().describe();
    EXPECT_EQ(recorder->torn_line(), 3);
    EXPECT_TRUE(recorder->resumed("a"));
    EXPECT_FALSE(recorder->resumed("b"));
    ASSERT_TRUE(recorder->record(sample_host("b", {}), "", false).empty());
    auto contents = read_journal(journal);
    ASSERT_TRUE(contents) << contents.error().describe();
    EXPECT_EQ(contents->hosts.size(), 2u);
}

// The finding: --resume with other artifacts mixed two runs in one report.
TEST(RunRecorder, ResumeRefusesAJournalOfAnotherRun) {
    test::TempDir dir;
    const auto out = dir / "out";
    {
        auto recorder = RunRecorder::open({out, {}, identity()}, builder_for({"a", "b"}));
        ASSERT_TRUE(recorder);
        ASSERT_TRUE(recorder->record(sample_host("a", {}), "", false).empty());
    }
    const std::string before = read_text(out / "journal.jsonl");
    auto refused =
        RunRecorder::open({dir / "new", out / "journal.jsonl", identity(std::string(64, 'c'))},
                          builder_for({"a", "b"}));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, "usage");
    EXPECT_EQ(refused.error().context, (out / "journal.jsonl").string());
    EXPECT_NE(refused.error().message.find("the journal is of another run: artifact "
                                           "'build/probe.bpf.o': object probe.bpf.o is now "
                                           "sha256 cccc"),
              std::string::npos)
        << refused.error().message;
    EXPECT_EQ(read_text(out / "journal.jsonl"), before) << "nothing written over";
    EXPECT_FALSE(fs::exists(dir / "new" / "journal.jsonl"));
}

TEST(RunRecorder, AFreshRunReplacesTheOldJournal) {
    test::TempDir dir;
    const auto out = dir / "out";
    fs::create_directories(out);
    std::ofstream(out / "journal.jsonl") << "left over from another run\n";
    auto recorder = RunRecorder::open({out, {}, identity()}, builder_for({"a"}));
    ASSERT_TRUE(recorder) << recorder.error().describe();
    auto contents = read_journal(out / "journal.jsonl");
    ASSERT_TRUE(contents) << contents.error().describe();
    EXPECT_TRUE(contents->hosts.empty());
}

TEST(RunRecorder, ABadJournalToResumeOrAnOutputThatCannotBeMadeIsAnError) {
    test::TempDir dir;
    std::ofstream(dir / "bad.jsonl") << "garbage\n{}\n";
    auto bad = RunRecorder::open({dir / "out", dir / "bad.jsonl", identity()}, builder_for({"a"}));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().context, (dir / "bad.jsonl").string() + ":1");

    std::ofstream(dir / "file") << "x";
    auto blocked = RunRecorder::open({dir / "file" / "out", {}, identity()}, builder_for({"a"}));
    ASSERT_FALSE(blocked);
    EXPECT_EQ(blocked.error().code, "io");
}

// A 42 MB reply created 40,000 log files: at most kMaxLogFiles per host, the
// rest named in one error.
TEST(RunRecorder, LogFilesPerHostAreCapped) {
    test::TempDir dir;
    const auto out = dir / "out";
    auto recorder = RunRecorder::open({out, {}, identity()}, builder_for({"a"}));
    ASSERT_TRUE(recorder) << recorder.error().describe();
    std::vector<ProgramResult> programs;
    for (std::size_t i = 0; i < kMaxLogFiles + 5; ++i) {
        programs.push_back(sample_program("p" + std::to_string(i), Verdict::Fail));
    }
    auto errors = recorder->record(sample_host("a", std::move(programs)), "", false);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_NE(errors[0].message.find("5 more verifier log(s) not written"), std::string::npos)
        << errors[0].message;
    EXPECT_EQ(static_cast<std::size_t>(std::distance(
                  fs::directory_iterator(out / "hosts" / "a" / "logs"), fs::directory_iterator{})),
              kMaxLogFiles);
}

TEST(FileNamePart, KeepsNamesInsideTheirFolder) {
    EXPECT_EQ(file_name_part("probe.bpf.o"), "probe.bpf.o");
    EXPECT_EQ(file_name_part("../x"), "_.._x");
    EXPECT_EQ(file_name_part(".hidden"), "_.hidden");
    EXPECT_EQ(file_name_part(""), "_");
    EXPECT_EQ(file_name_part("a/b c\n"), "a_b_c_");
    EXPECT_EQ(file_name_part(std::string(300, 'x')).size(), 200u);
}

// The table as text: what a person sees at the end of `bpfleet run`.
std::string table_of(TableKind kind, const RunReport& report, const std::string& path) {
    char* text = nullptr;
    size_t size = 0;
    FilePtr out(open_memstream(&text, &size));
    TableWriter(kind, out.get(), path).write(report);
    out.reset(); // text and size are final once the stream is closed
    std::string s(text, size);
    std::free(text); // NOLINT(cppcoreguidelines-owning-memory): open_memstream mallocs it
    return s;
}

TEST(TableWriter, OneRowPerProgramResultHostTroubleGroupedAndTheSummary) {
    RunReportBuilder builder({"build/probe.bpf.o"}, "");
    builder.select({"a", "b"});
    builder.add(sample_host("a", {sample_program("good", Verdict::Pass, Verdict::Pass),
                                  sample_program("bad", Verdict::Fail)}));
    builder.add(sample_unanswered("b", HostStatus::Unreachable));
    const std::string text = table_of(TableKind::Programs, builder.finish(""), "out/report.json");
    EXPECT_NE(text.find("HOSTS"), std::string::npos) << text;
    EXPECT_NE(text.find("good"), std::string::npos) << text;
    EXPECT_NE(text.find("VERIFIER_REJECT"), std::string::npos) << text;
    EXPECT_NE(text.find("R1 invalid mem access"), std::string::npos) << text;
    EXPECT_NE(text.find("hosts without an answer:\n  unreachable (connect)  1/2  b\n"
                        "    b: cannot connect"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("2 host(s): 1 ok, 1 without answer; 2 program(s): 1 pass, 1 fail, "
                        "0 skip, 0 error; 1 miss"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("report: out/report.json\n"), std::string::npos) << text;
}

TEST(TableWriter, FactsTableShowsEachHostsKernel) {
    RunReportBuilder builder({}, "");
    builder.select({"a", "b"});
    builder.add(sample_host("a", {}));
    builder.add(sample_unanswered("b", HostStatus::AuthFailed, "auth"));
    const std::string text = table_of(TableKind::Facts, builder.finish(""), "");
    EXPECT_NE(text.find("6.1.0-18-cloud-amd64"), std::string::npos) << text;
    EXPECT_NE(text.find("auth_failed (auth)"), std::string::npos) << text;
    EXPECT_NE(text.find("2 host(s): 1 ok, 1 without answer"), std::string::npos) << text;
    EXPECT_EQ(text.find("report:"), std::string::npos) << text;
}

} // namespace
} // namespace bpfleet::report
