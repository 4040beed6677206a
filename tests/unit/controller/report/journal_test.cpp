// journal.jsonl: a header naming the run, then what is appended reads back;
// a cut last line (a run killed mid-write) is dropped and reported; any other
// bad line, or a file without the header, is an error naming its line.

#include "report/journal.hpp"
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

// A new journal as the recorder makes it: through a checked OutputDir.
Result<Journal> create_journal(const fs::path& path, const RunIdentity& id,
                               const std::vector<HostResult>& hosts = {}) {
    TRY_ASSIGN(OutputDir dir, OutputDir::open(path.parent_path()));
    return Journal::create(dir, id, hosts);
}

// An existing journal opened for appending, as --resume opens it.
Result<Journal> reopen_journal(const fs::path& path) {
    TRY_ASSIGN(Fd fd, open_user_file_append(path));
    return Journal(std::move(fd));
}

void append_text(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary | std::ios::app) << text;
}

RunIdentity sample_identity() {
    RunIdentity id;
    id.artifacts.push_back({"oci:gadget:v1",
                            "sha256:" + std::string(64, '1'),
                            {{"amd64", "prog.bpf.o", std::string(64, '2')},
                             {"arm64", "prog.bpf.o", std::string(64, '3')}}});
    id.options = Json{{"load_only", false}, {"fire", true}};
    id.inventory_sha256 = std::string(64, '4');
    return id;
}

std::string header_line() {
    return journal_header(sample_identity());
}

TEST(Journal, AppendedHostsReadBackUnderTheRunsHeader) {
    test::TempDir dir;
    const auto path = dir / "journal.jsonl";
    auto a = sample_host("a", {sample_program("p", Verdict::Fail)});
    auto b = sample_unanswered("b", HostStatus::AuthFailed, "auth");
    {
        auto journal = create_journal(path, sample_identity());
        ASSERT_TRUE(journal) << journal.error().describe();
        ASSERT_TRUE(journal->append(a));
        ASSERT_TRUE(journal->append(b));
    }
    // The header, then one line per host, each complete.
    const std::string text = read_text(path);
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
    EXPECT_EQ(text.rfind(header_line(), 0), 0u) << text.substr(0, 300);

    auto contents = read_journal(path);
    ASSERT_TRUE(contents) << contents.error().describe();
    EXPECT_EQ(Json(contents->identity), Json(sample_identity()));
    ASSERT_EQ(contents->hosts.size(), 2u);
    EXPECT_EQ(Json(contents->hosts.at("a")), Json(a));
    EXPECT_EQ(Json(contents->hosts.at("b")), Json(b));
    EXPECT_EQ(contents->complete_bytes, text.size());
    EXPECT_EQ(contents->torn_line, 0);
}

TEST(Journal, ReopeningAppendsAndTheLastLineForAHostWins) {
    test::TempDir dir;
    const auto path = dir / "journal.jsonl";
    {
        auto journal = create_journal(path, sample_identity());
        ASSERT_TRUE(journal);
        ASSERT_TRUE(journal->append(sample_unanswered("a", HostStatus::Unreachable)));
    }
    {
        auto journal = reopen_journal(path);
        ASSERT_TRUE(journal);
        ASSERT_TRUE(journal->append(sample_host("a", {sample_program("p", Verdict::Pass)})));
    }
    auto contents = read_journal(path);
    ASSERT_TRUE(contents) << contents.error().describe();
    ASSERT_EQ(contents->hosts.size(), 1u);
    EXPECT_EQ(contents->hosts.at("a").status, HostStatus::Ok);
}

TEST(Journal, CreateCarriesHostsOverAndReplacesAnOldFile) {
    test::TempDir dir;
    const auto path = dir / "journal.jsonl";
    append_text(path, "left over from another run\n");
    auto journal = create_journal(path, sample_identity(), {sample_host("a", {})});
    ASSERT_TRUE(journal) << journal.error().describe();
    auto contents = read_journal(path);
    ASSERT_TRUE(contents) << contents.error().describe();
    EXPECT_EQ(contents->hosts.size(), 1u);
    EXPECT_EQ(contents->hosts.count("a"), 1u);
}

// A kill mid-write leaves a last line without its newline: it is dropped
// (that host runs again) and reported with where the complete lines end (the
// recorder cuts it off there before appending).
TEST(Journal, ATornLastLineIsDroppedAndReported) {
    test::TempDir dir;
    const auto path = dir / "journal.jsonl";
    {
        auto journal = create_journal(path, sample_identity());
        ASSERT_TRUE(journal);
        ASSERT_TRUE(journal->append(sample_host("a", {})));
    }
    const std::string line = Json(sample_host("b", {})).dump();
    append_text(path, line.substr(0, line.size() / 2)); // killed mid-write: no newline
    auto contents = read_journal(path);
    ASSERT_TRUE(contents) << contents.error().describe();
    ASSERT_EQ(contents->hosts.size(), 1u);
    EXPECT_EQ(contents->hosts.count("a"), 1u);
    EXPECT_EQ(contents->torn_line, 3);
    EXPECT_LT(contents->complete_bytes, fs::file_size(path));
    // Read through a descriptor, the same.
    auto fd = open_user_file_append(path);
    ASSERT_TRUE(fd) << fd.error().describe();
    auto again = read_journal(*fd, path);
    ASSERT_TRUE(again) << again.error().describe();
    EXPECT_EQ(again->hosts.size(), 1u);
    EXPECT_EQ(again->torn_line, 3);
    EXPECT_EQ(again->complete_bytes, contents->complete_bytes);
}

TEST(Journal, ABadLineIsAnErrorNamingItsLine) {
    test::TempDir dir;
    const auto path = dir / "journal.jsonl";
    append_text(path, header_line());
    append_text(path, Json(sample_host("a", {})).dump() + "\n");
    append_text(path, "{\"name\":\"b\",\"status\":\"bogus\"}\n");
    append_text(path, Json(sample_host("c", {})).dump() + "\n");
    auto contents = read_journal(path);
    ASSERT_FALSE(contents);
    EXPECT_EQ(contents.error().context, path.string() + ":3");
    EXPECT_EQ(contents.error().code, "usage");

    // A complete last line that is bad is not a torn line: an error too.
    const auto last = dir / "last.jsonl";
    append_text(last, header_line());
    append_text(last, "{\"name\":\"b\"}\n");
    auto bad_last = read_journal(last);
    ASSERT_FALSE(bad_last);
    EXPECT_EQ(bad_last.error().context, last.string() + ":2");
}

// A journal without the header (an older bpfleet, another file) cannot say
// which run it belongs to: it is refused, not resumed into this run.
TEST(Journal, AFileWithoutTheHeaderIsRefused) {
    test::TempDir dir;
    const auto old = dir / "old.jsonl";
    append_text(old, Json(sample_host("a", {})).dump() + "\n");
    auto refused = read_journal(old);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().context, old.string() + ":1");
    EXPECT_NE(refused.error().message.find("bpfleet.journal/v1"), std::string::npos)
        << refused.error().message;

    const auto other = dir / "other.jsonl";
    append_text(other, "this is not a journal\n");
    ASSERT_FALSE(read_journal(other));

    const auto empty = dir / "empty.jsonl";
    append_text(empty, "");
    auto no_header = read_journal(empty);
    ASSERT_FALSE(no_header);
    EXPECT_EQ(no_header.error().context, empty.string());
}

TEST(Journal, EmptyLinesAreSkippedAndAMissingFileIsAnError) {
    test::TempDir dir;
    const auto path = dir / "journal.jsonl";
    append_text(path, header_line() + "\n" + Json(sample_host("a", {})).dump() + "\n\n");
    auto contents = read_journal(path);
    ASSERT_TRUE(contents) << contents.error().describe();
    EXPECT_EQ(contents->hosts.size(), 1u);

    auto missing = read_journal(dir / "missing.jsonl");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().context, (dir / "missing.jsonl").string());
}

TEST(Journal, CannotCreateWhereTheDirectoryIsAFile) {
    test::TempDir dir;
    append_text(dir / "file", "x");
    auto journal = create_journal(dir / "file" / "journal.jsonl", sample_identity());
    ASSERT_FALSE(journal);
    EXPECT_EQ(journal.error().code, "io");
}

TEST(RunIdentity, SameRunHasNoDifferenceAndEachChangeIsNamed) {
    const RunIdentity a = sample_identity();
    EXPECT_EQ(identity_difference(a, a), "");
    RunIdentity b = a;
    b.artifacts[0].objects[1].sha256 = std::string(64, '9');
    EXPECT_NE(identity_difference(a, b).find("object prog.bpf.o (arm64) is now sha256 9999"),
              std::string::npos)
        << identity_difference(a, b);
    b = a;
    b.artifacts[0].spec = "other.bpf.o";
    EXPECT_NE(identity_difference(a, b).find("artifacts are [oci:gadget:v1]"), std::string::npos)
        << identity_difference(a, b);
    b = a;
    b.options["load_only"] = true;
    EXPECT_EQ(identity_difference(a, b), "option load_only is now true, it was false");
    b = a;
    b.inventory_sha256 = "";
    EXPECT_NE(identity_difference(a, b).find("the inventory changed"), std::string::npos);
    b = a;
    b.mode = "probe";
    EXPECT_NE(identity_difference(a, b).find("probe"), std::string::npos);
}

} // namespace
} // namespace bpfleet::report
