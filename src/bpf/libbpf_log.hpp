// Captures libbpf's diagnostic messages while a LibbpfLogCapture is alive.
//
// libbpf has one process-wide print callback, so at most one capture may be
// active at a time (the agent is single-threaded; nesting is a bug and
// throws). Messages are split into lines and bounded in count and size.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::bpf {

class LibbpfLogCapture {
public:
    explicit LibbpfLogCapture(std::size_t max_lines = 256, std::size_t max_bytes = 64 << 10);
    ~LibbpfLogCapture();
    LibbpfLogCapture(const LibbpfLogCapture&) = delete;
    LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;

    // Lines captured since construction or the last take(), debug-level ones excluded.
    std::vector<std::string> take();

    // Also echo every message (debug included) to stderr; for `--verbose`.
    static void set_echo(bool echo);

    // Also hand every message (debug included) to `sink` as libbpf prints it
    // (a piece of a line, or several lines): the controller routes them into
    // its own log. nullptr stops that; set_echo(true) is a sink to stderr.
    using Sink = void (*)(std::string_view text);
    static void set_sink(Sink sink);
};

// libbpf 1.1 prints errors it has no text for (errno 524, the kernel's
// internal ENOTSUPP, which leaks out of bpf(2)) as "ERROR: strerror_r(-524)=22";
// this names them instead ("ENOTSUPP"). Other lines are returned unchanged.
std::string readable_libbpf_line(std::string_view line);

} // namespace bpfleet::bpf
