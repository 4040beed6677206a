// The typed protocol messages: each one encoded and read back, and each
// parser against what a garbled or hostile peer may send (a member missing,
// of the wrong type, oversized, nested too deep, a message of another type):
// an error that names the member, never an exception.
#include "protocol/messages.hpp"
#include "support/lazy_json.hpp"

#include <gtest/gtest.h>
#include <string>

namespace bpfleet::protocol {
namespace {

const std::string kSha(64, 'a');

Json line_json(const std::string& line) {
    EXPECT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
    return Json::parse(line);
}

Hello sample_hello() {
    Hello h;
    h.agent = AgentInfo{"0.1.0", "1.1", "x86_64"};
    h.build_id = "63bc10ae";
    h.kernel = KernelInfo{"6.1.0-18-cloud-amd64", "x86_64"};
    return h;
}

CheckRequest sample_check_request() {
    CheckRequest r;
    r.id = 7;
    r.name = "probe.bpf.o";
    r.size = 1234;
    r.sha256 = kSha;
    r.options.load_only = true;
    r.options.fire = false;
    r.options.timeout_seconds = 30;
    r.options.log_cap = 8192;
    FixupRules rules;
    rules.source = "gadget.toml";
    rules.programs["count_packets"].type = "socket_filter";
    rules.programs["experimental"].enabled = false;
    rules.maps["events"].max_entries = 262144;
    r.options.fixups = rules;
    return r;
}

CheckReport sample_report() {
    CheckReport report;
    report.agent = AgentInfo{"0.1.0", "1.1", "x86_64"};
    report.object.name = "probe.bpf.o";
    ProgramResult p;
    p.name = "prog";
    p.load.verdict = Verdict::Pass;
    report.programs.push_back(p);
    return report;
}

HostFacts sample_facts() {
    HostFacts f;
    f.agent = ProbeAgentInfo{"0.1.0", "1.1", "x86_64", "63bc10ae", Json::object()};
    f.arch = "x86_64";
    f.kernel.release = "6.1.0";
    return f;
}

TEST(Messages, TypeNames) {
    for (auto t : {MessageType::Hello, MessageType::Probe, MessageType::Check, MessageType::Btf,
                   MessageType::Bye, MessageType::Error}) {
        EXPECT_EQ(message_type(Json{{"type", to_string(t)}}), t) << to_string(t);
    }
    EXPECT_FALSE(message_type(Json{{"type", "frobnicate"}}));
    EXPECT_FALSE(message_type(Json{{"type", 3}}));
    EXPECT_FALSE(message_type(Json::array()));
}

TEST(Messages, HelloRoundTrip) {
    const Json j = line_json(encode(sample_hello()));
    EXPECT_EQ(j["type"], "hello");
    EXPECT_EQ(j["protocol"], kVersion);
    EXPECT_EQ(j["agent"]["libbpf"], "1.1") << "the documented member name";
    auto h = parse_hello(j);
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ(h->protocol, kVersion);
    EXPECT_EQ(h->agent.version, "0.1.0");
    EXPECT_EQ(h->agent.libbpf_version, "1.1");
    EXPECT_EQ(h->agent.arch, "x86_64");
    EXPECT_EQ(h->build_id, "63bc10ae");
    EXPECT_EQ(h->kernel.release, "6.1.0-18-cloud-amd64");
    EXPECT_EQ(h->kernel.arch, "x86_64");
}

TEST(Messages, ProbeRequestRoundTripAndDefault) {
    auto off = parse_probe_request(line_json(encode(ProbeRequest{false})));
    ASSERT_TRUE(off) << off.error().message;
    EXPECT_FALSE(off->features);
    auto absent = parse_probe_request(Json{{"type", "probe"}});
    ASSERT_TRUE(absent) << absent.error().message;
    EXPECT_TRUE(absent->features) << "features are asked for unless said otherwise";
}

TEST(Messages, ProbeReplyRoundTrip) {
    const Json j = line_json(encode(ProbeReply{sample_facts()}));
    EXPECT_EQ(j["facts"]["schema"], "bpfleet.probe/v1");
    auto r = parse_probe_reply(j);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->facts.kernel.release, "6.1.0");
    EXPECT_EQ(Json(r->facts), j["facts"]);
}

TEST(Messages, CheckRequestRoundTrip) {
    const Json j = line_json(encode(sample_check_request()));
    EXPECT_EQ(j["options"]["timeout"], 30) << "the documented member name";
    auto r = parse_check_request(j);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->id, 7u);
    EXPECT_EQ(r->name, "probe.bpf.o");
    EXPECT_EQ(r->size, 1234u);
    EXPECT_EQ(r->sha256, kSha);
    EXPECT_TRUE(r->options.load_only);
    EXPECT_FALSE(r->options.fire);
    EXPECT_EQ(r->options.timeout_seconds, 30u);
    EXPECT_EQ(r->options.log_cap, 8192u);
    ASSERT_TRUE(r->options.fixups);
    EXPECT_EQ(r->options.fixups->source, "gadget.toml");
    EXPECT_EQ(r->options.fixups->programs.at("count_packets").type, "socket_filter");
    EXPECT_EQ(r->options.fixups->programs.at("experimental").enabled, false);
    EXPECT_EQ(r->options.fixups->maps.at("events").max_entries, 262144u);
    EXPECT_EQ(Json((*r->options.fixups)), j["options"]["fixups"]);

    CheckRequest none = sample_check_request();
    none.options.fixups.reset();
    const Json n = line_json(encode(none));
    EXPECT_TRUE(n["options"]["fixups"].is_null()) << "no --fixups: null";
    auto without = parse_check_request(n);
    ASSERT_TRUE(without) << without.error().message;
    EXPECT_FALSE(without->options.fixups);
}

// External BTF: the upload, its answer, and the check options naming it.
// An old agent's hello has no capabilities; a request without BTF carries
// none of the new members, so it reads the same to every agent.
TEST(Messages, BtfMessagesRoundTrip) {
    auto up = parse_btf_upload(line_json(encode(BtfUpload{"/btf/6.1.btf", 4096, kSha})));
    ASSERT_TRUE(up) << up.error().message;
    EXPECT_EQ(up->name, "/btf/6.1.btf");
    EXPECT_EQ(up->size, 4096u);
    EXPECT_EQ(up->sha256, kSha);
    EXPECT_FALSE(
        parse_btf_upload(Json{{"type", "btf"}, {"name", "x"}, {"size", 1}, {"sha256", "AB"}}));

    auto kept = parse_btf_reply(line_json(encode(BtfReply{kSha, std::nullopt})));
    ASSERT_TRUE(kept) << kept.error().message;
    EXPECT_FALSE(kept->error);
    auto refused = parse_btf_reply(line_json(encode(BtfReply{kSha, "not BTF"})));
    ASSERT_TRUE(refused) << refused.error().message;
    EXPECT_EQ(refused->error, "not BTF");

    CheckRequest with = sample_check_request();
    with.options.btf = kSha;
    with.options.force_btf = true;
    with.options.ignore_kernel_btf = true;
    auto r = parse_check_request(line_json(encode(with)));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->options.btf, kSha);
    EXPECT_TRUE(r->options.force_btf);
    EXPECT_TRUE(r->options.ignore_kernel_btf);
    const Json plain = line_json(encode(sample_check_request()));
    EXPECT_FALSE(plain["options"].contains("btf"));
    EXPECT_FALSE(plain["options"].contains("ignore_kernel_btf"));
    Json bad = line_json(encode(with));
    bad["options"]["btf"] = "not-a-sha";
    EXPECT_FALSE(parse_check_request(bad));

    Hello h = sample_hello();
    h.capabilities = {"btf"};
    auto hello = parse_hello(line_json(encode(h)));
    ASSERT_TRUE(hello) << hello.error().message;
    EXPECT_EQ(hello->capabilities, std::vector<std::string>{"btf"});
    Json old = line_json(encode(sample_hello()));
    old.erase("capabilities");
    auto old_hello = parse_hello(old);
    ASSERT_TRUE(old_hello) << old_hello.error().message;
    EXPECT_TRUE(old_hello->capabilities.empty());
}

TEST(Messages, CheckReplyRoundTrip) {
    const Json j = line_json(encode(CheckReply{9, sample_report()}));
    auto r = parse_check_reply(j);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->id, 9u);
    ASSERT_EQ(r->report.programs.size(), 1u);
    EXPECT_EQ(r->report.programs[0].name, "prog");
    EXPECT_EQ(Json(r->report), j["report"]);
}

TEST(Messages, ByeAndErrorRoundTrip) {
    EXPECT_EQ(encode(Bye{}), "{\"type\":\"bye\"}\n");
    EXPECT_TRUE(parse_bye(line_json(encode(Bye{}))));

    auto with_id = parse_error_reply(line_json(encode(ErrorReply{4, "no such thing"})));
    ASSERT_TRUE(with_id) << with_id.error().message;
    EXPECT_EQ(with_id->id, 4u);
    EXPECT_EQ(with_id->message, "no such thing");
    const Json no_id = line_json(encode(ErrorReply{std::nullopt, "garbled"}));
    EXPECT_TRUE(no_id["id"].is_null()) << "documented as N|null";
    auto r = parse_error_reply(no_id);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(r->id);
    auto absent = parse_error_reply(Json{{"type", "error"}, {"message", "m"}});
    ASSERT_TRUE(absent) << absent.error().message;
    EXPECT_FALSE(absent->id);
}

TEST(Messages, MembersANewerPeerAddsAreIgnored) {
    Json h = line_json(encode(sample_hello()));
    h["session"] = "abc";
    h["agent"]["features"] = {{"btf", true}};
    EXPECT_TRUE(parse_hello(h));
    Json c = line_json(encode(sample_check_request()));
    c["options"]["retries"] = 2;
    EXPECT_TRUE(parse_check_request(c));
}

// ---- what a bad peer sends ------------------------------------------------------

enum class Kind { Hello, ProbeRequest, ProbeReply, CheckRequest, CheckReply, Bye, Error };

Json good(Kind k) {
    switch (k) {
    case Kind::Hello:
        return line_json(encode(sample_hello()));
    case Kind::ProbeRequest:
        return line_json(encode(ProbeRequest{true}));
    case Kind::ProbeReply:
        return line_json(encode(ProbeReply{sample_facts()}));
    case Kind::CheckRequest:
        return line_json(encode(sample_check_request()));
    case Kind::CheckReply:
        return line_json(encode(CheckReply{1, sample_report()}));
    case Kind::Bye:
        return line_json(encode(Bye{}));
    case Kind::Error:
        return line_json(encode(ErrorReply{1, "m"}));
    }
    return {};
}

// The parser's error, or "" when the message was taken.
std::string parse_error(Kind k, const Json& m) {
    auto message_of = [](const auto& r) { return r ? std::string() : r.error().message; };
    switch (k) {
    case Kind::Hello:
        return message_of(parse_hello(m));
    case Kind::ProbeRequest:
        return message_of(parse_probe_request(m));
    case Kind::ProbeReply:
        return message_of(parse_probe_reply(m));
    case Kind::CheckRequest:
        return message_of(parse_check_request(m));
    case Kind::CheckReply:
        return message_of(parse_check_reply(m));
    case Kind::Bye:
        return message_of(parse_bye(m));
    case Kind::Error:
        return message_of(parse_error_reply(m));
    }
    return "?";
}

TEST(Messages, EveryParserTakesItsOwnGoodMessage) {
    for (auto k : {Kind::Hello, Kind::ProbeRequest, Kind::ProbeReply, Kind::CheckRequest,
                   Kind::CheckReply, Kind::Bye, Kind::Error}) {
        EXPECT_EQ(parse_error(k, good(k)), "") << good(k).dump();
    }
}

struct Bad {
    const char* name;
    Kind kind;
    const char* pointer;  // the member to change ("" for none)
    test::LazyJson value; // its new value; discarded: remove it
    std::string expected;
};

class BadMessage : public ::testing::TestWithParam<Bad> {};

TEST_P(BadMessage, IsRefusedNamingTheMember) {
    const Bad& b = GetParam();
    Json m = good(b.kind);
    const Json::json_pointer at(b.pointer);
    Json value = b.value.get();
    if (value.is_discarded()) {
        m[at.parent_pointer()].erase(at.back());
    } else {
        m[at] = std::move(value);
    }
    const std::string error = parse_error(b.kind, m);
    EXPECT_NE(error.find(b.expected), std::string::npos)
        << "got '" << error << "' for " << m.dump().substr(0, 300);
}

const Json kRemove = Json::value_t::discarded;

INSTANTIATE_TEST_SUITE_P(
    Missing, BadMessage,
    ::testing::Values(
        Bad{"HelloProtocol", Kind::Hello, "/protocol", kRemove, "hello.protocol: missing"},
        Bad{"HelloAgent", Kind::Hello, "/agent", kRemove, "hello.agent: missing"},
        Bad{"HelloBuildId", Kind::Hello, "/agent/build_id", kRemove,
            "hello.agent.build_id: missing"},
        Bad{"HelloKernelArch", Kind::Hello, "/kernel/arch", kRemove, "hello.kernel.arch: missing"},
        Bad{"ProbeFacts", Kind::ProbeReply, "/facts", kRemove, "probe.facts: missing"},
        Bad{"ProbeFactsSchema", Kind::ProbeReply, "/facts/schema", kRemove,
            "probe.facts.schema: missing"},
        Bad{"ProbeFactsPrivileges", Kind::ProbeReply, "/facts/privileges/privileged", kRemove,
            "probe.facts.privileges.privileged: missing"},
        Bad{"CheckId", Kind::CheckRequest, "/id", kRemove, "check.id: missing"},
        Bad{"CheckSize", Kind::CheckRequest, "/size", kRemove, "check.size: missing"},
        Bad{"CheckSha", Kind::CheckRequest, "/sha256", kRemove, "check.sha256: missing"},
        Bad{"CheckOptions", Kind::CheckRequest, "/options", kRemove, "check.options: missing"},
        Bad{"CheckOptionsFire", Kind::CheckRequest, "/options/fire", kRemove,
            "check.options.fire: missing"},
        Bad{"CheckOptionsFixups", Kind::CheckRequest, "/options/fixups", kRemove,
            "check.options.fixups: missing"},
        Bad{"ReplyId", Kind::CheckReply, "/id", kRemove, "check.id: missing"},
        Bad{"ReplyReport", Kind::CheckReply, "/report", kRemove, "check.report: missing"},
        Bad{"ErrorMessage", Kind::Error, "/message", kRemove, "error.message: missing"},
        Bad{"Type", Kind::Bye, "/type", kRemove, "bye.type: missing"}),
    [](const auto& param_info) { return param_info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    WrongType, BadMessage,
    ::testing::Values(
        Bad{"HelloProtocol", Kind::Hello, "/protocol", "1",
            "hello.protocol: expected an integer, got a string"},
        Bad{"HelloAgent", Kind::Hello, "/agent", Json::array(),
            "hello.agent: expected an object, got an array"},
        Bad{"HelloRelease", Kind::Hello, "/kernel/release", nullptr,
            "hello.kernel.release: expected a string, got null"},
        Bad{"ProbeFeatures", Kind::ProbeRequest, "/features", "yes",
            "probe.features: expected true or false, got a string"},
        Bad{"FactsCpus", Kind::ProbeReply, "/facts/cpus/online", "2",
            "probe.facts.cpus.online: expected an integer, got a string"},
        Bad{"FactsNotAnObject", Kind::ProbeReply, "/facts", Json::array(),
            "probe.facts: expected an object, got an array"},
        Bad{"CheckId", Kind::CheckRequest, "/id", -1,
            "check.id: expected a non-negative integer, got an integer"},
        Bad{"CheckSize", Kind::CheckRequest, "/size", 1.5,
            "check.size: expected a non-negative integer, got a fractional number"},
        Bad{"CheckTimeout", Kind::CheckRequest, "/options/timeout", "30",
            "check.options.timeout: expected an integer, got a string"},
        Bad{"CheckLoadOnly", Kind::CheckRequest, "/options/load_only", 1,
            "check.options.load_only: expected true or false, got an integer"},
        Bad{"CheckFixupsText", Kind::CheckRequest, "/options/fixups", "[maps.m]",
            "check.options.fixups: expected an object, got a string"},
        Bad{"CheckFixupsType", Kind::CheckRequest, "/options/fixups/programs/count_packets/type", 7,
            "check.options.fixups.programs.count_packets.type: expected a string, got an "
            "integer"},
        Bad{"CheckFixupsSize", Kind::CheckRequest, "/options/fixups/maps/events/max_entries", -1,
            "check.options.fixups.maps.events.max_entries: -1 is outside 0..4294967295"},
        Bad{"CheckFixupsUnknownRule", Kind::CheckRequest, "/options/fixups/maps/events/size", 4,
            "check.options.fixups.maps.events.size: unknown rule (maps take max_entries)"},
        Bad{"ReplyId", Kind::CheckReply, "/id", "1",
            "check.id: expected a non-negative integer, got a string"},
        Bad{"ReplyReport", Kind::CheckReply, "/report/programs", "none", "check.report: "},
        Bad{"ErrorId", Kind::Error, "/id", "x",
            "error.id: expected a non-negative integer, got a string"},
        Bad{"ErrorMessage", Kind::Error, "/message", 5,
            "error.message: expected a string, got an integer"},
        Bad{"AnotherType", Kind::Hello, "/type", "bye", "hello.type: is 'bye', expected 'hello'"}),
    [](const auto& param_info) { return param_info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    OutOfRange, BadMessage,
    ::testing::Values(
        Bad{"Sha256NotHex", Kind::CheckRequest, "/sha256", std::string(64, 'A'),
            "check.sha256: expected 64 lowercase hex digits"},
        Bad{"Sha256Short", Kind::CheckRequest, "/sha256", "abc",
            "check.sha256: expected 64 lowercase hex digits"},
        Bad{"TimeoutZero", Kind::CheckRequest, "/options/timeout", 0,
            "check.options.timeout: 0 is outside 1..86400 seconds"},
        Bad{"TimeoutHuge", Kind::CheckRequest, "/options/timeout", 1LL << 40,
            "check.options.timeout: 1099511627776 is outside"},
        Bad{"LogCapSmall", Kind::CheckRequest, "/options/log_cap", 100,
            "check.options.log_cap: 100 is outside 4096..268435456 bytes"},
        Bad{"FactsStatus", Kind::ProbeReply, "/facts/schema", "bpfleet.probe/v2",
            "probe.facts.schema: is 'bpfleet.probe/v2', expected 'bpfleet.probe/v1'"}),
    [](const auto& param_info) { return param_info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Oversized, BadMessage,
    ::testing::Values(
        Bad{"CheckName", Kind::CheckRequest, "/name", std::string(kMaxNameLength + 1, 'n'),
            "check.name: a string of 4097 bytes, over the 4096-byte limit"},
        Bad{"HelloVersion", Kind::Hello, "/agent/version", std::string(kMaxNameLength + 1, 'v'),
            "hello.agent.version: a string of 4097 bytes"},
        Bad{"FixupsSource", Kind::CheckRequest, "/options/fixups/source",
            std::string(kMaxFixupName + 1, 's'),
            "check.options.fixups.source: a string of 4097 bytes, over the 4096-byte limit"},
        Bad{"ErrorMessage", Kind::Error, "/message",
            test::LazyJson::made_by([] { return Json(std::string(kMaxErrorMessage + 1, 'e')); }),
            "error.message: a string of 65537 bytes"},
        Bad{"FactsHostname", Kind::ProbeReply, "/facts/hostname", std::string(5000, 'h'),
            "probe.facts.hostname: a string of 5000 bytes, over the 4096-byte limit"},
        Bad{"FactsMounts", Kind::ProbeReply, "/facts/filesystems/bpffs/mounts",
            test::LazyJson::made_by([] {
                return Json(std::vector<std::string>(kMaxFieldItems + 1, "/sys/fs/bpf"));
            }),
            "probe.facts.filesystems.bpffs.mounts: 65537 items, over the limit of 65536"}),
    [](const auto& param_info) { return param_info.param.name; });

// A nest of `levels` arrays.
Json nested(int levels) {
    Json v = 1;
    for (int i = 0; i < levels; ++i) {
        v = Json::array({std::move(v)});
    }
    return v;
}

INSTANTIATE_TEST_SUITE_P(
    TooDeep, BadMessage,
    ::testing::Values(Bad{"Hello", Kind::Hello, "/agent/version", nested(20),
                          "hello: nested deeper than"},
                      Bad{"Bye", Kind::Bye, "/x", nested(20), "bye: nested deeper than"},
                      Bad{"CheckRequest", Kind::CheckRequest, "/options/fire", nested(20),
                          "check: nested deeper than"},
                      Bad{"ProbeReply", Kind::ProbeReply, "/facts/os/extra",
                          nested(kMaxFactsDepth + 8), "probe: nested deeper than"},
                      Bad{"CheckReply", Kind::CheckReply, "/report/x", nested(kMaxReportDepth + 8),
                          "check: nested deeper than"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(Messages, NotAnObject) {
    auto r = parse_bye(Json::array());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, "protocol");
    EXPECT_EQ(r.error().message, "bye: expected an object, got an array");
}

TEST(Messages, ANewerPeerMayNestItsOwnMembersALittle) {
    // Room for a newer peer's members within a protocol version.
    Json h = good(Kind::Hello);
    h["agent"]["features"] = {{"btf", {{"vmlinux", true}}}};
    EXPECT_TRUE(parse_hello(h));
    Json b = good(Kind::Bye);
    b["stats"] = {{"checks", {1, 2}}};
    EXPECT_TRUE(parse_bye(b));
}

} // namespace
} // namespace bpfleet::protocol
