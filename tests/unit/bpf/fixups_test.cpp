// Fixup rules: the fixups file parser and reader, the check of rules that
// came over the wire, the gadget section table and the zero-sized map rule.
// Application to real objects is covered by the privileged tests.

#include "bpf/fixups.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

namespace bpfleet::bpf {
namespace {

TEST(FixupRules, ParsesProgramsAndMaps) {
    auto rules = parse_fixup_rules(R"(
[programs.ig_trace]
type = "kprobe"
[programs.debug_only]
enabled = false
[maps.events]
max_entries = 1024
)",
                                   "gadget.toml");
    ASSERT_TRUE(rules) << rules.error().describe();
    EXPECT_EQ(rules->programs.at("ig_trace").type, "kprobe");
    EXPECT_FALSE(rules->programs.at("ig_trace").enabled.has_value());
    EXPECT_EQ(rules->programs.at("debug_only").enabled, false);
    EXPECT_EQ(rules->maps.at("events").max_entries, 1024u);
    EXPECT_EQ(rules->source, "gadget.toml");
}

TEST(FixupRules, EmptyFileIsNoRules) {
    auto rules = parse_fixup_rules("", "empty.toml");
    ASSERT_TRUE(rules);
    EXPECT_TRUE(rules->programs.empty());
    EXPECT_TRUE(rules->maps.empty());
}

struct BadRule {
    const char* text;
    const char* where;
    const char* says;
    const char* name;
};

class FixupRulesErrors : public ::testing::TestWithParam<BadRule> {};

TEST_P(FixupRulesErrors, NameFileLineAndColumn) {
    auto rules = parse_fixup_rules(GetParam().text, "f.toml");
    ASSERT_FALSE(rules);
    EXPECT_EQ(rules.error().context.rfind(GetParam().where, 0), 0u) << rules.error().context;
    EXPECT_NE(rules.error().message.find(GetParam().says), std::string::npos)
        << rules.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, FixupRulesErrors,
    ::testing::Values(
        BadRule{"[programs.p]\ntype = \"no_such_type\"\n", "f.toml:2:", "type",
                "UnknownProgramType"},
        BadRule{"[programs.p]\nenabled = 1\n", "f.toml:2:", "true or false", "EnabledNotBoolean"},
        BadRule{"[maps.m]\nmax_entries = -1\n", "f.toml:2:", "0 to 4294967295",
                "NegativeMaxEntries"},
        BadRule{"[maps.m]\nmax_entries = 5000000000\n", "f.toml:2:", "0 to 4294967295",
                "HugeMaxEntries"},
        BadRule{"[maps.m]\nsize = 4\n", "f.toml:2:", "unknown key", "UnknownMapKey"},
        BadRule{"[tables.x]\n", "f.toml:1:", "unknown table", "UnknownTable"},
        BadRule{"programs = 3\n", "f.toml:1:", "must be a table", "ProgramsNotATable"},
        BadRule{"[maps.m\n", "f.toml:1:", "", "SyntaxError"}),
    [](const ::testing::TestParamInfo<BadRule>& param_info) {
        return std::string(param_info.param.name);
    });

class FixupsFile : public ::testing::Test {
protected:
    std::filesystem::path m_path = std::filesystem::temp_directory_path() /
                                   ("bpfleet-fixups-unit-" + std::to_string(getpid()) + ".toml");
    void TearDown() override { std::filesystem::remove(m_path); }
};

TEST_F(FixupsFile, IsReadAndNamedByItsPath) {
    std::ofstream(m_path) << "[maps.events]\nmax_entries = 64\n";
    auto rules = load_fixup_rules(m_path.string());
    ASSERT_TRUE(rules) << rules.error().describe();
    EXPECT_EQ(rules->maps.at("events").max_entries, 64u);
    EXPECT_EQ(rules->source, m_path.string());
}

TEST_F(FixupsFile, MistakesNameTheFileAndLine) {
    std::ofstream(m_path) << "# comment\n[program.x]\n";
    auto rules = load_fixup_rules(m_path.string());
    ASSERT_FALSE(rules);
    EXPECT_EQ(rules.error().code, "fixups");
    EXPECT_EQ(rules.error().describe().rfind(m_path.string() + ":2:1: unknown table 'program'", 0),
              0u)
        << rules.error().describe();
}

TEST_F(FixupsFile, MissingOrOversizedIsAUsageError) {
    auto missing = load_fixup_rules("/nonexistent/f.toml");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, "usage");
    EXPECT_EQ(missing.error().describe(),
              "/nonexistent/f.toml: cannot open fixups file: No such file or directory");
    std::ofstream(m_path) << std::string(kMaxFixupsFile + 1, '#');
    auto big = load_fixup_rules(m_path.string());
    ASSERT_FALSE(big);
    EXPECT_EQ(big.error().code, "usage");
    EXPECT_NE(big.error().message.find("over 1 MiB"), std::string::npos);
}

// Rules that came in a check request were checked by the controller's
// libbpf; this one may not know every name.
TEST(CheckFixupRules, NamesAProgramTypeThisLibbpfDoesNotKnow) {
    FixupRules rules;
    rules.source = "f.toml";
    rules.programs["p"].type = "xdp";
    rules.programs["q"].enabled = false;
    EXPECT_TRUE(check_fixup_rules(rules));
    rules.programs["r"].type = "future_type";
    auto checked = check_fixup_rules(rules);
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().describe(),
              "f.toml: program 'r': 'future_type' is not a program type this agent's libbpf knows");
}

TEST(GadgetSections, KnownPrefixes) {
    EXPECT_EQ(gadget_section_type("socket1"), BPF_PROG_TYPE_SOCKET_FILTER);
    EXPECT_EQ(gadget_section_type("socket"), BPF_PROG_TYPE_SOCKET_FILTER);
    EXPECT_EQ(gadget_section_type("classifier/ingress/drop"), BPF_PROG_TYPE_SCHED_CLS);
    EXPECT_EQ(gadget_section_type("perf_event/cpu"), BPF_PROG_TYPE_PERF_EVENT);
    EXPECT_FALSE(gadget_section_type("kprobe/foo"));
    EXPECT_FALSE(gadget_section_type("weird"));
}

TEST(ZeroSizedMaps, DefaultOnlyWhereZeroIsInvalid) {
    EXPECT_TRUE(zero_max_entries_needs_default(BPF_MAP_TYPE_HASH));
    EXPECT_TRUE(zero_max_entries_needs_default(BPF_MAP_TYPE_ARRAY));
    EXPECT_TRUE(zero_max_entries_needs_default(BPF_MAP_TYPE_LRU_HASH));
    EXPECT_FALSE(zero_max_entries_needs_default(BPF_MAP_TYPE_RINGBUF));
    EXPECT_FALSE(zero_max_entries_needs_default(BPF_MAP_TYPE_PERF_EVENT_ARRAY));
    EXPECT_FALSE(zero_max_entries_needs_default(BPF_MAP_TYPE_SK_STORAGE));
    EXPECT_FALSE(zero_max_entries_needs_default(BPF_MAP_TYPE_TASK_STORAGE));
    EXPECT_FALSE(zero_max_entries_needs_default(BPF_MAP_TYPE_INODE_STORAGE));
    EXPECT_FALSE(zero_max_entries_needs_default(static_cast<bpf_map_type>(32))); // cgrp_storage
}

TEST(ProgTypeNames, RoundTripLibbpfNames) {
    EXPECT_EQ(prog_type_from_name("xdp"), BPF_PROG_TYPE_XDP);
    EXPECT_EQ(prog_type_from_name("sched_cls"), BPF_PROG_TYPE_SCHED_CLS);
    EXPECT_EQ(prog_type_from_name("socket_filter"), BPF_PROG_TYPE_SOCKET_FILTER);
    EXPECT_FALSE(prog_type_from_name("unspec"));
    EXPECT_FALSE(prog_type_from_name(""));
}

} // namespace
} // namespace bpfleet::bpf
