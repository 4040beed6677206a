// FrameReader, the framing of every JSON-lines stream: frames split anywhere
// (down to one byte at a time), payloads that follow their line (newlines
// inside them are bytes, not frames), every bound (a line, its nesting, a
// payload) and garbage, each an error that names what was wrong, after which
// the stream stays refused.
#include "protocol/protocol.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace bpfleet::protocol {
namespace {

std::vector<Frame> drain(FrameReader& reader) {
    std::vector<Frame> out;
    while (auto frame = reader.next()) {
        out.push_back(std::move(*frame));
    }
    return out;
}

std::string payload_text(const Frame& f) {
    return std::string(f.payload.begin(), f.payload.end());
}

TEST(FrameReader, SeveralMessagesInOneChunk) {
    FrameReader reader;
    ASSERT_TRUE(reader.feed("{\"type\":\"hello\"}\n{\"type\":\"bye\",\"n\":2}\n"));
    auto frames = drain(reader);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].message["type"], "hello");
    EXPECT_EQ(frames[1].message["n"], 2);
    EXPECT_TRUE(frames[1].payload.empty());
    EXPECT_EQ(reader.pending(), 0u);
}

TEST(FrameReader, AMessageFedOneByteAtATime) {
    const std::string line = "{\"type\":\"probe\",\"features\":false}\n";
    FrameReader reader;
    for (std::size_t i = 0; i + 1 < line.size(); ++i) {
        ASSERT_TRUE(reader.feed(line.substr(i, 1)));
        EXPECT_FALSE(reader.next()) << "a frame before its line end, at byte " << i;
        EXPECT_EQ(reader.pending(), i + 1);
    }
    ASSERT_TRUE(reader.feed("\n"));
    auto frame = reader.next();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->message["features"], false);
    EXPECT_FALSE(reader.next());
}

TEST(FrameReader, PayloadFollowsItsLineAndMayHoldNewlines) {
    // Newlines, a line that looks like a message, a NUL: all payload bytes.
    const std::string bytes = std::string("\x7f"
                                          "ELF\n\n{\"type\":\"bye\"}\n") +
                              '\0' + "tail";
    const std::string stream =
        "{\"type\":\"check\",\"id\":1,\"size\":" + std::to_string(bytes.size()) + "}\n" + bytes +
        "{\"type\":\"bye\"}\n";
    // Every split point of the whole stream into two feeds gives the same frames.
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        FrameReader reader;
        ASSERT_TRUE(reader.feed(stream.substr(0, cut)));
        ASSERT_TRUE(reader.feed(stream.substr(cut)));
        auto frames = drain(reader);
        ASSERT_EQ(frames.size(), 2u) << "cut at " << cut;
        EXPECT_EQ(frames[0].message["id"], 1);
        EXPECT_EQ(payload_text(frames[0]), bytes) << "cut at " << cut;
        EXPECT_EQ(frames[1].message["type"], "bye");
    }
}

TEST(FrameReader, AnEmptyPayload) {
    FrameReader reader;
    ASSERT_TRUE(reader.feed("{\"type\":\"check\",\"size\":0}\n{\"type\":\"bye\"}\n"));
    auto frames = drain(reader);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_TRUE(frames[0].payload.empty());
}

TEST(FrameReader, OnlyTheNamedTypesCarryAPayload) {
    // The controller reads check replies, which carry none: no payload types.
    FrameReader reader(std::vector<std::string>{});
    ASSERT_TRUE(reader.feed("{\"type\":\"check\",\"id\":1,\"report\":{}}\n{\"type\":\"bye\"}\n"));
    EXPECT_EQ(drain(reader).size(), 2u);

    FrameReader with_blobs({"blob"});
    ASSERT_TRUE(with_blobs.feed("{\"type\":\"blob\",\"size\":3}\nabc"));
    auto frames = drain(with_blobs);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(payload_text(frames[0]), "abc");
}

TEST(FrameReader, AFrameIsNotReadyUntilItsWholePayloadArrived) {
    FrameReader reader;
    ASSERT_TRUE(reader.feed("{\"type\":\"check\",\"size\":10}\n12345"));
    EXPECT_FALSE(reader.next());
    ASSERT_TRUE(reader.feed("6789"));
    EXPECT_FALSE(reader.next());
    ASSERT_TRUE(reader.feed("0"));
    auto frame = reader.next();
    ASSERT_TRUE(frame);
    EXPECT_EQ(payload_text(*frame), "1234567890");
}

TEST(FrameReader, ALineWithoutAnEndOverTheLimitIsRefusedBeforeItIsBuffered) {
    FrameReader reader({"check"}, 100);
    auto fed = reader.feed(std::string(101, 'x'));
    ASSERT_FALSE(fed);
    EXPECT_EQ(fed.error().code, "protocol");
    EXPECT_NE(fed.error().message.find("without a line end (limit 100)"), std::string::npos)
        << fed.error().message;
}

TEST(FrameReader, ALineOverTheLimitIsRefusedNamingItsSize) {
    FrameReader reader({"check"}, 100);
    auto fed = reader.feed("{\"type\":\"x\",\"pad\":\"" + std::string(200, 'p') + "\"}\n");
    ASSERT_FALSE(fed);
    EXPECT_NE(fed.error().message.find("over the 100-byte limit"), std::string::npos)
        << fed.error().message;
}

TEST(FrameReader, ALineExactlyAtTheLimitPasses) {
    const std::string line = "{\"type\":\"x\",\"pad\":\"" + std::string(50, 'p') + "\"}";
    FrameReader reader({"check"}, line.size());
    ASSERT_TRUE(reader.feed(line + "\n"));
    EXPECT_TRUE(reader.next());
}

TEST(FrameReader, APayloadOverTheLimitIsRefused) {
    FrameReader reader({"check"}, kDefaultMaxLine, 1000);
    auto fed = reader.feed("{\"type\":\"check\",\"size\":1001}\n");
    ASSERT_FALSE(fed);
    EXPECT_NE(fed.error().message.find("'check' payload of 1001 bytes, over the 1000-byte limit"),
              std::string::npos)
        << fed.error().message;
}

TEST(FrameReader, NestingOverTheBoundIsRefusedBeforeParsing) {
    const int depth = kMaxMessageDepth + 1;
    std::string line = "{\"type\":\"x\",\"v\":";
    line += std::string(static_cast<std::size_t>(depth), '[');
    line += std::string(static_cast<std::size_t>(depth), ']');
    line += "}\n";
    FrameReader reader;
    auto fed = reader.feed(line);
    ASSERT_FALSE(fed);
    EXPECT_NE(fed.error().message.find("nested deeper than " + std::to_string(kMaxMessageDepth)),
              std::string::npos)
        << fed.error().message;

    // One level less passes (the object itself is a level).
    std::string ok = "{\"type\":\"x\",\"v\":";
    ok += std::string(static_cast<std::size_t>(kMaxMessageDepth - 1), '[');
    ok += std::string(static_cast<std::size_t>(kMaxMessageDepth - 1), ']');
    ok += "}\n";
    FrameReader second;
    EXPECT_TRUE(second.feed(ok));
}

struct Garbage {
    const char* name;
    std::string bytes;
    std::string expected;
};

class FrameReaderGarbage : public ::testing::TestWithParam<Garbage> {};

TEST_P(FrameReaderGarbage, IsAnErrorNamingWhatWasWrong) {
    FrameReader reader;
    auto fed = reader.feed(GetParam().bytes);
    ASSERT_FALSE(fed);
    EXPECT_EQ(fed.error().code, "protocol");
    EXPECT_NE(fed.error().message.find(GetParam().expected), std::string::npos)
        << fed.error().message;
    // A malformed stream stays refused: nothing after it is trusted.
    auto again = reader.feed("{\"type\":\"bye\"}\n");
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().message.find("already found malformed"), std::string::npos);
    EXPECT_FALSE(reader.next());
}

INSTANTIATE_TEST_SUITE_P(
    Lines, FrameReaderGarbage,
    ::testing::Values(
        Garbage{"NotJson", "Password: \n",
                "a line that is not JSON (10 bytes, starting 'Password: ')"},
        Garbage{"ControlBytes", std::string("\x01\x02{\n"), "starting '??{'"},
        Garbage{"AnArray", "[1,2]\n", "without a string \"type\""},
        Garbage{"NoType", "{\"id\":1}\n", "without a string \"type\""},
        Garbage{"TypeNotAString", "{\"type\":7}\n", "without a string \"type\""},
        Garbage{"EmptyLine", "\n", "a line that is not JSON (0 bytes"},
        Garbage{"PayloadWithoutSize", "{\"type\":\"check\"}\n",
                "'check' message without a byte size"},
        Garbage{"NegativeSize", "{\"type\":\"check\",\"size\":-1}\n", "without a byte size"},
        Garbage{"FractionalSize", "{\"type\":\"check\",\"size\":1.5}\n", "without a byte size"},
        Garbage{"TrailingBytes", "{\"type\":\"bye\"} x\n", "a line that is not JSON"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(FrameReader, FramesBeforeGarbageAreStillDelivered) {
    FrameReader reader;
    auto fed = reader.feed("{\"type\":\"probe\"}\nnot json\n");
    ASSERT_FALSE(fed);
    auto frame = reader.next();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->message["type"], "probe");
}

TEST(FrameReader, EncodeIsOneLine) {
    const std::string line = encode(Json{{"type", "x"}, {"text", "a\nb"}});
    EXPECT_EQ(line, "{\"type\":\"x\",\"text\":\"a\\nb\"}\n");
    FrameReader reader;
    ASSERT_TRUE(reader.feed(line));
    auto frame = reader.next();
    ASSERT_TRUE(frame);
    EXPECT_EQ(frame->message["text"], "a\nb");
}

} // namespace
} // namespace bpfleet::protocol
