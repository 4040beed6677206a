// journal.jsonl: what is appended reads back; a cut last line (a run killed
// mid-write) is dropped; any other bad line is an error naming its line.

#include "report/journal.hpp"
#include "report/output_dir.hpp"
#include "support/sample_reports.hpp"
#include "support/temp_dir.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>

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

// The journal as the recorder opens it: appended through a checked OutputDir.
Result<Journal> open_journal(const fs::path& path) {
    TRY_ASSIGN(OutputDir dir, OutputDir::open(path.parent_path()));
    TRY_ASSIGN(Fd fd, dir.open_append(path.filename().string()));
    return Journal(std::move(fd));
}

void append_text(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary | std::ios::app) << text;
}

TEST(Journal, AppendedHostsReadBack) {
    test::TempDir dir;
    const auto path = dir / "journal.jsonl";
    auto a = sample_host("a", {sample_program("p", Verdict::Fail)});
    auto b = sample_unanswered("b", HostStatus::AuthFailed, "auth");
    {
        auto journal = open_journal(path);
        ASSERT_TRUE(journal) << journal.error().describe();
        ASSERT_TRUE(journal->append(a));
        ASSERT_TRUE(journal->append(b));
    }
    // One line per host, each complete.
    const std::string text = read_text(path);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);

    auto hosts = read_journal(path);
    ASSERT_TRUE(hosts) << hosts.error().describe();
    ASSERT_EQ(hosts->size(), 2u);
    EXPECT_EQ(Json(hosts->at("a")), Json(a));
    EXPECT_EQ(Json(hosts->at("b")), Json(b));
}

TEST(Journal, OpeningAgainAppendsAndTheLastLineForAHostWins) {
    test::TempDir dir;
    const auto path = dir / "journal.jsonl";
    {
        auto journal = open_journal(path);
        ASSERT_TRUE(journal);
        ASSERT_TRUE(journal->append(sample_unanswered("a", HostStatus::Unreachable)));
    }
    {
        auto journal = open_journal(path);
        ASSERT_TRUE(journal);
        ASSERT_TRUE(journal->append(sample_host("a", {sample_program("p", Verdict::Pass)})));
    }
    auto hosts = read_journal(path);
    ASSERT_TRUE(hosts) << hosts.error().describe();
    ASSERT_EQ(hosts->size(), 1u);
    EXPECT_EQ(hosts->at("a").status, HostStatus::Ok);
}

TEST(Journal, ATruncatedLastLineIsLeftOut) {
    test::TempDir dir;
    const auto path = dir / "journal.jsonl";
    {
        auto journal = open_journal(path);
        ASSERT_TRUE(journal);
        ASSERT_TRUE(journal->append(sample_host("a", {})));
    }
    const std::string line = Json(sample_host("b", {})).dump();
    append_text(path, line.substr(0, line.size() / 2)); // killed mid-write: no newline
    auto hosts = read_journal(path);
    ASSERT_TRUE(hosts) << hosts.error().describe();
    ASSERT_EQ(hosts->size(), 1u);
    EXPECT_EQ(hosts->count("a"), 1u);
}

TEST(Journal, ABadLineBeforeTheEndIsAnErrorNamingItsLine) {
    test::TempDir dir;
    const auto path = dir / "journal.jsonl";
    append_text(path, Json(sample_host("a", {})).dump() + "\n");
    append_text(path, "{\"name\":\"b\",\"status\":\"bogus\"}\n");
    append_text(path, Json(sample_host("c", {})).dump() + "\n");
    auto hosts = read_journal(path);
    ASSERT_FALSE(hosts);
    EXPECT_EQ(hosts.error().context, path.string() + ":2");
    EXPECT_EQ(hosts.error().code, "usage");

    // Not JSON at all is the same.
    const auto other = dir / "other.jsonl";
    append_text(other, "this is not a journal\n");
    append_text(other, Json(sample_host("a", {})).dump() + "\n");
    auto bad = read_journal(other);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().context, other.string() + ":1");
}

TEST(Journal, EmptyLinesAreSkippedAndAMissingFileIsAnError) {
    test::TempDir dir;
    const auto path = dir / "journal.jsonl";
    append_text(path, "\n" + Json(sample_host("a", {})).dump() + "\n\n");
    auto hosts = read_journal(path);
    ASSERT_TRUE(hosts) << hosts.error().describe();
    EXPECT_EQ(hosts->size(), 1u);

    auto missing = read_journal(dir / "missing.jsonl");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().context, (dir / "missing.jsonl").string());
}

TEST(Journal, ReadFromAnOpenDescriptorFromItsStart) {
    test::TempDir dir;
    const auto path = dir / "journal.jsonl";
    {
        auto journal = open_journal(path);
        ASSERT_TRUE(journal);
        ASSERT_TRUE(journal->append(sample_host("a", {})));
    }
    auto fd = open_user_file_append(path);
    ASSERT_TRUE(fd) << fd.error().describe();
    auto hosts = read_journal(*fd, path);
    ASSERT_TRUE(hosts) << hosts.error().describe();
    EXPECT_EQ(hosts->count("a"), 1u);
}

} // namespace
} // namespace bpfleet::report
