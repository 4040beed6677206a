// hosts/NAME/ in the output directory: what one host left for a person to
// read beyond report.json (facts.json, agent-stderr.txt, logs/OBJECT.PROGRAM.log
// with every full verifier log). Written as each host finishes.
#pragma once

#include "model/run_report.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace bpfleet::report {

// Writes `dir` (made if missing). Best effort: a file that cannot be written
// is left out; the report and the journal hold the same results.
void write_host_files(const std::filesystem::path& dir, const HostResult& host,
                      const std::string& agent_stderr);

// A name from a host's answer (an object path, a program name) as one safe
// file name: only [A-Za-z0-9._-] are kept, anything else (and '/') becomes
// '_', never a leading dot (no "..", no hidden files), at most 200 bytes.
std::string file_name_part(std::string_view name);

} // namespace bpfleet::report
