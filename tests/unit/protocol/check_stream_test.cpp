// The agent's inner stream (check process -> supervisor): every event encoded,
// framed by its reader and read back; what a broken check process may send
// (a member missing or of the wrong type, an unknown event or failure code,
// too much nesting) is an error naming the member.
#include "protocol/check_stream.hpp"

#include <gtest/gtest.h>
#include <string>

namespace bpfleet::protocol {
namespace {

ProgramResult loaded_program() {
    ProgramResult p;
    p.name = "count_packets";
    p.section = "xdp";
    p.type = "xdp";
    p.load.verdict = Verdict::Fail;
    p.load.code = FailureCode::VerifierReject;
    p.load.errnum = 13;
    p.load.log = VerifierLog{"0: R1 invalid mem access 'scalar'\n", 34, false, 2};
    return p;
}

// Every event through encode() and the stream's reader, in one chunk.
std::vector<CheckEvent> through_the_stream(const std::vector<CheckEvent>& events) {
    std::string bytes;
    for (const auto& e : events) {
        bytes += encode(e);
    }
    FrameReader reader = check_event_reader();
    EXPECT_TRUE(reader.feed(bytes));
    std::vector<CheckEvent> out;
    while (auto frame = reader.next()) {
        auto event = parse_check_event(frame->message);
        EXPECT_TRUE(event) << event.error().message;
        if (event) {
            out.push_back(std::move(*event));
        }
    }
    return out;
}

TEST(CheckStream, EveryEventRoundTrips) {
    ObjectOpened opened;
    opened.object.name = "x.bpf.o";
    opened.object.size = 4096;
    opened.object.programs.push_back(ProgramFacts{"count_packets", "xdp", "xdp", "", 12, true});
    opened.fixups.push_back(Fixup{"map_max_entries", "events", "0", "4096", "auto", "zero"});
    ProgramAttached attached;
    attached.index = 0;
    attached.attach.verdict = Verdict::Pass;
    attached.attach.strategy = "xdp";
    attached.fire.verdict = Verdict::Skip;
    attached.fire.message = "--no-fire";
    const std::vector<CheckEvent> events = {
        opened,
        ProgramLoaded{0, loaded_program()},
        attached,
        ObjectFailed{ObjectError{FailureCode::LoaderContract, 2, "no such map"}},
        SandboxFailed{"unshare(CLONE_NEWNET): Operation not permitted"},
        CheckEnded{},
    };
    const auto back = through_the_stream(events);
    ASSERT_EQ(back.size(), events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
        EXPECT_EQ(back[i].index(), events[i].index()) << i;
        EXPECT_EQ(encode(back[i]), encode(events[i])) << i;
    }
    const auto& program = std::get<ProgramLoaded>(back[1]).program;
    EXPECT_EQ(program.load.code, FailureCode::VerifierReject);
    ASSERT_TRUE(program.load.log);
    EXPECT_EQ(program.load.log->level, 2);
    EXPECT_EQ(std::get<ObjectFailed>(back[3]).error.errnum, 2);
}

TEST(CheckStream, TheTagIsTypeLikeTheWire) {
    const Json j = Json::parse(encode(CheckEnded{}));
    EXPECT_EQ(j, Json({{"type", "end"}}));
    EXPECT_EQ(Json::parse(encode(ProgramLoaded{3, loaded_program()}))["type"], "load");
}

TEST(CheckStream, WhichEventsEndTheStream) {
    EXPECT_TRUE(ends_stream(CheckEnded{}));
    EXPECT_TRUE(ends_stream(ObjectFailed{}));
    EXPECT_TRUE(ends_stream(SandboxFailed{}));
    EXPECT_FALSE(ends_stream(ObjectOpened{}));
    EXPECT_FALSE(ends_stream(ProgramLoaded{}));
    EXPECT_FALSE(ends_stream(ProgramAttached{}));
}

TEST(CheckStream, TheReaderTakesNoPayloads) {
    // A "check" line here is just an unknown event, not a payload header.
    FrameReader reader = check_event_reader();
    ASSERT_TRUE(reader.feed("{\"type\":\"check\"}\n"));
    auto frame = reader.next();
    ASSERT_TRUE(frame);
    auto event = parse_check_event(frame->message);
    ASSERT_FALSE(event);
    EXPECT_EQ(event.error().message, "check event.type: unknown event 'check'");
}

struct BadEvent {
    const char* name;
    CheckEvent good;
    const char* pointer;
    Json value; // discarded: remove the member
    std::string expected;
};

class BadCheckEvent : public ::testing::TestWithParam<BadEvent> {};

TEST_P(BadCheckEvent, IsRefusedNamingTheMember) {
    const BadEvent& b = GetParam();
    Json m = Json::parse(encode(b.good));
    const Json::json_pointer at(b.pointer);
    if (b.value.is_discarded()) {
        m[at.parent_pointer()].erase(at.back());
    } else {
        m[at] = b.value;
    }
    auto event = parse_check_event(m);
    ASSERT_FALSE(event) << m.dump().substr(0, 300);
    EXPECT_EQ(event.error().code, "protocol");
    EXPECT_NE(event.error().message.find(b.expected), std::string::npos) << event.error().message;
}

const Json kRemove = Json::value_t::discarded;

Json nested(int levels) {
    Json v = 1;
    for (int i = 0; i < levels; ++i) {
        v = Json::array({std::move(v)});
    }
    return v;
}

INSTANTIATE_TEST_SUITE_P(
    Members, BadCheckEvent,
    ::testing::Values(
        BadEvent{"LoadIndexMissing", ProgramLoaded{0, loaded_program()}, "/index", kRemove,
                 "load.index: missing"},
        BadEvent{"LoadIndexNegative", ProgramLoaded{0, loaded_program()}, "/index", -1,
                 "load.index: expected a non-negative integer"},
        BadEvent{"LoadProgramMissing", ProgramLoaded{0, loaded_program()}, "/program", kRemove,
                 "load.program: missing"},
        BadEvent{"LoadVerdict", ProgramLoaded{0, loaded_program()}, "/program/load/verdict",
                 "great", "load.program: unknown verdict 'great'"},
        BadEvent{"ObjectFacts", ObjectOpened{}, "/object", Json::array(), "object.object: "},
        BadEvent{"ObjectFixups", ObjectOpened{}, "/fixups", "none", "object.fixups: "},
        BadEvent{"AttachFire", ProgramAttached{}, "/fire", kRemove, "attach.fire: missing"},
        BadEvent{"ErrorCode", ObjectFailed{}, "/code", "OOPS",
                 "object_error.code: unknown failure code 'OOPS'"},
        BadEvent{"ErrorNoCode", ObjectFailed{}, "/code", "",
                 "object_error.code: unknown failure code ''"},
        BadEvent{"ErrorErrno", ObjectFailed{}, "/errno", "2",
                 "object_error.errno: expected an integer, got a string"},
        BadEvent{"ErrorErrnoRange", ObjectFailed{}, "/errno", 1LL << 40,
                 "object_error.errno: 1099511627776 is not an errno"},
        BadEvent{"ErrorMessage", ObjectFailed{}, "/message", std::string(70000, 'm'),
                 "object_error.message: a string of 70000 bytes"},
        BadEvent{"SandboxMessage", SandboxFailed{}, "/message", nullptr,
                 "sandbox_error.message: expected a string, got null"},
        BadEvent{"Unknown", CheckEnded{}, "/type", "kind", "unknown event 'kind'"},
        BadEvent{"TooDeep", CheckEnded{}, "/x", nested(kMaxReportDepth + 1),
                 "check event: nested deeper than 32 levels"}),
    [](const auto& param_info) { return param_info.param.name; });

} // namespace
} // namespace bpfleet::protocol
