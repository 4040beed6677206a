#include "report/host_files.hpp"

#include <fstream>
#include <system_error>

namespace bpfleet::report {

namespace fs = std::filesystem;

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

void write_host_files(const fs::path& dir, const HostResult& host,
                      const std::string& agent_stderr) {
    std::error_code ec;
    fs::create_directories(dir / "logs", ec);
    std::ofstream(dir / "facts.json") << host.facts.dump(2) << "\n";
    std::ofstream(dir / "agent-stderr.txt") << agent_stderr;
    for (const auto& c : host.checks) {
        for (const auto& p : c.report.programs) {
            if (p.load.log && !p.load.log->text.empty()) {
                std::ofstream(dir / "logs" /
                              (file_name_part(c.object) + "." + file_name_part(p.name) + ".log"))
                    << p.load.log->text;
            }
        }
    }
}

} // namespace bpfleet::report
