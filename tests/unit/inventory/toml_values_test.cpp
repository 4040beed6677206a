// TOML++ nodes as the inventory reads them (src/inventory/toml_values.cpp):
// positions, type names, and values as JSON.
#include "inventory/toml_values.hpp"

#include <gtest/gtest.h>

namespace bpfleet::inventory {
namespace {

toml::table parse(std::string_view text) {
    return toml::parse(text, std::string_view("t.toml"));
}

TEST(TomlValues, WhereIsFileLineColumn) {
    auto doc = parse("a = 1\n  b = \"x\"\n");
    EXPECT_EQ(where("t.toml", doc["a"].node()->source()), "t.toml:1:5");
    EXPECT_EQ(where("inv.toml", doc["b"].node()->source()), "inv.toml:2:7");
}

TEST(TomlValues, TypeNames) {
    auto doc = parse("s = \"x\"\ni = 1\nf = 1.5\nb = true\nd = 2024-05-01\nt = 07:30:00\n"
                     "dt = 2024-05-01T10:20:30Z\na = [1]\n[tbl]\n");
    EXPECT_EQ(type_name(*doc["s"].node()), "a string");
    EXPECT_EQ(type_name(*doc["i"].node()), "an integer");
    EXPECT_EQ(type_name(*doc["f"].node()), "a float");
    EXPECT_EQ(type_name(*doc["b"].node()), "a boolean");
    EXPECT_EQ(type_name(*doc["d"].node()), "a date");
    EXPECT_EQ(type_name(*doc["t"].node()), "a time");
    EXPECT_EQ(type_name(*doc["dt"].node()), "a date-time");
    EXPECT_EQ(type_name(*doc["a"].node()), "an array");
    EXPECT_EQ(type_name(*doc["tbl"].node()), "a table");
}

TEST(TomlValues, ToJsonKeepsTypesAndWritesDatesAsIso8601) {
    auto doc = parse(R"(
s = "x"
i = -7
f = 0.25
b = false
list = [1, "two", [3]]
nested = { k = "v", n = { m = 1 } }
day = 1999-01-02
at = 07:05:09
frac = 07:05:09.5
utc = 2024-05-01T10:20:30Z
east = 2024-05-01T10:20:30+05:30
west = 2024-05-01T10:20:30-08:00
local = 2024-05-01T10:20:30
)");
    auto j = to_json(doc);
    EXPECT_EQ(j["s"], "x");
    EXPECT_EQ(j["i"], -7);
    EXPECT_EQ(j["f"], 0.25);
    EXPECT_EQ(j["b"], false);
    EXPECT_EQ(j["list"], nlohmann::json::parse(R"([1, "two", [3]])"));
    EXPECT_EQ(j["nested"], nlohmann::json::parse(R"({"k": "v", "n": {"m": 1}})"));
    EXPECT_EQ(j["day"], "1999-01-02");
    EXPECT_EQ(j["at"], "07:05:09");
    EXPECT_EQ(j["frac"], "07:05:09.500000000");
    EXPECT_EQ(j["utc"], "2024-05-01T10:20:30Z");
    EXPECT_EQ(j["east"], "2024-05-01T10:20:30+05:30");
    EXPECT_EQ(j["west"], "2024-05-01T10:20:30-08:00");
    EXPECT_EQ(j["local"], "2024-05-01T10:20:30");
}

} // namespace
} // namespace bpfleet::inventory
