#include "oci/cache.hpp"
#include "oci/image_builder.hpp"

#include <gtest/gtest.h>

namespace bpfleet::oci {
namespace {

TEST(Cache, WritesAtomicallyAndVerifies) {
    test::TempDir tmp;
    BlobCache cache(tmp.path());
    auto data = test::to_bytes("some blob");
    auto d = sha256_digest(data);
    ASSERT_TRUE(cache.put(d, data, "blob"));
    EXPECT_TRUE(cache.has(d));
    auto back = cache.read(d, 1024);
    ASSERT_TRUE(back && *back);
    EXPECT_EQ(**back, data);
    EXPECT_TRUE(std::filesystem::is_empty(tmp.path() / "tmp"));
}

TEST(Cache, WrongBytesNeverLand) {
    test::TempDir tmp;
    BlobCache cache(tmp.path());
    auto d = sha256_digest(test::to_bytes("expected"));
    auto w = cache.begin(d, 1024, 8, "blob x");
    ASSERT_TRUE(w);
    w->write(test::to_bytes("EXPECTED"));
    auto c = w->commit();
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, "DIGEST_MISMATCH");
    EXPECT_EQ(c.error().context, "blob x");
    EXPECT_FALSE(cache.has(d));
}

TEST(Cache, SizeLimitAndReset) {
    test::TempDir tmp;
    BlobCache cache(tmp.path());
    auto data = test::to_bytes("0123456789");
    auto d = sha256_digest(data);
    {
        auto w = cache.begin(d, 4, std::nullopt, "blob");
        ASSERT_TRUE(w);
        EXPECT_FALSE(w->write(data));
        EXPECT_EQ(w->commit().error().code, "LIMIT_EXCEEDED");
    }
    auto w = cache.begin(d, 100, data.size(), "blob");
    ASSERT_TRUE(w);
    w->write(test::to_bytes("garbage"));
    ASSERT_TRUE(w->reset());
    w->write(data);
    ASSERT_TRUE(w->commit());
    EXPECT_TRUE(cache.has(d));
}

TEST(Cache, CorruptEntryIsRemoved) {
    test::TempDir tmp;
    BlobCache cache(tmp.path());
    auto data = test::to_bytes("good");
    auto d = sha256_digest(data);
    ASSERT_TRUE(cache.put(d, data, "blob"));
    test::write_text(cache.blob_path(d), "evil");
    auto r = cache.read(d, 100);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "DIGEST_MISMATCH");
    EXPECT_FALSE(cache.has(d));
}

TEST(Cache, Tags) {
    test::TempDir tmp;
    BlobCache cache(tmp.path());
    auto ref = parse_registry_reference("127.0.0.1:5000/gadget/x:v1");
    ASSERT_TRUE(ref);
    auto none = cache.get_tag(*ref);
    ASSERT_TRUE(none);
    EXPECT_FALSE(*none);
    auto d = sha256_digest(std::string_view("m"));
    ASSERT_TRUE(cache.put_tag(*ref, d));
    auto got = cache.get_tag(*ref);
    ASSERT_TRUE(got && *got);
    EXPECT_EQ(**got, d);
    for (const auto& f : test::files_under(tmp.path())) {
        EXPECT_TRUE(f.string().starts_with(tmp.path().string()));
    }
}

TEST(Cache, DefaultDirHonoursEnvironment) {
    ::setenv("BPFLEET_CACHE_DIR", "/tmp/x-cache", 1);
    EXPECT_EQ(default_cache_dir(), "/tmp/x-cache");
    ::unsetenv("BPFLEET_CACHE_DIR");
    ::setenv("XDG_CACHE_HOME", "/tmp/xdg", 1);
    EXPECT_EQ(default_cache_dir(), "/tmp/xdg/bpfleet");
    ::unsetenv("XDG_CACHE_HOME");
}

} // namespace
} // namespace bpfleet::oci
