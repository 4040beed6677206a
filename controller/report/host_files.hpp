// hosts/NAME/ in the output directory: what one host left for a person to
// read beyond report.json (facts.json, agent-stderr.txt, logs/OBJECT.PROGRAM.log
// with every full verifier log). Written as each host finishes.
#pragma once

#include "model/run_report.hpp"
#include "report/output_dir.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::report {

// Writes hosts/NAME/ below `hosts` (made if missing; NAME is the host's name
// made safe by file_name_part). Every file is written even when another one
// fails; the errors, one per file that could not be written (a full disk, a
// planted link), are returned for the operator. The report and the journal
// hold the same results.
// At most this many logs/ files per host: a host answering with 40,000
// failing programs must not make 40,000 files. The rest are named in one
// error; report.json has every log.
inline constexpr std::size_t kMaxLogFiles = 1000;

std::vector<Error> write_host_files(const OutputDir& hosts, const HostResult& host,
                                    const std::string& agent_stderr);

// Where write_host_files() puts a program's verifier log, relative to the
// output directory ("hosts/rpi4-01/logs/probe.bpf.o.handle_exec.log"): the
// writers point at it.
std::string log_file_path(const std::string& host, const std::string& object,
                          const std::string& program);

// A name from a host's answer (an object path, a program name) as one safe
// file name: only [A-Za-z0-9._-] are kept, anything else (and '/') becomes
// '_', never a leading dot (no "..", no hidden files), at most 200 bytes.
std::string file_name_part(std::string_view name);

} // namespace bpfleet::report
