#include "model/report_diff.hpp"

#include <map>
#include <set>
#include <stdexcept>
#include <tuple>

namespace bpfleet {
namespace {

using Key = std::tuple<std::string, std::string, std::string, std::string>;

struct Seen {
    Verdict verdict = Verdict::Miss;
    FailureCode code = FailureCode::None;
};

// What one report says of each program, and of each host × artifact pair.
struct Index {
    std::map<Key, Seen> programs;
    std::set<std::string> hosts;
    std::set<std::pair<std::string, std::string>> checked; // host × artifact with a verdict
    std::map<std::tuple<std::string, std::string, std::string>, FailureCode> object_errors;
};

Index index_of(const RunReport& report) {
    Index out;
    for (const auto& h : report.hosts) {
        out.hosts.insert(h.name);
        for (const auto& c : h.checks) {
            out.checked.emplace(h.name, c.artifact);
            if (c.report.object_error) {
                out.object_errors[{h.name, c.artifact, c.object}] = c.report.object_error->code;
            }
            for (const auto& p : c.report.programs) {
                out.programs[{h.name, c.artifact, c.object, p.name}] = {p.overall(),
                                                                        p.overall_code()};
            }
        }
    }
    return out;
}

bool failed(Verdict v) {
    return v == Verdict::Fail || v == Verdict::Error || v == Verdict::Miss;
}

// A program missing from `other`: no verdict (miss) when its host or its
// object gave none there; nullopt when it is truly gone (or new).
std::optional<Seen> absent_as(const Index& other, const Key& k) {
    const auto& [host, artifact, object, program] = k;
    if (auto it = other.object_errors.find({host, artifact, object});
        it != other.object_errors.end()) {
        return Seen{Verdict::Error, it->second};
    }
    if (other.checked.count({host, artifact}) == 0) {
        return Seen{Verdict::Miss, FailureCode::None};
    }
    return std::nullopt;
}

void classify(ReportDiff& diff, ProgramChange c) {
    if (c.old_verdict == c.new_verdict && c.old_code == c.new_code) {
        ++diff.unchanged;
    } else if (c.old_verdict == Verdict::Pass && failed(c.new_verdict)) {
        diff.regressions.push_back(std::move(c));
    } else if (failed(c.old_verdict) && c.new_verdict == Verdict::Pass) {
        diff.improvements.push_back(std::move(c));
    } else if (failed(c.old_verdict) && failed(c.new_verdict)) {
        diff.code_changes.push_back(std::move(c));
    } else {
        diff.other_changes.push_back(std::move(c));
    }
}

ProgramChange change_of(const Key& k, Seen was, Seen is) {
    const auto& [host, artifact, object, program] = k;
    return {host, artifact, object, program, was.verdict, was.code, is.verdict, is.code};
}

std::string verdict_text(Verdict v, FailureCode c) {
    std::string out(to_string(v));
    if (c != FailureCode::None) {
        out += " " + std::string(to_string(c));
    }
    return out;
}

Json changes_json(const std::vector<ProgramChange>& changes) {
    Json out = Json::array();
    for (const auto& c : changes) {
        out.push_back(Json{
            {"host", c.host},
            {"artifact", c.artifact},
            {"object", c.object},
            {"program", c.program},
            {"old", {{"verdict", to_string(c.old_verdict)}, {"code", to_string(c.old_code)}}},
            {"new", {{"verdict", to_string(c.new_verdict)}, {"code", to_string(c.new_code)}}}});
    }
    return out;
}

std::vector<ProgramChange> changes_of(const Json& j) {
    auto verdict = [](const Json& v) {
        auto parsed = verdict_from_string(v.at("verdict").get<std::string>());
        auto code = failure_code_from_string(v.at("code").get<std::string>());
        if (!parsed || !code) {
            throw std::invalid_argument("unknown verdict or code");
        }
        return Seen{*parsed, *code};
    };
    std::vector<ProgramChange> out;
    for (const Json& c : j) {
        const Seen was = verdict(c.at("old"));
        const Seen is = verdict(c.at("new"));
        out.push_back({c.at("host").get<std::string>(), c.at("artifact").get<std::string>(),
                       c.at("object").get<std::string>(), c.at("program").get<std::string>(),
                       was.verdict, was.code, is.verdict, is.code});
    }
    return out;
}

} // namespace

Result<ReportDiff> diff_reports(const RunReport& old_report, const RunReport& new_report,
                                const std::string& old_file, const std::string& new_file) {
    auto unrelated = [&](const std::string& why) {
        return make_error("usage",
                          "'" + old_file + "' and '" + new_file +
                              "' are not two runs of the same check: " + why,
                          0, new_file);
    };
    if (old_report.run.identity.mode != new_report.run.identity.mode) {
        return unrelated("one is a `" + old_report.run.identity.mode + "`, the other a `" +
                         new_report.run.identity.mode + "`");
    }
    const std::set<std::string> old_artifacts(old_report.artifacts.begin(),
                                              old_report.artifacts.end());
    bool common_artifact = old_report.artifacts.empty() && new_report.artifacts.empty();
    for (const auto& a : new_report.artifacts) {
        common_artifact = common_artifact || old_artifacts.count(a) != 0;
    }
    if (!common_artifact) {
        return unrelated("no -a artifact in common (a baseline is a run of the same artifact "
                         "references: a tag or a path whose contents changed)");
    }
    const Index was = index_of(old_report);
    const Index is = index_of(new_report);
    bool common_host = false;
    for (const auto& h : is.hosts) {
        common_host = common_host || was.hosts.count(h) != 0;
    }
    if (!common_host && !was.hosts.empty() && !is.hosts.empty()) {
        return unrelated("no host in common");
    }

    ReportDiff diff;
    diff.old_file = old_file;
    diff.new_file = new_file;
    for (const auto& h : is.hosts) {
        if (was.hosts.count(h) == 0) {
            diff.new_hosts.push_back(h);
        }
    }
    for (const auto& h : was.hosts) {
        if (is.hosts.count(h) == 0) {
            diff.vanished_hosts.push_back(h);
        }
    }
    for (const auto& [key, old_seen] : was.programs) {
        const std::string& host = std::get<0>(key);
        if (is.hosts.count(host) == 0) {
            continue; // the host is gone: said once, above
        }
        if (auto it = is.programs.find(key); it != is.programs.end()) {
            classify(diff, change_of(key, old_seen, it->second));
        } else if (auto none = absent_as(is, key)) {
            classify(diff, change_of(key, old_seen, *none));
        } else {
            diff.vanished_programs.push_back(change_of(key, old_seen, {}));
        }
    }
    for (const auto& [key, new_seen] : is.programs) {
        const std::string& host = std::get<0>(key);
        if (was.hosts.count(host) == 0 || was.programs.count(key) != 0) {
            continue;
        }
        if (auto none = absent_as(was, key)) {
            classify(diff, change_of(key, *none, new_seen));
        } else {
            diff.new_programs.push_back(change_of(key, {}, new_seen));
        }
    }
    return diff;
}

void to_json(Json& j, const ReportDiff& v) {
    j = Json{{"schema", kDiffSchema},
             {"old", v.old_file},
             {"new", v.new_file},
             {"regressed", v.regressed()},
             {"counts",
              {{"regressions", v.regressions.size()},
               {"improvements", v.improvements.size()},
               {"code_changes", v.code_changes.size()},
               {"other_changes", v.other_changes.size()},
               {"new_hosts", v.new_hosts.size()},
               {"vanished_hosts", v.vanished_hosts.size()},
               {"new_programs", v.new_programs.size()},
               {"vanished_programs", v.vanished_programs.size()},
               {"unchanged", v.unchanged}}},
             {"regressions", changes_json(v.regressions)},
             {"improvements", changes_json(v.improvements)},
             {"code_changes", changes_json(v.code_changes)},
             {"other_changes", changes_json(v.other_changes)},
             {"new_hosts", v.new_hosts},
             {"vanished_hosts", v.vanished_hosts},
             {"new_programs", changes_json(v.new_programs)},
             {"vanished_programs", changes_json(v.vanished_programs)}};
}

void from_json(const Json& j, ReportDiff& v) {
    if (j.at("schema").get<std::string>() != kDiffSchema) {
        throw std::invalid_argument("not a " + std::string(kDiffSchema) + " document");
    }
    v.old_file = j.at("old").get<std::string>();
    v.new_file = j.at("new").get<std::string>();
    v.regressions = changes_of(j.at("regressions"));
    v.improvements = changes_of(j.at("improvements"));
    v.code_changes = changes_of(j.at("code_changes"));
    v.other_changes = changes_of(j.at("other_changes"));
    v.new_hosts = j.at("new_hosts").get<std::vector<std::string>>();
    v.vanished_hosts = j.at("vanished_hosts").get<std::vector<std::string>>();
    v.new_programs = changes_of(j.at("new_programs"));
    v.vanished_programs = changes_of(j.at("vanished_programs"));
    v.unchanged = j.at("counts").at("unchanged").get<int>();
}

std::string diff_text(const ReportDiff& diff) {
    std::string out;
    auto section = [&](const char* title, const std::vector<ProgramChange>& changes) {
        if (changes.empty()) {
            return;
        }
        out += std::string(title) + " (" + std::to_string(changes.size()) + "):\n";
        for (const auto& c : changes) {
            out += "  " + c.host + "  " + c.artifact + "  " + c.object + "  " + c.program + ": " +
                   verdict_text(c.old_verdict, c.old_code) + " -> " +
                   verdict_text(c.new_verdict, c.new_code) + "\n";
        }
    };
    auto programs = [&](const char* title, const std::vector<ProgramChange>& changes, bool is_new) {
        if (changes.empty()) {
            return;
        }
        out += std::string(title) + " (" + std::to_string(changes.size()) + "):\n";
        for (const auto& c : changes) {
            out += "  " + c.host + "  " + c.artifact + "  " + c.object + "  " + c.program + ": " +
                   (is_new ? verdict_text(c.new_verdict, c.new_code)
                           : "was " + verdict_text(c.old_verdict, c.old_code)) +
                   "\n";
        }
    };
    auto hosts = [&](const char* title, const std::vector<std::string>& names) {
        if (names.empty()) {
            return;
        }
        out += std::string(title) + " (" + std::to_string(names.size()) + "):";
        for (const auto& n : names) {
            out += " " + n;
        }
        out += "\n";
    };
    section("regressions", diff.regressions);
    section("improvements", diff.improvements);
    section("code changes", diff.code_changes);
    section("other changes", diff.other_changes);
    hosts("new hosts", diff.new_hosts);
    hosts("vanished hosts", diff.vanished_hosts);
    programs("new programs", diff.new_programs, true);
    programs("vanished programs", diff.vanished_programs, false);
    out += std::to_string(diff.regressions.size()) + " regression(s), " +
           std::to_string(diff.improvements.size()) + " improvement(s), " +
           std::to_string(diff.code_changes.size()) + " code change(s), " +
           std::to_string(diff.other_changes.size()) + " other change(s), " +
           std::to_string(diff.unchanged) + " unchanged (" + diff.old_file + " -> " +
           diff.new_file + ")\n";
    return out;
}

} // namespace bpfleet
