// JsonFields, the strict reader under every typed parser: paths in messages,
// the first problem wins and later reads return defaults, bounds on strings
// and on the items of lists and objects, optional and nullable members, and
// the members nobody asked about.
#include "model/json_fields.hpp"

#include <gtest/gtest.h>
#include <string>

namespace bpfleet {
namespace {

TEST(JsonFields, ReadsMembersAndNamesTheFirstProblemByPath) {
    const Json doc = Json::parse(R"({"a": {"b": "x", "n": 3}, "list": ["p", "q"], "t": true})");
    JsonFields in = JsonFields::root(doc, "doc");
    JsonFields a = in.object("a");
    EXPECT_EQ(a.string("b"), "x");
    EXPECT_EQ(a.integer("n"), 3);
    EXPECT_EQ(in.strings("list"), (std::vector<std::string>{"p", "q"}));
    EXPECT_TRUE(in.boolean("t"));
    EXPECT_TRUE(in.ok());

    EXPECT_EQ(a.integer("b"), 0);
    EXPECT_FALSE(in.ok()) << "a child's problem is the whole reader's";
    EXPECT_EQ(a.string("b"), "") << "after a problem, reads give defaults";
    EXPECT_FALSE(in.boolean("missing-too"));
    auto r = in.finish(1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "doc.a.b: expected an integer, got a string")
        << "the first problem is the one kept";
    EXPECT_EQ(r.error().code, "protocol");
}

TEST(JsonFields, TheRootMustBeAnObjectAndTheCodeIsTheCallers) {
    const Json doc = Json::array();
    JsonFields in = JsonFields::root(doc, "journal line", "journal");
    ASSERT_FALSE(in.ok());
    EXPECT_EQ(in.problem()->message, "journal line: expected an object, got an array");
    EXPECT_EQ(in.problem()->code, "journal");
}

TEST(JsonFields, OptionalAndNullableMembers) {
    const Json doc = Json::parse(R"({"s": null, "i": null, "o": null, "l": null, "b": null})");
    JsonFields in = JsonFields::root(doc, "d");
    EXPECT_FALSE(in.string_or_null("s"));
    EXPECT_FALSE(in.integer_or_null("i"));
    EXPECT_FALSE(in.object_or_null("o"));
    EXPECT_FALSE(in.strings_or_null("l"));
    EXPECT_FALSE(in.boolean_or_null("b"));
    EXPECT_FALSE(in.optional_string("absent"));
    EXPECT_FALSE(in.optional_integer("absent"));
    EXPECT_FALSE(in.optional_boolean("absent"));
    EXPECT_TRUE(in.ok());
    // Nullable is not optional: a missing member is still missing.
    EXPECT_FALSE(in.string_or_null("gone"));
    ASSERT_FALSE(in.ok());
    EXPECT_EQ(in.problem()->message, "d.gone: missing");
}

TEST(JsonFields, AnOptionalMemberThatIsThereMustBeRight) {
    const Json doc = Json::parse(R"({"n": "3"})");
    JsonFields in = JsonFields::root(doc, "d");
    EXPECT_FALSE(in.optional_integer("n"));
    ASSERT_FALSE(in.ok());
    EXPECT_EQ(in.problem()->message, "d.n: expected an integer, got a string");
}

TEST(JsonFields, IntegersAreIntegersThatFit) {
    const Json doc = Json::parse(
        R"({"f": 1.0, "b": true, "big": 18446744073709551615, "neg": -5, "max": 9223372036854775807})");
    for (const char* key : {"f", "b"}) {
        JsonFields in = JsonFields::root(doc, "d");
        in.integer(key);
        EXPECT_FALSE(in.ok()) << key;
    }
    JsonFields big = JsonFields::root(doc, "d");
    big.integer("big");
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.problem()->message,
              "d.big: 18446744073709551615 is out of range (at most 9223372036854775807)");
    JsonFields in = JsonFields::root(doc, "d");
    EXPECT_EQ(in.integer("neg"), -5);
    EXPECT_EQ(in.integer("max"), 9223372036854775807);
    EXPECT_EQ(in.unsigned_integer("big"), 18446744073709551615ull);
    EXPECT_TRUE(in.ok());
    in.unsigned_integer("neg");
    EXPECT_EQ(in.problem()->message, "d.neg: expected a non-negative integer, got an integer");
}

TEST(JsonFields, StringsAndListsAreBounded) {
    const Json doc = Json::parse(R"({"s": "abcdef", "l": ["a", "b", "c"], "li": ["a", "bcdef"]})");
    {
        JsonFields in = JsonFields::root(doc, "d");
        EXPECT_EQ(in.string("s", 6), "abcdef");
        EXPECT_EQ(in.string("s", 5), "");
        EXPECT_EQ(in.problem()->message, "d.s: a string of 6 bytes, over the 5-byte limit");
    }
    {
        JsonFields in = JsonFields::root(doc, "d");
        EXPECT_EQ(in.strings("l", 3).size(), 3u);
        EXPECT_TRUE(in.strings("l", 2).empty());
        EXPECT_EQ(in.problem()->message, "d.l: 3 items, over the limit of 2");
    }
    {
        JsonFields in = JsonFields::root(doc, "d");
        in.strings("li", 10, 4);
        EXPECT_EQ(in.problem()->message, "d.li[1]: a string of 5 bytes, over the 4-byte limit");
    }
}

TEST(JsonFields, MembersOfAnObjectInOrderAndBounded) {
    const Json doc =
        Json::parse(R"({"m": {"z": {"v": 1}, "a": {"v": 2}}, "s": {"k": "v", "j": "w"}})");
    {
        JsonFields in = JsonFields::root(doc, "d");
        std::vector<std::string> seen;
        in.object("m").each_object([&](const std::string& name, JsonFields& entry) {
            seen.push_back(name + "=" + std::to_string(entry.integer("v")));
        });
        EXPECT_EQ(seen, (std::vector<std::string>{"z=1", "a=2"}));
        EXPECT_EQ(in.object("s").string_members(),
                  (NamedList<std::string>{{"k", "v"}, {"j", "w"}}));
        EXPECT_TRUE(in.ok());
    }
    {
        JsonFields in = JsonFields::root(doc, "d");
        int calls = 0;
        in.object("m").each_object([&](const std::string&, JsonFields&) { ++calls; }, 1);
        EXPECT_EQ(calls, 0);
        EXPECT_EQ(in.problem()->message, "d.m: 2 members, over the limit of 1");
    }
    {
        JsonFields in = JsonFields::root(doc, "d");
        in.object("s").each_object([](const std::string&, JsonFields&) {});
        EXPECT_EQ(in.problem()->message, "d.s.k: expected an object, got a string");
    }
}

TEST(JsonFields, ItemsOfAnArrayOfObjects) {
    const Json doc = Json::parse(R"({"v1": [{"p": "a"}, {"p": "b"}], "bad": [{"p": "a"}, 7]})");
    JsonFields in = JsonFields::root(doc, "d");
    std::vector<std::string> paths;
    in.each_array_object("v1", [&](JsonFields& e) { paths.push_back(e.string("p")); });
    EXPECT_EQ(paths, (std::vector<std::string>{"a", "b"}));
    in.each_array_object(
        "v1", [](JsonFields&) {}, 1);
    EXPECT_EQ(in.problem()->message, "d.v1: 2 items, over the limit of 1");
    JsonFields second = JsonFields::root(doc, "d");
    second.each_array_object("bad", [](JsonFields&) {});
    EXPECT_EQ(second.problem()->message, "d.bad[1]: expected an object, got an integer");
}

TEST(JsonFields, UnknownMembersInTheirOrder) {
    const Json doc = Json::parse(R"({"known": 1, "z": 2, "a": {"b": 3}})");
    JsonFields in = JsonFields::root(doc, "d");
    EXPECT_EQ(in.unknown_members({"known"}).dump(), R"({"z":2,"a":{"b":3}})");
    EXPECT_EQ(in.unknown_members({"known", "z", "a"}), Json::object());
}

TEST(JsonFields, DepthAndTypeNames) {
    EXPECT_TRUE(json_depth_at_most(Json(1), 0));
    EXPECT_FALSE(json_depth_at_most(Json::array(), 0));
    const Json three = Json::parse(R"({"a": [{"b": 1}]})");
    EXPECT_TRUE(json_depth_at_most(three, 3));
    EXPECT_FALSE(json_depth_at_most(three, 2));
    EXPECT_EQ(json_type_name(Json(1.5)), "a fractional number");
    EXPECT_EQ(json_type_name(Json(-1)), "an integer");
    EXPECT_EQ(json_type_name(Json(nullptr)), "null");
}

} // namespace
} // namespace bpfleet
