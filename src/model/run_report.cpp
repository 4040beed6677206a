#include "model/run_report.hpp"

#include <array>
#include <stdexcept>
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

RunSummary RunReport::summary() const {
    RunSummary s;
    for (const auto& h : hosts) {
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
    return s;
}

int RunReport::exit_status() const {
    if (cancelled == "SIGINT") {
        return 130;
    }
    if (cancelled == "SIGTERM") {
        return 143;
    }
    auto s = summary();
    if (s.fail > 0 || s.error > 0) {
        return 1;
    }
    if (s.hosts_unanswered > 0) {
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
             {"duration_ms", v.duration_ms}};
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
}

void to_json(Json& j, const RunReport& v) {
    auto s = v.summary();
    j = Json{{"schema", kRunSchema},
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
                              {"error", s.error}}},
             {"exit_status", v.exit_status()}};
}

Result<HostResult> parse_host_result(std::string_view line) {
    try {
        return Json::parse(line).get<HostResult>();
    } catch (const std::exception& e) {
        return make_error("journal", std::string("not a host result: ") + e.what());
    }
}

} // namespace bpfleet
