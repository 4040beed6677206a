#include "oci/archive.hpp"
#include "oci/image_builder.hpp"

#include <gtest/gtest.h>

namespace bpfleet::oci {
namespace {

using test::TarEntry;

Result<ArchiveContents> read_entries(const std::vector<TarEntry>& entries, bool gzip = false,
                                     const ArchiveLimits& limits = {}) {
    test::TempDir tmp;
    auto path = tmp.path() / "a.tar";
    test::write_tar(path, entries, gzip);
    return read_archive_file(path.string(), limits);
}

TEST(Archive, ReadsFilesAndInsideLinks) {
    auto r = read_entries({{"./dir/", {}, TarEntry::Type::Dir},
                           {"./dir/a.txt", test::to_bytes("hello")},
                           {"dir/link", {}, TarEntry::Type::Symlink, "a.txt"},
                           {"hard", {}, TarEntry::Type::Hardlink, "dir/a.txt"}},
                          true);
    ASSERT_TRUE(r) << r.error().describe();
    ASSERT_NE(r->find("dir/a.txt"), nullptr);
    EXPECT_EQ(*r->find("dir/link"), test::to_bytes("hello"));
    EXPECT_EQ(*r->find("hard"), test::to_bytes("hello"));
}

TEST(Archive, NormalisesPaths) {
    EXPECT_EQ(*normalise_entry_path("./a//b/./c"), "a/b/c");
    EXPECT_FALSE(normalise_entry_path("/etc/passwd"));
    EXPECT_FALSE(normalise_entry_path("a/../../b"));
    EXPECT_FALSE(normalise_entry_path(std::string_view("a\0b", 3)));
}

TEST(Archive, RefusesEveryAttack) {
    struct Case {
        const char* name;
        std::vector<TarEntry> entries;
        const char* code;
    };
    std::vector<Case> cases = {
        {"absolute", {{"/etc/evil", test::to_bytes("x")}}, "ARCHIVE_UNSAFE"},
        {"dotdot", {{"a/../../evil", test::to_bytes("x")}}, "ARCHIVE_UNSAFE"},
        {"symlink-abs", {{"l", {}, TarEntry::Type::Symlink, "/etc/passwd"}}, "ARCHIVE_UNSAFE"},
        {"symlink-up", {{"d/l", {}, TarEntry::Type::Symlink, "../../x"}}, "ARCHIVE_UNSAFE"},
        {"hardlink-up", {{"l", {}, TarEntry::Type::Hardlink, "../x"}}, "ARCHIVE_UNSAFE"},
        {"fifo", {{"f", {}, TarEntry::Type::Fifo}}, "ARCHIVE_UNSAFE"},
        {"device", {{"d", {}, TarEntry::Type::CharDevice}}, "ARCHIVE_UNSAFE"},
        {"duplicate", {{"a", test::to_bytes("1")}, {"./a", test::to_bytes("2")}}, "ARCHIVE_UNSAFE"},
        {"declared-huge",
         {{"big", test::to_bytes("x"), TarEntry::Type::File, "", 1LL << 40}},
         "LIMIT_EXCEEDED"},
    };
    for (const auto& c : cases) {
        auto r = read_entries(c.entries);
        ASSERT_FALSE(r) << c.name;
        EXPECT_EQ(r.error().code, c.code) << c.name << ": " << r.error().describe();
        EXPECT_NE(r.error().context.find("archive"), std::string::npos) << c.name;
    }
}

TEST(Archive, GzipBombStopsAtTheTotalLimit) {
    std::vector<TarEntry> entries;
    for (int i = 0; i < 40; ++i) {
        entries.push_back({"zeros" + std::to_string(i), test::Bytes(256 * 1024, 0)});
    }
    ArchiveLimits limits;
    limits.max_total_bytes = 4 * 1024 * 1024;
    auto r = read_entries(entries, true, limits);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "LIMIT_EXCEEDED");
}

TEST(Archive, EntryCountLimitAndGarbage) {
    std::vector<TarEntry> entries;
    for (int i = 0; i < 20; ++i) {
        entries.push_back({"f" + std::to_string(i), test::to_bytes("x")});
    }
    ArchiveLimits limits;
    limits.max_entries = 10;
    auto r = read_entries(entries, false, limits);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "LIMIT_EXCEEDED");
    std::vector<std::uint8_t> garbage(3000, 0x41);
    auto g = read_archive_memory(garbage, "garbage");
    ASSERT_FALSE(g);
    EXPECT_EQ(g.error().code, "ARCHIVE_INVALID");
}

TEST(Archive, LooksLikeArchive) {
    EXPECT_TRUE(looks_like_archive(std::vector<std::uint8_t>{0x1f, 0x8b, 8}));
    EXPECT_FALSE(looks_like_archive(std::vector<std::uint8_t>{0x7f, 'E', 'L', 'F'}));
    EXPECT_TRUE(looks_like_archive(std::vector<std::uint8_t>{0xfd, 0x37, 0x7a, 0x58, 0x5a, 0}));
    EXPECT_TRUE(looks_like_archive(std::vector<std::uint8_t>{0x42, 0x5a, 0x68}));
}

} // namespace
} // namespace bpfleet::oci
