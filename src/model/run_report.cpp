#include "model/run_report.hpp"

#include <array>
#include <cstdio>
#include <ctime>
#include <random>
#include <set>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace bpfleet {
namespace {

constexpr std::array<std::pair<HostStatus, std::string_view>, 8> kStatuses = {{
    {HostStatus::Ok, "ok"},
    {HostStatus::Unreachable, "unreachable"},
    {HostStatus::AuthFailed, "auth_failed"},
    {HostStatus::HostkeyMismatch, "hostkey_mismatch"},
    {HostStatus::Timeout, "timeout"},
    {HostStatus::AgentError, "agent_error"},
    {HostStatus::UnsupportedArch, "unsupported_arch"},
    {HostStatus::Skipped, "skipped"},
}};

} // namespace

std::string_view to_string(HostStatus s) {
    for (const auto& [v, name] : kStatuses) {
        if (v == s) {
            return name;
        }
    }
    return "agent_error";
}

std::optional<HostStatus> host_status_from_string(std::string_view s) {
    for (const auto& [v, name] : kStatuses) {
        if (name == s) {
            return v;
        }
    }
    return std::nullopt;
}

bool HostResult::has_program_failures() const {
    for (const auto& c : checks) {
        if (c.report.exit_status() != 0) {
            return true;
        }
    }
    return false;
}

namespace {

// Why `h` has no verdict for `artifact`: its own trouble, or (an answered
// host) the artifact has no object for its architecture.
std::string missing_reason(const HostResult& h) {
    if (h.status != HostStatus::Ok) {
        std::string why(to_string(h.status));
        if (!h.stage.empty()) {
            why += " (" + h.stage + ")";
        }
        if (!h.error.empty()) {
            why += ": " + h.error;
        }
        return why;
    }
    std::string arch = h.agent ? h.agent->arch : std::string();
    if (arch.empty() && h.facts && h.facts->arch) {
        arch = *h.facts->arch;
    }
    return "no object for the host's architecture" + (arch.empty() ? "" : " (" + arch + ")");
}

using ProgramKey = std::tuple<std::string, std::string, std::string, std::string>;

// exit_status() under expectations: a failure a rule expected, and a miss a
// rule expected, no longer count; an unmet expectation does.
int judged_exit_status(const RunReport& report, const RunSummary& s) {
    std::set<ProgramKey> excused;
    std::set<std::pair<std::string, std::string>> expected_miss;
    bool unmet = false;
    for (const auto& r : report.expectations->results) {
        unmet = unmet || r.outcome == ExpectationOutcome::Unmet;
        if (r.outcome == ExpectationOutcome::Unmet) {
            continue;
        }
        if (r.program.empty()) {
            expected_miss.emplace(r.host, r.artifact);
        } else {
            excused.emplace(r.host, r.artifact, r.object, r.program);
        }
    }
    bool failed = unmet;
    for (const auto& h : report.hosts) {
        for (const auto& c : h.checks) {
            failed = failed || c.report.object_error.has_value();
            for (const auto& p : c.report.programs) {
                const Verdict v = p.overall();
                if ((v == Verdict::Fail || v == Verdict::Error) &&
                    excused.count({h.name, c.artifact, c.object, p.name}) == 0) {
                    failed = true;
                }
            }
        }
    }
    if (failed) {
        return 1;
    }
    for (const auto& m : s.missing) {
        if (expected_miss.count({m.host, m.artifact}) == 0) {
            return 3;
        }
    }
    // Without artifacts (probe) a host without an answer has no pair to miss.
    return report.artifacts.empty() && s.hosts_unanswered > 0 ? 3 : 0;
}

} // namespace

std::string_view to_string(ExpectationOutcome o) {
    switch (o) {
    case ExpectationOutcome::Met:
        return "met";
    case ExpectationOutcome::Unmet:
        return "unmet";
    case ExpectationOutcome::Stale:
        return "stale";
    }
    return "unmet";
}

int ExpectationsApplied::count(ExpectationOutcome o) const {
    int n = 0;
    for (const auto& r : results) {
        n += r.outcome == o ? 1 : 0;
    }
    return n;
}

void to_json(Json& j, const ExpectationsApplied& v) {
    Json results = Json::array();
    for (const auto& r : v.results) {
        results.push_back(Json{{"rule", r.rule},
                               {"host", r.host},
                               {"artifact", r.artifact},
                               {"object", r.object},
                               {"program", r.program},
                               {"stage", r.stage},
                               {"expected", to_string(r.expected)},
                               {"expected_code", to_string(r.expected_code)},
                               {"actual", to_string(r.actual)},
                               {"actual_code", to_string(r.actual_code)},
                               {"outcome", to_string(r.outcome)},
                               {"reason", r.reason}});
    }
    j = Json{{"file", v.file},
             {"sha256", v.sha256},
             {"met", v.count(ExpectationOutcome::Met)},
             {"unmet", v.count(ExpectationOutcome::Unmet)},
             {"stale", v.count(ExpectationOutcome::Stale)},
             {"results", results}};
}

void from_json(const Json& j, ExpectationsApplied& v) {
    auto verdict = [](const Json& r, const char* key) {
        auto parsed = verdict_from_string(r.at(key).get<std::string>());
        if (!parsed) {
            throw std::invalid_argument(std::string("expectations: unknown verdict in ") + key);
        }
        return *parsed;
    };
    auto code = [](const Json& r, const char* key) {
        auto parsed = failure_code_from_string(r.at(key).get<std::string>());
        if (!parsed) {
            throw std::invalid_argument(std::string("expectations: unknown code in ") + key);
        }
        return *parsed;
    };
    v.file = j.at("file").get<std::string>();
    v.sha256 = j.at("sha256").get<std::string>();
    v.results.clear();
    for (const Json& r : j.at("results")) {
        ExpectationResult e;
        e.rule = r.at("rule").get<std::string>();
        e.host = r.at("host").get<std::string>();
        e.artifact = r.at("artifact").get<std::string>();
        e.object = r.at("object").get<std::string>();
        e.program = r.at("program").get<std::string>();
        e.stage = r.at("stage").get<std::string>();
        e.expected = verdict(r, "expected");
        e.expected_code = code(r, "expected_code");
        e.actual = verdict(r, "actual");
        e.actual_code = code(r, "actual_code");
        const auto outcome = r.at("outcome").get<std::string>();
        if (outcome == "met") {
            e.outcome = ExpectationOutcome::Met;
        } else if (outcome == "unmet") {
            e.outcome = ExpectationOutcome::Unmet;
        } else if (outcome == "stale") {
            e.outcome = ExpectationOutcome::Stale;
        } else {
            throw std::invalid_argument("expectations: unknown outcome '" + outcome + "'");
        }
        e.reason = r.value("reason", std::string());
        v.results.push_back(std::move(e));
    }
}

RunSummary RunReport::summary() const {
    RunSummary s;
    for (const auto& h : hosts) {
        for (const auto& artifact : artifacts) {
            bool checked = false;
            for (const auto& c : h.checks) {
                checked = checked || c.artifact == artifact;
            }
            if (!checked) {
                s.missing.push_back({h.name, artifact, missing_reason(h)});
            }
        }
        ++s.hosts;
        if (h.status == HostStatus::Ok) {
            ++s.hosts_ok;
        } else if (h.status != HostStatus::UnsupportedArch &&
                   (h.status != HostStatus::Skipped || !cancelled.empty())) {
            ++s.hosts_unanswered;
        }
        for (const auto& c : h.checks) {
            auto cs = c.report.summary();
            s.programs += cs.programs;
            s.pass += cs.pass;
            s.fail += cs.fail;
            s.skip += cs.skip;
            s.error += cs.error;
            if (c.report.object_error) {
                ++s.error;
            }
        }
    }
    s.miss = static_cast<int>(s.missing.size());
    return s;
}

int RunReport::exit_status() const {
    if (cancelled == "SIGINT") {
        return 130;
    }
    if (cancelled == "SIGTERM") {
        return 143;
    }
    if (baseline && baseline->regressed()) {
        return 1;
    }
    auto s = summary();
    if (expectations) {
        return judged_exit_status(*this, s);
    }
    if (s.fail > 0 || s.error > 0) {
        return 1;
    }
    if (s.hosts_unanswered > 0 || s.miss > 0) {
        return 3;
    }
    return 0;
}

void to_json(Json& j, const ObjectCheck& v) {
    j = Json{{"artifact", v.artifact},
             {"object", v.object},
             {"arch", v.arch},
             {"image_digest", v.image_digest},
             {"manifest_digest", v.manifest_digest},
             {"object_sha256", v.object_sha256},
             {"report", v.report}};
}

void from_json(const Json& j, ObjectCheck& v) {
    v.artifact = j.at("artifact").get<std::string>();
    v.object = j.at("object").get<std::string>();
    v.arch = j.value("arch", std::string());
    v.image_digest = j.value("image_digest", std::string());
    v.manifest_digest = j.value("manifest_digest", std::string());
    v.object_sha256 = j.value("object_sha256", std::string());
    v.report = j.at("report").get<CheckReport>();
}

void to_json(Json& j, const HostResult& v) {
    j = Json{{"name", v.name},
             {"address", v.address},
             {"port", v.port},
             {"user", v.user},
             {"jump", v.jump},
             {"transport", v.transport},
             {"status", to_string(v.status)},
             {"stage", v.stage},
             {"error", v.error},
             {"attempts", v.attempts},
             {"facts", v.facts ? Json(*v.facts) : Json::object()},
             {"checks", v.checks},
             {"duration_ms", v.duration_ms},
             {"tags", v.tags},
             {"groups", v.groups},
             {"vars", v.vars}};
    if (!v.host_keys_added.empty()) {
        Json keys = Json::array();
        for (const auto& k : v.host_keys_added) {
            keys.push_back(Json{{"host", k.host},
                                {"type", k.type},
                                {"fingerprint", k.fingerprint},
                                {"file", k.file}});
        }
        j["host_keys_added"] = std::move(keys);
    }
    if (v.agent) {
        j["agent"] = Json{{"arch", v.agent->arch},
                          {"sha256", v.agent->sha256},
                          {"path", v.agent->path},
                          {"uploaded", v.agent->uploaded}};
    }
}

void from_json(const Json& j, HostResult& v) {
    v.name = j.at("name").get<std::string>();
    v.address = j.value("address", std::string());
    v.port = j.value("port", std::uint16_t{0});
    v.user = j.value("user", std::string());
    v.jump = j.value("jump", std::vector<std::string>{});
    v.transport = j.value("transport", std::string());
    v.attempts = j.value("attempts", 1);
    if (j.contains("agent") && j["agent"].is_object()) {
        const Json& a = j["agent"];
        v.agent = AgentDeployment{a.value("arch", std::string()), a.value("sha256", std::string()),
                                  a.value("path", std::string()), a.value("uploaded", false)};
    }
    v.host_keys_added.clear();
    if (auto it = j.find("host_keys_added"); it != j.end() && it->is_array()) {
        for (const auto& k : *it) {
            v.host_keys_added.push_back(
                {k.value("host", std::string()), k.value("type", std::string()),
                 k.value("fingerprint", std::string()), k.value("file", std::string())});
        }
    }
    auto status = host_status_from_string(j.at("status").get<std::string>());
    if (!status) {
        throw std::invalid_argument("unknown host status");
    }
    v.status = *status;
    v.stage = j.value("stage", std::string());
    v.error = j.value("error", std::string());
    v.facts.reset();
    if (auto it = j.find("facts"); it != j.end() && !(it->is_object() && it->empty())) {
        auto facts = parse_host_facts(*it, "facts");
        if (!facts) {
            throw std::invalid_argument(facts.error().message);
        }
        v.facts = std::move(*facts);
    }
    v.checks = j.value("checks", std::vector<ObjectCheck>{});
    v.duration_ms = j.value("duration_ms", 0.0);
    v.tags = j.value("tags", std::vector<std::string>{});
    v.groups = j.value("groups", std::vector<std::string>{});
    v.vars = j.value("vars", Json::object());
    if (!v.vars.is_object()) {
        throw std::invalid_argument("vars is not an object");
    }
}

void to_json(Json& j, const RunReport& v) {
    auto s = v.summary();
    Json missing = Json::array();
    for (const auto& m : s.missing) {
        missing.push_back(Json{{"host", m.host}, {"artifact", m.artifact}, {"reason", m.reason}});
    }
    j = Json{{"schema", kRunSchema},
             {"run", v.run},
             {"inventory", v.inventory},
             {"cancelled", v.cancelled},
             {"started", v.started},
             {"finished", v.finished},
             {"duration_ms", v.duration_ms},
             {"artifacts", v.artifacts},
             {"hosts", v.hosts},
             {"summary", Json{{"hosts", s.hosts},
                              {"hosts_ok", s.hosts_ok},
                              {"hosts_unanswered", s.hosts_unanswered},
                              {"programs", s.programs},
                              {"pass", s.pass},
                              {"fail", s.fail},
                              {"skip", s.skip},
                              {"error", s.error},
                              {"miss", s.miss},
                              {"complete", s.complete()},
                              {"missing", missing}}},
             {"exit_status", v.exit_status()}};
    if (v.expectations) {
        j["expectations"] = *v.expectations;
    }
    if (v.baseline) {
        j["baseline"] = *v.baseline;
    }
}

void to_json(Json& j, const RunIdentity& v) {
    Json artifacts = Json::array();
    for (const auto& a : v.artifacts) {
        Json objects = Json::array();
        for (const auto& o : a.objects) {
            objects.push_back(Json{{"arch", o.arch}, {"name", o.name}, {"sha256", o.sha256}});
        }
        artifacts.push_back(
            Json{{"spec", a.spec}, {"image_digest", a.image_digest}, {"objects", objects}});
    }
    j = Json{{"id", v.id},
             {"mode", v.mode},
             {"artifacts", artifacts},
             {"options", v.options},
             {"inventory_sha256", v.inventory_sha256}};
}

void from_json(const Json& j, RunIdentity& v) {
    v.id = j.value("id", std::string());
    v.mode = j.at("mode").get<std::string>();
    v.options = j.at("options");
    if (!v.options.is_object()) {
        throw std::invalid_argument("options is not an object");
    }
    v.inventory_sha256 = j.at("inventory_sha256").get<std::string>();
    v.artifacts.clear();
    for (const Json& a : j.at("artifacts")) {
        ArtifactDigests d;
        d.spec = a.at("spec").get<std::string>();
        d.image_digest = a.at("image_digest").get<std::string>();
        for (const Json& o : a.at("objects")) {
            d.objects.push_back({o.at("arch").get<std::string>(), o.at("name").get<std::string>(),
                                 o.at("sha256").get<std::string>()});
        }
        v.artifacts.push_back(std::move(d));
    }
}

void to_json(Json& j, const RunInfo& v) {
    j = Json(v.identity);
    j["bpfleet_version"] = v.bpfleet_version;
    j["command_line"] = v.command_line;
    j["shard"] = v.shard;
}

void from_json(const Json& j, RunInfo& v) {
    v.identity = j.get<RunIdentity>();
    v.bpfleet_version = j.value("bpfleet_version", std::string());
    v.command_line = j.value("command_line", std::vector<std::string>{});
    v.shard = j.value("shard", std::string());
}

std::string new_run_id() {
    std::time_t t = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
    std::random_device random;
    const std::uint64_t bits =
        (static_cast<std::uint64_t>(random()) << 32U | random()) & 0xffffffffffffULL;
    char hex[16];
    std::snprintf(hex, sizeof hex, "%012llx", static_cast<unsigned long long>(bits));
    return std::string(stamp) + "-" + hex;
}

namespace {

std::string short_digest(const std::string& d) {
    return d.size() > 19 ? d.substr(0, 19) + "..." : (d.empty() ? "(none)" : d);
}

} // namespace

std::string identity_difference(const RunIdentity& journal, const RunIdentity& now) {
    if (journal.mode != now.mode) {
        return "it is a `" + journal.mode + "`, this is a `" + now.mode + "`";
    }
    std::string journal_specs;
    std::string now_specs;
    for (const auto& a : journal.artifacts) {
        journal_specs += (journal_specs.empty() ? "" : " ") + a.spec;
    }
    for (const auto& a : now.artifacts) {
        now_specs += (now_specs.empty() ? "" : " ") + a.spec;
    }
    if (journal_specs != now_specs) {
        return "its artifacts are [" + journal_specs + "], this run's are [" + now_specs + "]";
    }
    for (std::size_t i = 0; i < now.artifacts.size(); ++i) {
        const auto& was = journal.artifacts[i];
        const auto& is = now.artifacts[i];
        if (was.image_digest != is.image_digest) {
            return "artifact '" + is.spec + "' is now image " + short_digest(is.image_digest) +
                   ", it was " + short_digest(was.image_digest);
        }
        if (was.objects.size() != is.objects.size()) {
            return "artifact '" + is.spec + "' now has " + std::to_string(is.objects.size()) +
                   " object(s), it had " + std::to_string(was.objects.size());
        }
        for (std::size_t k = 0; k < is.objects.size(); ++k) {
            const auto& o = is.objects[k];
            const auto& p = was.objects[k];
            if (o.arch != p.arch || o.name != p.name || o.sha256 != p.sha256) {
                return "artifact '" + is.spec + "': object " + o.name +
                       (o.arch.empty() ? "" : " (" + o.arch + ")") + " is now sha256 " +
                       short_digest(o.sha256) + ", it was " + p.name +
                       (p.arch.empty() ? "" : " (" + p.arch + ")") + " sha256 " +
                       short_digest(p.sha256);
            }
        }
    }
    if (journal.options != now.options) {
        for (const auto& [key, value] : now.options.items()) {
            const Json was = journal.options.contains(key) ? journal.options[key] : Json();
            if (was != value) {
                return "option " + key + " is now " + value.dump() + ", it was " + was.dump();
            }
        }
        for (const auto& [key, value] : journal.options.items()) {
            if (!now.options.contains(key)) {
                return "option " + key + " was " + value.dump() + ", this run has none";
            }
        }
    }
    if (journal.inventory_sha256 != now.inventory_sha256) {
        return "the inventory changed (sha256 " + short_digest(now.inventory_sha256) + ", it was " +
               short_digest(journal.inventory_sha256) + ")";
    }
    return "";
}

Result<HostResult> parse_host_result(std::string_view line) {
    try {
        return Json::parse(line).get<HostResult>();
    } catch (const std::exception& e) {
        return make_error("journal", std::string("not a host result: ") + e.what());
    }
}

} // namespace bpfleet
