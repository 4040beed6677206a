// Pieces of bpfleet-agent shared between its commands. The agent speaks JSON
// on stdout and logs to stderr; it is single-threaded.
#pragma once

#include "bpf/object.hpp"
#include "common/result.hpp"
#include "model/check_result.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::agent {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailures = 1;
inline constexpr int kExitUsage = 2;

AgentInfo agent_info();
KernelInfo kernel_info();
std::string build_id();

// Reads an object from PATH, or stdin for "-", refusing more than max_size bytes.
Result<ObjectBytes> read_object(const std::string& path, std::uint64_t max_size);

// Opens the object with libbpf in a child process first, so that a parser
// crash or hang on hostile input becomes an OBJECT_INVALID error here.
Result<void> parse_in_child(const ObjectBytes& bytes, const std::string& name,
                            unsigned timeout_seconds);

// Human-readable per-program table of a check report.
std::string render_table(const CheckReport& report);

void write_stdout(std::string_view text);
void log_error(std::string_view text);

int run_check(std::span<char*> args);
int run_serve(std::span<char*> args);

} // namespace bpfleet::agent
