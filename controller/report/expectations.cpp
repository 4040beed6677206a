#include "report/expectations.hpp"

#include "common/arch.hpp"
#include "common/sha256.hpp"
#include "inventory/glob.hpp"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <toml++/toml.h>

namespace bpfleet::report {
namespace {

using inventory::glob_match;

constexpr std::size_t kMaxExpectationsFile = 1U << 20;

std::string where(const std::string& file, const toml::source_region& region) {
    return file + ":" + std::to_string(region.begin.line) + ":" +
           std::to_string(region.begin.column);
}

bool any_matches(const std::vector<std::string>& values, const std::string& pattern) {
    return std::any_of(values.begin(), values.end(),
                       [&](const std::string& v) { return glob_match(pattern, v); });
}

bool term_matches(const HostTerm& t, const HostView& h, bool assume_facts) {
    switch (t.kind) {
    case HostTerm::Kind::All:
        return true;
    case HostTerm::Kind::Name:
        return glob_match(t.pattern, h.name);
    case HostTerm::Kind::Tag:
        return any_matches(h.tags, t.pattern);
    case HostTerm::Kind::Group:
        return any_matches(h.groups, t.pattern);
    case HostTerm::Kind::Kernel:
        return h.kernel.empty() ? assume_facts : glob_match(t.pattern, h.kernel);
    case HostTerm::Kind::Arch:
        return h.arch.empty() ? assume_facts : agent_arch_name(h.arch) == t.pattern;
    }
    return false;
}

const StageResult* stage_of(const ProgramResult& p, const std::string& stage) {
    if (stage == "load") {
        return &p.load;
    }
    if (stage == "attach") {
        return p.attach ? &*p.attach : nullptr;
    }
    return p.fire ? &*p.fire : nullptr;
}

ExpectationOutcome judge(const ExpectRule& rule, Verdict actual, FailureCode code) {
    if (actual == rule.verdict && (rule.code == FailureCode::None || rule.code == code)) {
        return ExpectationOutcome::Met;
    }
    if (rule.verdict != Verdict::Pass && actual == Verdict::Pass) {
        return ExpectationOutcome::Stale;
    }
    return ExpectationOutcome::Unmet;
}

Result<std::string> string_value(const toml::node& value, const std::string& key,
                                 const std::string& at) {
    if (auto s = value.value<std::string>(); s && value.is_string()) {
        return *s;
    }
    return make_error("usage", "'" + key + "' must be a string", 0, at);
}

// One [[expect]] table's keys into `rule`.
Result<void> read_rule(const toml::table& table, const std::string& file, ExpectRule& rule) {
    static const std::set<std::string, std::less<>> kKeys{"hosts", "artifact", "object", "program",
                                                          "stage", "verdict",  "code",   "reason"};
    bool has_verdict = false;
    for (const auto& [key_node, value] : table) {
        const std::string key(key_node.str());
        const std::string at = where(file, value.source());
        if (kKeys.count(key) == 0) {
            return make_error("usage",
                              "unknown key '" + key +
                                  "' (an [[expect]] takes hosts, artifact, object, program, "
                                  "stage, verdict, code, reason)",
                              0, at);
        }
        std::string text;
        TRY_ASSIGN(text, string_value(value, key, at));
        if (key == "hosts") {
            auto terms =
                parse_host_selector(text, std::filesystem::path(file).parent_path().string());
            if (!terms) {
                // "hosts @FILE: no such file", "FILE:3: a host list holds ...", or the term
                const Error& e = terms.error();
                return make_error(
                    "usage", (e.context.empty() ? "'hosts'" : e.context) + ": " + e.message, 0, at);
            }
            rule.hosts_text = text;
            rule.hosts = std::move(*terms);
        } else if (key == "artifact") {
            rule.artifact = text;
        } else if (key == "object") {
            rule.object = text;
        } else if (key == "program") {
            rule.program = text;
        } else if (key == "stage") {
            if (text != "load" && text != "attach" && text != "fire") {
                return make_error("usage", "'stage' must be \"load\", \"attach\" or \"fire\"", 0,
                                  at);
            }
            rule.stage = text;
        } else if (key == "verdict") {
            auto v = verdict_from_string(text);
            if (!v) {
                return make_error(
                    "usage",
                    "'verdict' must be \"pass\", \"fail\", \"skip\", \"error\" or \"miss\"", 0, at);
            }
            rule.verdict = *v;
            has_verdict = true;
        } else if (key == "code") {
            auto c = failure_code_from_string(text);
            if (!c || *c == FailureCode::None) {
                return make_error("usage",
                                  "'code' must be a failure code such as \"VERIFIER_REJECT\" "
                                  "(docs/failure-codes.md)",
                                  0, at);
            }
            rule.code = *c;
        } else {
            rule.reason = text;
        }
    }
    if (!has_verdict) {
        return make_error("usage", "this [[expect]] has no 'verdict'", 0, rule.source);
    }
    if (rule.verdict == Verdict::Miss && (table.contains("program") || table.contains("object") ||
                                          table.contains("stage") || table.contains("code"))) {
        return make_error("usage",
                          "a 'miss' expectation is about a host × artifact pair: it takes no "
                          "program, object, stage or code",
                          0, rule.source);
    }
    if (rule.code != FailureCode::None && rule.verdict != Verdict::Fail &&
        rule.verdict != Verdict::Error) {
        return make_error("usage", "'code' goes with verdict \"fail\" or \"error\"", 0,
                          rule.source);
    }
    return {};
}

} // namespace

Result<std::vector<HostTerm>> parse_host_selector(std::string_view text,
                                                  const std::string& base_dir) {
    std::vector<HostTerm> terms;
    if (text.find_first_not_of(" \t") == std::string_view::npos) {
        return terms; // an empty selector: every host
    }
    std::vector<inventory::SelectorTerm> parsed;
    TRY_ASSIGN(parsed, inventory::parse_selector_terms(text, "hosts", base_dir));
    for (const auto& st : parsed) {
        const std::string& word = st.text;
        HostTerm t;
        t.sign = st.sign;
        t.set = st.set;
        const std::string at = st.origin.empty() ? "" : " (" + st.origin + ")";
        const auto colon = word.find(':');
        const std::string prefix = colon == std::string::npos ? "" : word.substr(0, colon);
        const std::string value = colon == std::string::npos ? word : word.substr(colon + 1);
        if (colon != std::string::npos && value.empty()) {
            return make_error("usage", "'" + word + "' names nothing after the colon" + at);
        }
        if (word == "all" || word == "*") {
            t.kind = HostTerm::Kind::All;
        } else if (prefix.empty()) {
            t.kind = HostTerm::Kind::Name;
            t.pattern = value;
        } else if (prefix == "tag") {
            t.kind = HostTerm::Kind::Tag;
            t.pattern = value;
        } else if (prefix == "group") {
            t.kind = HostTerm::Kind::Group;
            t.pattern = value;
        } else if (prefix == "kernel") {
            t.kind = HostTerm::Kind::Kernel;
            t.pattern = value;
        } else if (prefix == "arch") {
            if (!find_arch(value)) {
                return make_error("usage", "'" + value +
                                               "' is not an architecture bpfleet knows (x86_64, "
                                               "aarch64, armv7l, or their OCI names)" +
                                               at);
            }
            t.kind = HostTerm::Kind::Arch;
            t.pattern = agent_arch_name(value);
        } else {
            return make_error("usage", "'" + word +
                                           "': a term is NAME, GLOB, tag:T, group:G, kernel:GLOB, "
                                           "arch:NAME, all or @FILE, each may start with '!' or "
                                           "'&'" +
                                           at);
        }
        terms.push_back(std::move(t));
    }
    return terms;
}

bool host_selected(const std::vector<HostTerm>& terms, const HostView& host, bool assume_facts) {
    return inventory::selector_selects(terms, [&](const HostTerm& t) {
        // Unknown facts never remove a host: only a term that surely matches does.
        const bool assume = assume_facts && t.sign != inventory::SelectorTerm::Sign::Exclude;
        return term_matches(t, host, assume);
    });
}

HostView host_view(const HostResult& host) {
    HostView v{host.name, host.tags, host.groups, "", ""};
    if (host.facts) {
        v.kernel = host.facts->kernel.release ? *host.facts->kernel.release : std::string();
        v.arch = host.facts->arch ? *host.facts->arch : std::string();
    }
    if (v.arch.empty() && host.agent) {
        v.arch = host.agent->arch;
    }
    return v;
}

Result<Expectations> parse_expectations(std::string_view text, const std::string& file) {
    toml::table doc;
    try {
        doc = toml::parse(text, file);
    } catch (const toml::parse_error& e) {
        return make_error("usage", std::string(e.description()), 0, where(file, e.source()));
    }
    Expectations out;
    out.file = file;
    out.sha256 = Sha256::hex_of(text);
    for (const auto& [key, node] : doc) {
        if (key != "expect") {
            return make_error("usage",
                              "unknown key '" + std::string(key.str()) +
                                  "' (an expectations file holds [[expect]] tables)",
                              0, where(file, node.source()));
        }
        const toml::array* tables = node.as_array();
        if (!tables) {
            return make_error("usage", "'expect' must be an array of tables: write [[expect]]", 0,
                              where(file, node.source()));
        }
        for (const auto& item : *tables) {
            const toml::table* table = item.as_table();
            if (!table) {
                return make_error("usage", "'expect' must be an array of tables: write [[expect]]",
                                  0, where(file, item.source()));
            }
            ExpectRule rule;
            rule.source = file + ":" + std::to_string(table->source().begin.line);
            TRY(read_rule(*table, file, rule));
            out.rules.push_back(std::move(rule));
        }
    }
    return out;
}

Result<Expectations> load_expectations(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return make_error("usage", "cannot read the expectations file", errno, file);
    }
    std::string text;
    text.assign(std::istreambuf_iterator<char>(in), {});
    if (text.size() > kMaxExpectationsFile) {
        return make_error("usage", "the expectations file is over 1 MiB", 0, file);
    }
    return parse_expectations(text, file);
}

Result<void> check_rules_match(const Expectations& expectations, const std::vector<HostView>& hosts,
                               const std::vector<std::string>& artifacts) {
    for (const auto& rule : expectations.rules) {
        const bool host = std::any_of(hosts.begin(), hosts.end(), [&](const HostView& h) {
            return host_selected(rule.hosts, h, true);
        });
        if (!host) {
            return make_error("usage",
                              "hosts = \"" + rule.hosts_text +
                                  "\" matches no host of the inventory: a typo? (a rule that "
                                  "matches nothing would never be checked)",
                              0, rule.source);
        }
        if (!any_matches(artifacts, rule.artifact)) {
            return make_error("usage",
                              "artifact = \"" + rule.artifact +
                                  "\" matches no -a artifact of this run: a typo?",
                              0, rule.source);
        }
    }
    return {};
}

ExpectationsApplied apply_expectations(const Expectations& expectations, const RunReport& report) {
    ExpectationsApplied out{expectations.file, expectations.sha256, {}};
    const RunSummary summary = report.summary();
    std::set<std::pair<std::string, std::string>> missing;
    for (const auto& m : summary.missing) {
        missing.emplace(m.host, m.artifact);
    }
    for (const auto& h : report.hosts) {
        const HostView view = host_view(h);
        // host × artifact pairs: the `miss` rules
        for (const auto& artifact : report.artifacts) {
            for (const auto& rule : expectations.rules) {
                if (rule.verdict != Verdict::Miss || !glob_match(rule.artifact, artifact) ||
                    !host_selected(rule.hosts, view)) {
                    continue;
                }
                ExpectationResult r;
                r.rule = rule.source;
                r.host = h.name;
                r.artifact = artifact;
                r.expected = Verdict::Miss;
                const bool is_missing = missing.count({h.name, artifact}) != 0;
                r.actual = is_missing ? Verdict::Miss : Verdict::Pass;
                r.outcome = is_missing ? ExpectationOutcome::Met : ExpectationOutcome::Stale;
                r.reason = rule.reason;
                out.results.push_back(std::move(r));
                break;
            }
        }
        // programs: the first rule that matches decides
        for (const auto& c : h.checks) {
            for (const auto& p : c.report.programs) {
                for (const auto& rule : expectations.rules) {
                    if (rule.verdict == Verdict::Miss || !glob_match(rule.artifact, c.artifact) ||
                        !glob_match(rule.object, c.object) || !glob_match(rule.program, p.name) ||
                        !host_selected(rule.hosts, view)) {
                        continue;
                    }
                    ExpectationResult r;
                    r.rule = rule.source;
                    r.host = h.name;
                    r.artifact = c.artifact;
                    r.object = c.object;
                    r.program = p.name;
                    r.stage = rule.stage;
                    r.expected = rule.verdict;
                    r.expected_code = rule.code;
                    if (rule.stage.empty()) {
                        r.actual = p.overall();
                        r.actual_code = p.overall_code();
                    } else if (const StageResult* s = stage_of(p, rule.stage)) {
                        r.actual = s->verdict;
                        r.actual_code = s->code;
                    } // else: the stage did not run (--load-only): miss
                    r.outcome = judge(rule, r.actual, r.actual_code);
                    r.reason = rule.reason;
                    out.results.push_back(std::move(r));
                    break;
                }
            }
        }
    }
    return out;
}

} // namespace bpfleet::report
