// Reading the small text files of /proc and /sys that the probe takes its
// facts from, with open/read (no iostreams: the static agent must stay small).
// A file that cannot be read is noted with its errno in an Unreadable list,
// which becomes the probe document's "unreadable". Single-threaded.
#pragma once

#include "model/host_facts.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::agent {

inline constexpr std::size_t kMaxFactFile = 256 << 10;

// Paths that could not be read, with the errno name, in the order tried.
class Unreadable {
public:
    void note(const std::string& path, int errnum);
    NamedList<std::string> take() { return std::move(m_paths); }

private:
    NamedList<std::string> m_paths;
};

// The file's first `max` bytes; nullopt (and a note, when `unreadable` is
// given) when it cannot be opened or read.
std::optional<std::string> read_file(const std::string& path, Unreadable* unreadable,
                                     std::size_t max = kMaxFactFile);

// Without leading and trailing whitespace; a trailing NUL (device-tree
// strings) counts as whitespace.
std::string trim(std::string s);
// The non-empty parts of `text` between `sep`.
std::vector<std::string> split(std::string_view text, char sep);
bool path_exists(const char* path);

// The dynamic PMU type number for perf_event_open ("kprobe", "uprobe"), or -errno.
int pmu_type(const char* name);

} // namespace bpfleet::agent
