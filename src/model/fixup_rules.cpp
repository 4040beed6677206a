#include "model/fixup_rules.hpp"

#include <limits>

namespace bpfleet {
namespace {

// Fails on a member of a rule this version does not know.
void refuse_unknown(JsonFields& rule, std::initializer_list<std::string_view> known,
                    const char* takes) {
    const Json unknown = rule.unknown_members(known);
    if (!unknown.empty()) {
        rule.fail(unknown.begin().key(), std::string("unknown rule (") + takes + ")");
    }
}

} // namespace

void to_json(Json& j, const FixupRules& rules) {
    Json programs = Json::object();
    for (const auto& [name, rule] : rules.programs) {
        Json r = Json::object();
        if (rule.type) {
            r["type"] = *rule.type;
        }
        if (rule.enabled) {
            r["enabled"] = *rule.enabled;
        }
        programs[name] = std::move(r);
    }
    Json maps = Json::object();
    for (const auto& [name, rule] : rules.maps) {
        Json r = Json::object();
        if (rule.max_entries) {
            r["max_entries"] = *rule.max_entries;
        }
        maps[name] = std::move(r);
    }
    j = Json{
        {"source", rules.source}, {"programs", std::move(programs)}, {"maps", std::move(maps)}};
}

Result<FixupRules> parse_fixup_rules_json(const Json& value, const std::string& path) {
    // Rules nest three levels (maps.NAME.max_entries).
    if (!json_depth_at_most(value, 3)) {
        return make_error("protocol", path + ": nested deeper than 3 levels");
    }
    JsonFields in = JsonFields::root(value, path);
    FixupRules rules;
    rules.source = in.string("source", kMaxFixupName);
    in.object("programs")
        .each_object(
            [&](const std::string& name, JsonFields& rule) {
                if (name.size() > kMaxFixupName) {
                    rule.fail("", "a program name of " + std::to_string(name.size()) + " bytes");
                    return;
                }
                ProgramRule r;
                r.type = rule.optional_string("type", kMaxFixupName);
                r.enabled = rule.optional_boolean("enabled");
                refuse_unknown(rule, {"type", "enabled"}, "programs take type and enabled");
                rules.programs.emplace(name, std::move(r));
            },
            kMaxFixupRules);
    in.object("maps").each_object(
        [&](const std::string& name, JsonFields& rule) {
            if (name.size() > kMaxFixupName) {
                rule.fail("", "a map name of " + std::to_string(name.size()) + " bytes");
                return;
            }
            MapRule r;
            if (auto n = rule.optional_integer("max_entries")) {
                if (*n < 0 || *n > std::numeric_limits<std::uint32_t>::max()) {
                    rule.fail("max_entries", std::to_string(*n) + " is outside 0..4294967295");
                }
                r.max_entries = static_cast<std::uint32_t>(*n);
            }
            refuse_unknown(rule, {"max_entries"}, "maps take max_entries");
            rules.maps.emplace(name, r);
        },
        kMaxFixupRules);
    refuse_unknown(in, {"source", "programs", "maps"}, "fixups take source, programs and maps");
    return in.finish(std::move(rules));
}

} // namespace bpfleet
