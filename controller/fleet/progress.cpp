#include "fleet/progress.hpp"

#include "logging/terminal_text.hpp"

namespace bpfleet::fleet {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

std::string host_summary(const HostResult& r) {
    char took[32];
    std::snprintf(took, sizeof took, " (%.2f s)", r.duration_ms / 1000.0);
    if (r.status != HostStatus::Ok) {
        return std::string(to_string(r.status)) + " (" + r.stage + "): " + r.error + took;
    }
    int programs = 0;
    int pass = 0;
    int fail = 0;
    for (const auto& c : r.checks) {
        for (const auto& p : c.report.programs) {
            ++programs;
            Verdict v = p.overall();
            pass += v == Verdict::Pass;
            fail += v == Verdict::Fail || v == Verdict::Error;
        }
    }
    std::string text =
        "ok, " + std::to_string(programs) + " program(s): " + std::to_string(pass) + " pass";
    if (fail > 0) {
        text += ", " + std::to_string(fail) + " fail";
    }
    if (r.attempts > 1) {
        text += ", after " + std::to_string(r.attempts) + " attempts";
    }
    return text + took;
}

Progress::Progress(std::size_t total, Verbosity verbosity, bool live, std::FILE* out)
    : m_total(total), m_verbosity(verbosity), m_live(live && verbosity != Verbosity::Quiet),
      m_out(out) {
    if (m_live) {
        logging::set_live_line(this);
    }
}

Progress::~Progress() {
    close();
}

void Progress::clear_live() {
    if (m_drawn) {
        std::fputs("\r\x1b[2K", m_out);
        m_drawn = false;
    }
}

void Progress::line(const std::string& text) {
    clear_live();
    // The line carries text from hosts (errors, agent stderr).
    std::fprintf(m_out, "bpfleet: %s\n", logging::terminal_safe(text).c_str());
    if (m_live) {
        render();
    }
    std::fflush(m_out);
}

void Progress::started(const std::string& host) {
    m_running[host] = Running{std::chrono::steady_clock::now(), "connect"};
    if (m_verbosity >= Verbosity::Verbose) {
        line(host + ": started");
    }
}

void Progress::stage(const std::string& host, std::string_view stage) {
    if (auto it = m_running.find(host); it != m_running.end()) {
        it->second.stage = std::string(stage);
    }
    if (m_verbosity >= Verbosity::Verbose) {
        line(host + ": " + std::string(stage));
    }
}

void Progress::note(const std::string& host, const std::string& text) {
    if (m_verbosity != Verbosity::Quiet) {
        line(host + ": " + text);
    }
}

void Progress::message(const std::string& text) {
    if (m_verbosity != Verbosity::Quiet) {
        line(text);
    }
}

void Progress::finished(const HostResult& result, bool cancelled) {
    m_running.erase(result.name);
    ++m_done;
    if (result.status == HostStatus::Ok && !result.has_program_failures()) {
        ++m_ok;
    } else if (!cancelled) {
        ++m_failed;
    }
    if (m_verbosity == Verbosity::Quiet) {
        return;
    }
    // A terminal shows failures above the live line; a log gets every host.
    if (!m_live || result.status != HostStatus::Ok || m_verbosity >= Verbosity::Verbose) {
        line(result.name + ": " + host_summary(result));
    } else {
        render();
    }
}

void Progress::render() {
    if (!m_live) {
        return;
    }
    const double elapsed = seconds_since(m_start);
    std::string slowest;
    double slowest_s = -1;
    for (const auto& [name, r] : m_running) {
        double s = seconds_since(r.since);
        if (s > slowest_s) {
            slowest_s = s;
            slowest = name + " " + std::to_string(static_cast<int>(s * 10) / 10) + "." +
                      std::to_string(static_cast<int>(s * 10) % 10) + " s (" + r.stage + ")";
        }
    }
    char buf[512];
    int n = std::snprintf(buf, sizeof buf, "[%zu/%zu] %zu ok, %zu failed, %zu running", m_done,
                          m_total, m_ok, m_failed, m_running.size());
    std::string text(buf, static_cast<std::size_t>(n > 0 ? n : 0));
    if (!slowest.empty()) {
        text += "; slowest " + slowest;
    }
    if (m_done > 0 && m_done < m_total) {
        double eta = elapsed / static_cast<double>(m_done) * static_cast<double>(m_total - m_done);
        std::snprintf(buf, sizeof buf, "; ETA %.0f s", eta);
        text += buf;
    }
    std::fprintf(m_out, "\r\x1b[2K%s", logging::terminal_safe(text.substr(0, 200)).c_str());
    std::fflush(m_out);
    m_drawn = true;
}

void Progress::close() {
    if (m_live) {
        logging::set_live_line(nullptr);
        m_live = false;
    }
    clear_live();
    std::fflush(m_out);
}

} // namespace bpfleet::fleet
