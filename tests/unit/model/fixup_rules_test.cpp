// FixupRules in JSON, the form a check request carries: written and read
// back, and a bad form (wrong types, sizes out of range, rules this version
// does not know, nesting) refused naming the member.
#include "model/fixup_rules.hpp"

#include <gtest/gtest.h>
#include <string>

namespace bpfleet {
namespace {

FixupRules sample() {
    FixupRules r;
    r.source = "gadget.toml";
    r.programs["count_packets"].type = "socket_filter";
    r.programs["experimental"].enabled = false;
    r.maps["events"].max_entries = 262144;
    r.maps["zero"].max_entries = 0;
    return r;
}

TEST(FixupRulesJson, RoundTrip) {
    const Json j = sample();
    EXPECT_EQ(j.dump(),
              R"({"source":"gadget.toml","programs":{"count_packets":{"type":"socket_filter"},)"
              R"("experimental":{"enabled":false}},"maps":{"events":{"max_entries":262144},)"
              R"("zero":{"max_entries":0}}})");
    auto back = parse_fixup_rules_json(j, "fixups");
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(Json(*back), j);
    EXPECT_FALSE(back->programs.at("count_packets").enabled);
    EXPECT_EQ(back->maps.at("zero").max_entries, 0u);
}

TEST(FixupRulesJson, NoRules) {
    const FixupRules none;
    EXPECT_TRUE(none.empty());
    auto back = parse_fixup_rules_json(Json(none), "fixups");
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_TRUE(back->empty());
    EXPECT_FALSE(sample().empty());
}

struct BadRules {
    const char* name;
    const char* pointer;
    Json value; // discarded: remove the member
    std::string expected;
};

class BadFixupRules : public ::testing::TestWithParam<BadRules> {};

TEST_P(BadFixupRules, AreRefusedNamingTheMember) {
    const BadRules& b = GetParam();
    Json j = sample();
    const Json::json_pointer at(b.pointer);
    if (b.value.is_discarded()) {
        j[at.parent_pointer()].erase(at.back());
    } else {
        j[at] = b.value;
    }
    auto rules = parse_fixup_rules_json(j, "check.options.fixups");
    ASSERT_FALSE(rules) << j.dump();
    EXPECT_EQ(rules.error().code, "protocol");
    EXPECT_NE(rules.error().message.find(b.expected), std::string::npos) << rules.error().message;
}

const Json kRemove = Json::value_t::discarded;

INSTANTIATE_TEST_SUITE_P(
    Members, BadFixupRules,
    ::testing::Values(
        BadRules{"NoSource", "/source", kRemove, "check.options.fixups.source: missing"},
        BadRules{"NoPrograms", "/programs", kRemove, "check.options.fixups.programs: missing"},
        BadRules{"ProgramsList", "/programs", Json::array(),
                 "check.options.fixups.programs: expected an object, got an array"},
        BadRules{"RuleNotAnObject", "/maps/events", 5,
                 "check.options.fixups.maps.events: expected an object, got an integer"},
        BadRules{"TypeNumber", "/programs/count_packets/type", 6,
                 "check.options.fixups.programs.count_packets.type: expected a string"},
        BadRules{"EnabledString", "/programs/experimental/enabled", "no",
                 "check.options.fixups.programs.experimental.enabled: expected true or false"},
        BadRules{"SizeNegative", "/maps/events/max_entries", -5,
                 "check.options.fixups.maps.events.max_entries: -5 is outside 0..4294967295"},
        BadRules{"SizeHuge", "/maps/events/max_entries", 4294967296LL,
                 "check.options.fixups.maps.events.max_entries: 4294967296 is outside"},
        BadRules{"SizeFraction", "/maps/events/max_entries", 1.5,
                 "check.options.fixups.maps.events.max_entries: expected an integer"},
        BadRules{"UnknownProgramRule", "/programs/experimental/attach", "xdp",
                 "check.options.fixups.programs.experimental.attach: unknown rule (programs "
                 "take type and enabled)"},
        BadRules{"UnknownTable", "/constants", Json::object(),
                 "check.options.fixups.constants: unknown rule"},
        BadRules{"LongType", "/programs/count_packets/type", std::string(5000, 't'),
                 "type: a string of 5000 bytes, over the 4096-byte limit"},
        BadRules{"TooDeep", "/maps/events/max_entries", Json::array({Json::array()}),
                 "check.options.fixups: nested deeper than 3 levels"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(FixupRulesJson, ALongNameIsRefused) {
    Json j = sample();
    j["maps"][std::string(kMaxFixupName + 1, 'm')] = Json::object();
    auto rules = parse_fixup_rules_json(j, "fixups");
    ASSERT_FALSE(rules);
    EXPECT_NE(rules.error().message.find("a map name of 4097 bytes"), std::string::npos)
        << rules.error().message.substr(0, 200);
}

} // namespace
} // namespace bpfleet
