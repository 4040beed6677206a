// What a run tells a person while it goes, on stderr. On a terminal: one live
// status line (hosts done/running/failed, the slowest running host and its
// stage, an ETA) redrawn in place, with host failures printed above it.
// Otherwise: one line per host event, so CI logs read top to bottom.
// -q prints nothing; -v adds each host's stages and retries (-vv too). While
// the live line is drawn it is the log's LiveLine: log lines go above it.
//
// Called only from the event loop's thread.
#pragma once

#include "logging/log.hpp"
#include "model/run_report.hpp"

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>

namespace bpfleet::fleet {

using Verbosity = logging::Verbosity;

class Progress final : public logging::LiveLine {
public:
    Progress(std::size_t total, Verbosity verbosity, bool live, std::FILE* out = stderr);
    ~Progress() override;

    void started(const std::string& host);
    void stage(const std::string& host, std::string_view stage);
    void note(const std::string& host, const std::string& text);
    void finished(const HostResult& result, bool cancelled);
    // A message for the whole run (a signal, ...).
    void message(const std::string& text);
    // Redraws the live line (a timer calls it a few times a second).
    void render();
    // Clears the live line for good.
    void close();

    [[nodiscard]] bool live() const { return m_live; }

    void clear_line() override { clear_live(); }
    void redraw_line() override { render(); }

private:
    struct Running {
        std::chrono::steady_clock::time_point since;
        std::string stage;
    };
    void line(const std::string& text);
    void clear_live();

    std::size_t m_total;
    Verbosity m_verbosity;
    bool m_live;
    std::FILE* m_out;
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
    std::map<std::string, Running> m_running;
    std::size_t m_done = 0;
    std::size_t m_ok = 0;
    std::size_t m_failed = 0;
    bool m_drawn = false;
};

// "ok, 3 programs: 3 pass" / "unreachable (connect): ..." for one host.
std::string host_summary(const HostResult& result);

} // namespace bpfleet::fleet
