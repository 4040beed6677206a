// Sha256 against the FIPS 180-4 examples, digests across the padding
// boundaries, and streaming in every awkward chunk size.
#include "common/sha256.hpp"

#include <algorithm>
#include <cstdint>
#include <gtest/gtest.h>
#include <span>
#include <string>
#include <vector>

namespace bpfleet {
namespace {

std::vector<std::uint8_t> deterministic_bytes(std::size_t n) {
    std::vector<std::uint8_t> out(n);
    std::uint32_t x = 0x12345678;
    for (auto& b : out) {
        x = x * 1664525u + 1013904223u;
        b = static_cast<std::uint8_t>(x >> 24);
    }
    return out;
}

TEST(Sha256, EmptyInput) {
    EXPECT_EQ(Sha256::hex_of(std::string_view{}),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    Sha256 h;
    EXPECT_EQ(h.finish_hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, Abc) {
    EXPECT_EQ(Sha256::hex_of("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, TwoBlockMessage448Bits) {
    EXPECT_EQ(Sha256::hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, Message896Bits) {
    EXPECT_EQ(Sha256::hex_of("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                             "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, OneMillionA) {
    const std::string million(1000000, 'a');
    EXPECT_EQ(Sha256::hex_of(million),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

    // The same, fed 1000 bytes at a time.
    Sha256 h;
    const std::string thousand(1000, 'a');
    for (int i = 0; i < 1000; ++i) {
        h.update(thousand);
    }
    EXPECT_EQ(h.finish_hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Lengths where the padding needs one more block or exactly fills one.
TEST(Sha256, PaddingBoundaries) {
    const struct {
        std::size_t length;
        const char* digest;
    } cases[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6"},
        {63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
        {119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
        {120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
        {128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"},
    };
    for (const auto& c : cases) {
        EXPECT_EQ(Sha256::hex_of(std::string(c.length, 'a')), c.digest) << c.length << " x 'a'";
    }
}

TEST(Sha256, StreamingInOddChunksEqualsOneShot) {
    const auto data = deterministic_bytes(4099);
    const std::string expected = Sha256::hex_of(data);
    for (std::size_t chunk : {1, 2, 3, 7, 13, 55, 56, 63, 64, 65, 127, 128, 129, 1000, 4099}) {
        Sha256 h;
        for (std::size_t pos = 0; pos < data.size(); pos += chunk) {
            const std::size_t n = std::min(chunk, data.size() - pos);
            h.update(std::span<const std::uint8_t>(data.data() + pos, n));
        }
        EXPECT_EQ(h.finish_hex(), expected) << "chunk size " << chunk;
    }
}

TEST(Sha256, StreamingWithIrregularChunksAndEmptyUpdates) {
    const auto data = deterministic_bytes(3001);
    const std::string expected = Sha256::hex_of(data);
    Sha256 h;
    std::size_t pos = 0;
    std::size_t step = 0;
    while (pos < data.size()) {
        h.update(std::span<const std::uint8_t>{}); // must change nothing
        const std::size_t n = std::min<std::size_t>(1 + (step * 37) % 150, data.size() - pos);
        h.update(std::span<const std::uint8_t>(data.data() + pos, n));
        pos += n;
        ++step;
    }
    EXPECT_EQ(h.finish_hex(), expected);
}

TEST(Sha256, StringAndByteInputsAgree) {
    const std::string text = "the same bytes, two ways";
    const std::vector<std::uint8_t> bytes(text.begin(), text.end());
    EXPECT_EQ(Sha256::hex_of(text), Sha256::hex_of(bytes));

    Sha256 mixed;
    mixed.update(std::string_view(text).substr(0, 5));
    mixed.update(std::span<const std::uint8_t>(bytes).subspan(5));
    EXPECT_EQ(mixed.finish_hex(), Sha256::hex_of(text));
}

TEST(Sha256, FinishReturnsTheDigestBytes) {
    Sha256 h;
    h.update("abc");
    const auto digest = h.finish();
    ASSERT_EQ(digest.size(), 32u);
    EXPECT_EQ(digest[0], 0xba);
    EXPECT_EQ(digest[31], 0xad);
    EXPECT_EQ(to_hex(digest), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ToHex, EmptyIsEmpty) {
    EXPECT_EQ(to_hex(std::span<const std::uint8_t>{}), "");
}

TEST(ToHex, LowercaseTwoDigitsPerByte) {
    const std::uint8_t bytes[] = {0x00, 0x01, 0x0f, 0x10, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
    EXPECT_EQ(to_hex(bytes), "00010f107f80abcdefff");
}

TEST(ToHex, DigestIsSixtyFourHexCharacters) {
    const std::string hex = Sha256::hex_of(deterministic_bytes(100));
    ASSERT_EQ(hex.size(), 64u);
    EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
}

} // namespace
} // namespace bpfleet
