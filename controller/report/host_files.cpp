#include "report/host_files.hpp"

#include <filesystem>
#include <optional>
#include <utility>

namespace bpfleet::report {

std::string file_name_part(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (char ch : name) {
        const bool safe = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                          (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        out += safe ? ch : '_';
    }
    if (out.empty() || out.front() == '.') {
        out.insert(out.begin(), '_');
    }
    return out.substr(0, 200);
}

std::vector<Error> write_host_files(const OutputDir& hosts, const HostResult& host,
                                    const std::string& agent_stderr) {
    std::vector<Error> errors;
    auto note = [&](Result<void> written) {
        if (!written) {
            errors.push_back(std::move(written.error()));
        }
    };
    auto dir = hosts.subdir(file_name_part(host.name));
    if (!dir) {
        errors.push_back(std::move(dir.error()));
        return errors;
    }
    note(dir->write_file("facts.json",
                         (host.facts ? Json(*host.facts) : Json::object()).dump(2) + "\n"));
    note(dir->write_file("agent-stderr.txt", agent_stderr));
    std::optional<OutputDir> logs;
    std::size_t written = 0;
    std::size_t left_out = 0;
    for (const auto& c : host.checks) {
        for (const auto& p : c.report.programs) {
            if (!p.load.log || p.load.log->text.empty()) {
                continue;
            }
            if (written == kMaxLogFiles) {
                ++left_out;
                continue;
            }
            ++written;
            if (!logs) {
                auto made = dir->subdir("logs");
                if (!made) {
                    errors.push_back(std::move(made.error()));
                    return errors;
                }
                logs = std::move(*made);
            }
            const std::string name =
                std::filesystem::path(log_file_path(host.name, c.object, p.name))
                    .filename()
                    .string();
            note(logs->write_file(name, p.load.log->text));
        }
    }
    if (left_out > 0) {
        errors.push_back(Error{"io", 0,
                               std::to_string(left_out) + " more verifier log(s) not written: at " +
                                   "most " + std::to_string(kMaxLogFiles) +
                                   " log files per host (every log is in report.json)",
                               (dir->path() / "logs").string()});
    }
    return errors;
}

std::string log_file_path(const std::string& host, const std::string& object,
                          const std::string& program) {
    return "hosts/" + file_name_part(host) + "/logs/" + file_name_part(object) + "." +
           file_name_part(program) + ".log";
}

} // namespace bpfleet::report
