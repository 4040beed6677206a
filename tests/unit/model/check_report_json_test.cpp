// The bpfleet.check/v1 document: a report round-trips through it field by
// field and byte for byte, keys in document order, optional fields as null;
// and parse_check_report on hostile text answers with an error, never an
// exception or a crash.
#include "model/check_result.hpp"
#include "unit/model/check_report_samples.hpp"

#include <cerrno>
#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace bpfleet {
namespace {

using test::expect_same;
using test::full_report;
using test::text_of;

// --- serialisation ----------------------------------------------------------

TEST(CheckReportJson, FullyPopulatedReportRoundTrips) {
    const CheckReport original = full_report();
    const std::string text = text_of(original);
    auto parsed = parse_check_report(text);
    ASSERT_TRUE(parsed) << parsed.error().message;
    expect_same(original, *parsed);
    EXPECT_EQ(text_of(*parsed), text); // and serialises to the same bytes again
}

TEST(CheckReportJson, ObjectErrorRoundTrips) {
    CheckReport original;
    original.agent = {"0.1.0", "1.1", "aarch64"};
    original.kernel = {"6.12.0", "aarch64"};
    original.object.name = "missing.bpf.o";
    original.object_error =
        ObjectError{FailureCode::LoaderContract, ENOENT, "cannot open 'missing.bpf.o'"};
    const std::string text = text_of(original);
    auto parsed = parse_check_report(text);
    ASSERT_TRUE(parsed) << parsed.error().message;
    expect_same(original, *parsed);
    EXPECT_EQ(parsed->exit_status(), 2);
    EXPECT_EQ(text_of(*parsed), text);
}

TEST(CheckReportJson, TopLevelKeysInDocumentOrder) {
    const Json j = full_report();
    std::vector<std::string> keys;
    for (const auto& [key, value] : j.items()) {
        keys.push_back(key);
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"schema", "agent", "kernel", "error", "object",
                                              "fixups", "programs", "summary", "duration_ms"}));
    EXPECT_EQ(j.at("schema"), "bpfleet.check/v1");
    EXPECT_TRUE(j.at("error").is_null());
    EXPECT_EQ(j.at("agent").at("libbpf"), "1.1");
    EXPECT_EQ(j.at("object").at("btf"), true);
    EXPECT_EQ(j.at("object").at("btf_ext"), false);
}

TEST(CheckReportJson, UnsetOptionalsAreNullAndNoCodeIsNull) {
    const Json j = full_report();
    const Json& pass = j.at("programs").at(0).at("load");
    EXPECT_TRUE(pass.at("code").is_null());
    EXPECT_TRUE(pass.at("log").is_null());
    EXPECT_EQ(pass.at("errno"), 0);
    EXPECT_EQ(pass.at("errno_name"), "");
    const Json& skip = j.at("programs").at(2).at("load");
    EXPECT_TRUE(skip.at("insns_processed").is_null());
    EXPECT_TRUE(skip.at("verification_time_us").is_null());
    const Json& fail = j.at("programs").at(1).at("load");
    EXPECT_EQ(fail.at("code"), "VERIFIER_REJECT");
    EXPECT_EQ(fail.at("errno_name"), "EACCES");
    EXPECT_EQ(fail.at("log").at("truncated"), true);
}

TEST(CheckReportJson, StagesCarryOnlyTheirOwnKeys) {
    const Json j = full_report();
    const Json& good = j.at("programs").at(0);
    EXPECT_FALSE(good.at("load").contains("strategy"));
    EXPECT_FALSE(good.at("load").contains("trigger"));
    EXPECT_EQ(good.at("attach").at("strategy"), "xdp");
    EXPECT_EQ(good.at("attach").at("target"), "generic XDP on the sandbox's lo");
    EXPECT_FALSE(good.at("attach").contains("trigger"));
    EXPECT_FALSE(good.at("fire").contains("strategy"));
    EXPECT_EQ(good.at("fire").at("fired"), true);
    EXPECT_EQ(good.at("fire").at("run_count"), 12);

    // Not attached, so nothing was triggered: no strategy and no trigger keys.
    const Json& bad = j.at("programs").at(1);
    EXPECT_FALSE(bad.at("attach").contains("strategy"));
    EXPECT_FALSE(bad.at("fire").contains("trigger"));
    EXPECT_FALSE(bad.at("fire").contains("fired"));

    // --load-only: no attach and fire keys at all.
    const Json& skipped = j.at("programs").at(2);
    EXPECT_FALSE(skipped.contains("attach"));
    EXPECT_FALSE(skipped.contains("fire"));

    const Json& quiet = j.at("programs").at(3).at("fire");
    EXPECT_EQ(quiet.at("code"), "NOT_FIRED");
    EXPECT_EQ(quiet.at("fired"), false);
    EXPECT_EQ(quiet.at("run_count"), 0);

    const Json& uncounted = j.at("programs").at(4).at("fire");
    EXPECT_EQ(uncounted.at("fired"), "unknown");
    EXPECT_TRUE(uncounted.at("run_count").is_null());
}

TEST(CheckReportJson, ObjectErrorCarriesTheDefaultHint) {
    CheckReport r;
    r.object_error = ObjectError{FailureCode::ObjectInvalid, 0, "the file is empty (0 bytes)"};
    const Json j = r;
    ASSERT_TRUE(j.at("error").is_object());
    EXPECT_EQ(j.at("error").at("code"), "OBJECT_INVALID");
    EXPECT_EQ(j.at("error").at("errno"), 0);
    EXPECT_EQ(j.at("error").at("message"), "the file is empty (0 bytes)");
    EXPECT_EQ(j.at("error").at("hint"), std::string(default_hint(FailureCode::ObjectInvalid)));
}

// Documents may leave out what has a default; only the core keys are required.
TEST(ParseCheckReport, AcceptsDocumentWithOnlyRequiredKeys) {
    const auto parsed = parse_check_report(R"({
        "schema": "bpfleet.check/v1",
        "agent": {"version": "0.1.0", "libbpf": "1.1", "arch": "x86_64"},
        "kernel": {"release": "6.1.0", "arch": "x86_64"},
        "object": {"name": "o.bpf.o", "size": 0, "sha256": ""},
        "programs": [{"name": "p", "load": {"verdict": "pass", "code": null, "log": null}}]
    })");
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_FALSE(parsed->object_error);
    ASSERT_EQ(parsed->programs.size(), 1u);
    EXPECT_EQ(parsed->programs[0].load.verdict, Verdict::Pass);
    EXPECT_EQ(parsed->programs[0].load.code, FailureCode::None);
    EXPECT_FALSE(parsed->programs[0].load.log);
    EXPECT_FALSE(parsed->programs[0].load.insns_processed);
    EXPECT_TRUE(parsed->fixups.empty());
    EXPECT_EQ(parsed->duration_ms, 0);
}

// --- parse_check_report on bad input ---------------------------------------

// Parses text that must be refused: an error, never an exception.
void expect_rejected(const std::string& text, const std::string& why) {
    SCOPED_TRACE(why);
    Result<CheckReport> parsed;
    EXPECT_NO_THROW(parsed = parse_check_report(text));
    ASSERT_FALSE(parsed) << "accepted: " << text.substr(0, 300);
    EXPECT_EQ(parsed.error().code, "invalid_report");
    EXPECT_FALSE(parsed.error().message.empty());
}

Json valid_document() {
    CheckReport r = full_report();
    return Json(r);
}

TEST(ParseCheckReport, ValidDocumentIsAccepted) {
    EXPECT_TRUE(parse_check_report(valid_document().dump()));
}

TEST(ParseCheckReport, RejectsWrongSchema) {
    for (const Json& schema : {Json("bpfleet.check/v2"), Json("bpfleet.check/v1 "), Json(""),
                               Json("bpfleet.probe/v1"), Json(1), Json(nullptr)}) {
        Json j = valid_document();
        j["schema"] = schema;
        expect_rejected(j.dump(), "schema " + schema.dump());
    }
}

TEST(ParseCheckReport, RejectsUnknownVerdict) {
    for (const char* verdict : {"ok", "PASS", "", "passed"}) {
        Json j = valid_document();
        j["programs"][0]["load"]["verdict"] = verdict;
        expect_rejected(j.dump(), std::string("verdict ") + verdict);
    }
}

TEST(ParseCheckReport, RejectsUnknownFailureCode) {
    for (const char* code : {"BOGUS", "verifier_reject", "NONE"}) {
        Json j = valid_document();
        j["programs"][1]["load"]["code"] = code;
        expect_rejected(j.dump(), std::string("stage code ") + code);
    }
    Json j = valid_document();
    j["error"] = Json{{"code", "NOT_A_CODE"}, {"errno", 0}, {"message", "m"}, {"hint", ""}};
    expect_rejected(j.dump(), "object error code");
}

// "" is how FailureCode::None is spelled internally; the document spells it null.
TEST(ParseCheckReport, RejectsEmptyFailureCode) {
    Json j = valid_document();
    j["programs"][1]["load"]["code"] = "";
    expect_rejected(j.dump(), "stage code ''");
    j = valid_document();
    j["error"] = Json{{"code", ""}, {"errno", 0}, {"message", "m"}, {"hint", ""}};
    expect_rejected(j.dump(), "object error code ''");
}

TEST(ParseCheckReport, RejectsMissingRequiredKeys) {
    const char* required[] = {
        "/schema",
        "/agent",
        "/agent/version",
        "/agent/libbpf",
        "/agent/arch",
        "/kernel",
        "/kernel/release",
        "/kernel/arch",
        "/object",
        "/object/name",
        "/object/size",
        "/object/sha256",
        "/object/programs/0/name",
        "/object/programs/0/section",
        "/object/programs/0/type",
        "/object/maps/0/name",
        "/object/maps/0/type",
        "/fixups/0/kind",
        "/fixups/0/target",
        "/programs/0/name",
        "/programs/0/load",
        "/programs/0/load/verdict",
        "/programs/1/load/log/level",
        "/programs/1/load/log/size",
        "/programs/1/load/log/truncated",
        "/programs/1/load/log/text",
        "/programs/0/attach/verdict",
        "/programs/0/fire/verdict",
    };
    for (const char* pointer : required) {
        Json j = valid_document();
        const Json::json_pointer ptr(pointer);
        ASSERT_TRUE(j.contains(ptr)) << pointer;
        j[ptr.parent_pointer()].erase(ptr.back());
        expect_rejected(j.dump(), std::string("without ") + pointer);
    }
}

TEST(ParseCheckReport, RejectsObjectErrorWithoutCodeOrMessage) {
    for (const char* key : {"code", "message"}) {
        Json j = valid_document();
        j["error"] = Json{{"code", "OBJECT_INVALID"}, {"errno", 0}, {"message", "m"}};
        j["error"].erase(key);
        expect_rejected(j.dump(), std::string("error without ") + key);
    }
}

TEST(ParseCheckReport, RejectsWrongTypes) {
    const std::vector<std::pair<const char*, Json>> cases = {
        {"/agent", "x86_64"},
        {"/agent/version", 1},
        {"/kernel/release", Json::array()},
        {"/error", "OBJECT_INVALID"},
        {"/object", Json::array()},
        {"/object/size", "big"},
        {"/object/size", -1},
        {"/object/size", 1.5},
        {"/object/sha256", 0},
        {"/object/btf", "yes"},
        {"/object/btf", 1},
        {"/object/programs", Json::object()},
        {"/object/programs/0/insns", "2"},
        {"/object/programs/0/autoload", "true"},
        {"/object/maps/0/key_size", 4294967296ull},
        {"/object/maps/0/max_entries", -1},
        {"/object/maps/0/pinned_by_name", "no"},
        {"/fixups", "none"},
        {"/fixups/0/from", 0},
        {"/programs", Json::object()},
        {"/programs/0", "good_pass"},
        {"/programs/0/load", Json::array()},
        {"/programs/0/load/verdict", 5},
        {"/programs/1/load/code", 13},
        {"/programs/1/load/errno", "13"},
        {"/programs/1/load/errno", 13.5},
        {"/programs/1/load/errno", true},
        {"/programs/1/load/errno", 1e300},
        {"/programs/1/load/errno", 4294967296ll},
        {"/programs/1/load/message", Json::object()},
        {"/programs/1/load/insns_processed", -1},
        {"/programs/1/load/insns_processed", "many"},
        {"/programs/1/load/verification_time_us", 2.5},
        {"/programs/1/load/libbpf_messages", "one message"},
        {"/programs/1/load/libbpf_messages", Json::array({1, 2})},
        {"/programs/1/load/log", "the log"},
        {"/programs/1/load/log/truncated", 1},
        {"/programs/1/load/log/size", -5},
        {"/programs/1/load/log/level", "5"},
        {"/programs/1/load/log/text", Json::array()},
        {"/programs/0/attach", "xdp"},
        {"/programs/0/attach/verdict", "attached"},
        {"/programs/0/attach/strategy", 1},
        {"/programs/0/fire", Json::array()},
        {"/programs/0/fire/code", "NEVER_RAN"},
        {"/programs/0/fire/run_count", -1},
        {"/programs/0/fire/run_count", "12"},
        {"/programs/0/fire/trigger", false},
        {"/duration_ms", "fast"},
        {"/duration_ms", true},
    };
    for (const auto& [pointer, value] : cases) {
        Json j = valid_document();
        const Json::json_pointer ptr(pointer);
        ASSERT_TRUE(j.contains(ptr)) << pointer;
        j[ptr] = value;
        expect_rejected(j.dump(), std::string(pointer) + " = " + value.dump());
    }
}

TEST(ParseCheckReport, RejectsDocumentsThatAreNotObjects) {
    for (const char* text : {"null", "[]", "[1, 2]", "\"bpfleet.check/v1\"", "42", "true"}) {
        expect_rejected(text, text);
    }
}

TEST(ParseCheckReport, RejectsNonJsonText) {
    const std::string valid = valid_document().dump();
    std::string with_nul = "{\"schema\": \"bpfleet.check/v1";
    with_nul.push_back('\0');
    with_nul += "\"}";
    const std::vector<std::string> texts = {
        "",
        " ",
        "not json",
        "{",
        "{\"schema\": \"bpfleet.check/v1\"",
        "{'schema': 'bpfleet.check/v1'}",
        valid.substr(0, valid.size() / 2),
        valid + " trailing",
        valid + "\n" + valid, // two documents
        with_nul,
        "\xff\xfe{}",
    };
    for (const auto& text : texts) {
        expect_rejected(text, "text: " + text.substr(0, 40));
    }
}

TEST(ParseCheckReport, RejectsInvalidUtf8InStrings) {
    Json j = valid_document();
    std::string text = j.dump();
    const auto at = text.find("good_pass");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 1, "\xc3\x28");
    expect_rejected(text, "invalid UTF-8 in a name");
}

TEST(ParseCheckReport, SurvivesHugeNestingDepth) {
    constexpr std::size_t kDepth = 1'000'000;
    expect_rejected(std::string(kDepth, '[') + std::string(kDepth, ']'), "nested arrays");
    expect_rejected(std::string(kDepth, '['), "unterminated nested arrays");

    std::string objects;
    for (std::size_t i = 0; i < 200'000; ++i) {
        objects += "{\"a\":";
    }
    objects += "1";
    objects += std::string(200'000, '}');
    expect_rejected(objects, "nested objects");

    // Deep nesting where a value of the document is expected.
    Json j = valid_document();
    std::string text = j.dump();
    const std::string key = "\"libbpf_messages\":[";
    const auto at = text.find(key);
    ASSERT_NE(at, std::string::npos);
    text.insert(at + key.size(), std::string(kDepth, '[') + std::string(kDepth, ']') + ",");
    expect_rejected(text, "nested arrays inside libbpf_messages");
    EXPECT_NE(parse_check_report(text).error().message.find("nested deeper than"),
              std::string::npos);
}

// Keys the model does not know are ignored (newer agents may add some), but
// their nesting is bounded like everything else.
TEST(ParseCheckReport, IgnoresUnknownKeysButBoundsTheirNesting) {
    const auto with_extra = [](std::size_t depth) {
        std::string text = valid_document().dump();
        text.insert(1, "\"extra\":" + std::string(depth, '[') + std::string(depth, ']') + ",");
        return text;
    };
    const auto shallow = parse_check_report(with_extra(20));
    EXPECT_TRUE(shallow) << shallow.error().message;
    for (std::size_t depth : {64, 100'000}) {
        const auto deep = parse_check_report(with_extra(depth));
        ASSERT_FALSE(deep) << depth;
        EXPECT_NE(deep.error().message.find("nested deeper than"), std::string::npos)
            << deep.error().message;
    }
}

} // namespace
} // namespace bpfleet
