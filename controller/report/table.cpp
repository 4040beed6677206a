#include "report/table.hpp"

#include "common/file.hpp"
#include "logging/terminal_text.hpp"
#include "model/report_diff.hpp"

#include <cerrno>
#include <cstdlib>
#include <initializer_list>

namespace bpfleet::report {
namespace {

// Left-aligned in `w` columns, and never glued to the next column.
std::string pad(std::string s, std::size_t w) {
    s.append(s.size() < w ? w - s.size() : 1, ' ');
    return s;
}

// The expectations' tally, then every unmet and stale one with its rule.
void print_expectations(std::FILE* out, const ExpectationsApplied& e) {
    std::fprintf(out, "expectations (%s): %d met, %d unmet, %d stale\n", e.file.c_str(),
                 e.count(ExpectationOutcome::Met), e.count(ExpectationOutcome::Unmet),
                 e.count(ExpectationOutcome::Stale));
    for (const auto& r : e.results) {
        if (r.outcome == ExpectationOutcome::Met) {
            continue;
        }
        std::string what = r.host + " " + r.artifact;
        if (!r.program.empty()) {
            what += " " + r.object + " " + r.program + (r.stage.empty() ? "" : " " + r.stage);
        }
        std::string expected(to_string(r.expected));
        if (r.expected_code != FailureCode::None) {
            expected += " " + std::string(to_string(r.expected_code));
        }
        std::string actual(to_string(r.actual));
        if (r.actual_code != FailureCode::None) {
            actual += " " + std::string(to_string(r.actual_code));
        }
        std::fprintf(out, "  %s %s: expected %s, got %s (%s%s)\n",
                     std::string(to_string(r.outcome)).c_str(), what.c_str(), expected.c_str(),
                     actual.c_str(), r.rule.c_str(),
                     r.reason.empty() ? "" : (": " + r.reason).c_str());
    }
}

void print_programs(std::FILE* out, const RunReport& report) {
    std::fprintf(out, "%s%s%s%s%s%s%s%s\n", pad("HOST", 14).c_str(), pad("OBJECT", 22).c_str(),
                 pad("PROGRAM", 24).c_str(), pad("LOAD", 6).c_str(), pad("ATTACH", 8).c_str(),
                 pad("FIRED", 7).c_str(), pad("CODE", 26).c_str(), "DETAIL");
    for (const auto& h : report.hosts) {
        if (h.status != HostStatus::Ok) {
            std::fprintf(out, "%s%s %s (%s): %s\n", pad(h.name, 14).c_str(), "host",
                         std::string(to_string(h.status)).c_str(), h.stage.c_str(),
                         h.error.c_str());
            continue;
        }
        for (const auto& c : h.checks) {
            if (c.report.object_error) {
                std::fprintf(out, "%s%s%s\n", pad(h.name, 14).c_str(), pad(c.object, 22).c_str(),
                             c.report.object_error->message.c_str());
            }
            for (const auto& p : c.report.programs) {
                const StageResult* why = &p.load;
                if (p.load.verdict == Verdict::Pass && p.attach &&
                    p.attach->verdict == Verdict::Fail) {
                    why = &*p.attach;
                } else if (p.load.verdict == Verdict::Pass && p.fire &&
                           p.fire->verdict == Verdict::Fail) {
                    why = &*p.fire;
                }
                std::string fired = "-";
                if (p.fire && p.fire->fired) {
                    fired = *p.fire->fired ? "yes" : "no";
                } else if (p.fire) {
                    fired = std::string(to_string(p.fire->verdict));
                }
                std::string detail = why->code == FailureCode::None ? "" : why->evidence;
                if (why->verdict == Verdict::Error) {
                    detail = why->message;
                }
                if (detail.size() > 80) {
                    detail = detail.substr(0, 77) + "...";
                }
                std::fprintf(
                    out, "%s%s%s%s%s%s%s%s\n", pad(h.name, 14).c_str(), pad(c.object, 22).c_str(),
                    pad(p.name, 24).c_str(), pad(std::string(to_string(p.load.verdict)), 6).c_str(),
                    pad(p.attach ? std::string(to_string(p.attach->verdict)) : "-", 8).c_str(),
                    pad(fired, 7).c_str(),
                    pad(why->code == FailureCode::None ? "-" : std::string(to_string(why->code)),
                        26)
                        .c_str(),
                    detail.c_str());
            }
        }
    }
    auto s = report.summary();
    // Pairs of answered hosts that got no verdict (an artifact without an
    // object for the host's architecture): host trouble has its row above.
    for (const auto& m : s.missing) {
        for (const auto& h : report.hosts) {
            if (h.name == m.host && h.status == HostStatus::Ok) {
                std::fprintf(out, "%s%s miss: %s\n", pad(m.host, 14).c_str(), m.artifact.c_str(),
                             m.reason.c_str());
            }
        }
    }
    std::fprintf(out,
                 "\n%d host(s): %d ok, %d without answer; %d program(s): %d pass, %d fail, "
                 "%d skip, %d error; %d miss\n",
                 s.hosts, s.hosts_ok, s.hosts_unanswered, s.programs, s.pass, s.fail, s.skip,
                 s.error, s.miss);
    if (report.expectations) {
        print_expectations(out, *report.expectations);
    }
    if (report.baseline) {
        std::fprintf(out, "against the baseline %s:\n%s", report.baseline->old_file.c_str(),
                     diff_text(*report.baseline).c_str());
    }
}

// A fact as text, "-" when the host did not say (or never answered).
std::string fact_text(const std::optional<std::string>& v) {
    return v ? *v : "-";
}

void print_facts(std::FILE* out, const RunReport& report) {
    std::fprintf(out, "%s%s%s%s%s%s\n", pad("HOST", 14).c_str(), pad("ARCH", 9).c_str(),
                 pad("KERNEL", 26).c_str(), pad("OS", 30).c_str(), pad("BTF", 5).c_str(), "STATUS");
    for (const auto& h : report.hosts) {
        static const HostFacts kNoFacts;
        const HostFacts& f = h.facts ? *h.facts : kNoFacts;
        const std::string btf = h.facts ? (f.btf.vmlinux ? "yes" : "no") : "-";
        std::string status = h.status == HostStatus::Ok ? "ok"
                                                        : std::string(to_string(h.status)) + " (" +
                                                              h.stage + "): " + h.error;
        std::fprintf(
            out, "%s%s%s%s%s%s\n", pad(h.name, 14).c_str(), pad(fact_text(f.arch), 9).c_str(),
            pad(fact_text(f.kernel.release), 26).c_str(),
            pad(fact_text(f.os.pretty_name), 30).c_str(), pad(btf, 5).c_str(), status.c_str());
    }
    auto s = report.summary();
    std::fprintf(out, "\n%d host(s): %d ok, %d without answer\n", s.hosts, s.hosts_ok,
                 s.hosts_unanswered);
}

} // namespace

Result<void> TableWriter::write(const RunReport& report) {
    // The table is made in memory first: nearly every cell comes from a host
    // (errors, object, program and kernel names, verifier evidence), so the
    // whole text is made terminal-safe before any of it is printed.
    char* text = nullptr;
    std::size_t size = 0;
    {
        FilePtr buffer(open_memstream(&text, &size));
        if (!buffer) {
            return make_error("io", "cannot make the table: out of memory", errno);
        }
        if (m_kind == TableKind::Facts) {
            print_facts(buffer.get(), report);
        } else {
            print_programs(buffer.get(), report);
        }
        if (!m_report_path.empty()) {
            std::fprintf(buffer.get(), "report: %s\n", m_report_path.c_str());
        }
    } // text and size are final once the stream is closed
    const std::string safe = logging::terminal_safe_lines(std::string_view(text, size));
    std::free(text); // NOLINT(cppcoreguidelines-owning-memory): open_memstream mallocs it
    std::fwrite(safe.data(), 1, safe.size(), m_out);
    // A closed or full stdout is not an error of the run: report.json holds it all.
    std::fflush(m_out);
    return {};
}

} // namespace bpfleet::report
