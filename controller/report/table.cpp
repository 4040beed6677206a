#include "report/table.hpp"

#include "common/file.hpp"
#include "logging/color.hpp"
#include "logging/terminal_text.hpp"
#include "model/report_diff.hpp"
#include "report/fleet_table.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <sys/ioctl.h>
#include <unistd.h>

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

// The summary line, then expectations and the baseline diff.
void print_verdicts(std::FILE* out, const RunReport& report) {
    auto s = report.summary();
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
    std::size_t w_host = 12;
    for (const auto& h : report.hosts) {
        w_host = std::max(w_host, display_width(h.name) + 2);
    }
    w_host = std::min<std::size_t>(w_host, 30);
    auto host_cell = [&](const std::string& name) { return pad(fit(name, w_host - 2), w_host); };
    std::fprintf(out, "%s%s%s%s%s%s\n", pad("HOST", w_host).c_str(), pad("ARCH", 9).c_str(),
                 pad("KERNEL", 26).c_str(), pad("OS", 30).c_str(), pad("BTF", 5).c_str(), "STATUS");
    for (const auto& h : report.hosts) {
        static const HostFacts kNoFacts;
        const HostFacts& f = h.facts ? *h.facts : kNoFacts;
        const std::string btf = h.facts ? (f.btf.vmlinux ? "yes" : "no") : "-";
        std::string status = h.status == HostStatus::Ok ? "ok"
                                                        : std::string(to_string(h.status)) + " (" +
                                                              h.stage + "): " + h.error;
        std::fprintf(
            out, "%s%s%s%s%s%s\n", host_cell(h.name).c_str(), pad(fact_text(f.arch), 9).c_str(),
            pad(fact_text(f.kernel.release), 26).c_str(),
            pad(fact_text(f.os.pretty_name), 30).c_str(), pad(btf, 5).c_str(), status.c_str());
    }
    auto s = report.summary();
    std::fprintf(out, "\n%d host(s): %d ok, %d without answer\n", s.hosts, s.hosts_ok,
                 s.hosts_unanswered);
}

} // namespace

std::optional<TableKind> table_kind_from_string(std::string_view word) {
    if (word == "table") {
        return TableKind::Programs;
    }
    if (word == "matrix") {
        return TableKind::Matrix;
    }
    if (word == "json") {
        return TableKind::Json;
    }
    return std::nullopt;
}

std::size_t terminal_width(std::FILE* out) {
    constexpr std::size_t kNarrowest = 40;
    constexpr std::size_t kWidest = 1000;
    if (const char* columns = std::getenv("COLUMNS")) {
        std::size_t n = 0;
        const std::string_view text(columns);
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec == std::errc() && end == text.data() + text.size() && n > 0) {
            return std::clamp(n, kNarrowest, kWidest);
        }
    }
    winsize ws{};
    if (out && ::ioctl(::fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        return std::clamp<std::size_t>(ws.ws_col, kNarrowest, kWidest);
    }
    return kDefaultWidth;
}

std::string table_text(const RunReport& report, TableKind kind, std::size_t width,
                       const std::string& report_path) {
    if (kind == TableKind::Json) {
        return Json(report).dump(2) + "\n";
    }
    // Made in a memory stream: the summary parts print with printf.
    char* text = nullptr;
    std::size_t size = 0;
    {
        FilePtr buffer(open_memstream(&text, &size));
        if (!buffer) {
            return "bpfleet: cannot make the table: out of memory\n";
        }
        if (kind == TableKind::Facts) {
            print_facts(buffer.get(), report);
        } else {
            const std::string rows = kind == TableKind::Matrix ? matrix_text(report, width)
                                                               : fleet_table_text(report, width);
            std::fwrite(rows.data(), 1, rows.size(), buffer.get());
            print_verdicts(buffer.get(), report);
        }
        if (!report_path.empty()) {
            std::fprintf(buffer.get(), "report: %s\n", report_path.c_str());
        }
    } // text and size are final once the stream is closed
    std::string out(text, size);
    std::free(text); // NOLINT(cppcoreguidelines-owning-memory): open_memstream mallocs it
    return out;
}

namespace {

// A verdict word's tone; nullopt for any other word.
std::optional<logging::Tone> verdict_tone(std::string_view word) {
    if (word == "pass" || word == "ok") {
        return logging::Tone::Good;
    }
    if (word == "fail" || word == "FAIL") {
        return logging::Tone::Bad;
    }
    if (word == "error" || word == "ERR" || word == "miss") {
        return logging::Tone::Alarm;
    }
    if (word == "skip" || word == "skipped") {
        return logging::Tone::Notice;
    }
    if (word == "unreachable" || word == "auth_failed" || word == "hostkey_mismatch" ||
        word == "timeout" || word == "agent_error" || word == "unsupported_arch") {
        return logging::Tone::Bad;
    }
    return std::nullopt;
}

bool utf8_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// The display columns where the words of `header` after its first `skip`
// words begin.
std::vector<std::size_t> word_columns(std::string_view header, std::size_t skip) {
    std::vector<std::size_t> out;
    std::size_t column = 0;
    std::size_t words = 0;
    bool in_word = false;
    for (char c : header) {
        if (utf8_continuation(c)) {
            continue;
        }
        if (c != ' ' && !in_word) {
            if (words++ >= skip) {
                out.push_back(column);
            }
        }
        in_word = c != ' ';
        ++column;
    }
    return out;
}

// `line` with the verdict words that start at `columns` painted.
std::string paint_columns(std::string_view line, const std::vector<std::size_t>& columns) {
    std::string out;
    std::size_t column = 0;
    for (std::size_t i = 0; i < line.size();) {
        if (!utf8_continuation(line[i]) &&
            std::find(columns.begin(), columns.end(), column) != columns.end() &&
            (i == 0 || line[i - 1] == ' ')) {
            const std::size_t end = std::min(line.find(' ', i), line.size());
            const std::string_view word = line.substr(i, end - i);
            if (auto tone = verdict_tone(word)) {
                out += logging::paint(word, *tone, true);
                column += end - i; // verdict words are ASCII
                i = end;
                continue;
            }
        }
        if (!utf8_continuation(line[i])) {
            ++column;
        }
        out += line[i++];
    }
    return out;
}

// "N fail" and friends of the summary line in colour when N > 0.
std::string paint_counts(std::string_view line) {
    static const std::pair<std::string_view, logging::Tone> kCounts[] = {
        {" pass", logging::Tone::Good},   {" fail", logging::Tone::Bad},
        {" error", logging::Tone::Alarm}, {" miss", logging::Tone::Alarm},
        {" skip", logging::Tone::Notice}, {" without answer", logging::Tone::Bad}};
    std::string out(line);
    for (const auto& [word, tone] : kCounts) {
        const auto at = out.find(word);
        if (at == std::string::npos || at == 0) {
            continue;
        }
        std::size_t start = at;
        while (start > 0 && std::isdigit(static_cast<unsigned char>(out[start - 1])) != 0) {
            --start;
        }
        const std::string count = out.substr(start, at - start);
        if (count.empty() || (count == "0" && tone != logging::Tone::Good)) {
            continue;
        }
        const std::size_t end = at + word.size();
        out.replace(start, end - start, logging::paint(out.substr(start, end - start), tone, true));
    }
    return out;
}

} // namespace

std::string paint_table(std::string_view text) {
    std::string out;
    std::vector<std::size_t> columns;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        end = end == std::string_view::npos ? text.size() : end;
        const std::string_view line = text.substr(start, end - start);
        if (line.starts_with("OBJECT ")) { // OBJECT PROGRAM | LOAD ATTACH FIRED | CODE HOSTS
            columns = word_columns(line, 2);
            columns.resize(std::min<std::size_t>(columns.size(), 3));
            out += line;
        } else if (line.starts_with("HOST ") && line.find(" KERNEL ") != std::string_view::npos) {
            columns = word_columns(line, 3); // HOST KERNEL ARCH | a mark per program
            out += line;
        } else if (line.empty()) {
            columns.clear();
        } else if (line.find(" program(s): ") != std::string_view::npos ||
                   line.find(" host(s): ") != std::string_view::npos) {
            out += paint_counts(line);
        } else if (!columns.empty()) {
            out += paint_columns(line, columns);
        } else {
            out += line;
        }
        if (end < text.size()) {
            out += '\n';
        }
        start = end + 1;
    }
    return out;
}

Result<void> TableWriter::write(const RunReport& report) {
    const std::size_t width = m_width != 0 ? m_width : terminal_width(m_out);
    const std::string text = table_text(report, m_kind, width, m_report_path);
    // Nearly every cell comes from a host (errors, object, program and kernel
    // names, verifier evidence): the whole text is made terminal-safe before
    // any of it is printed. JSON is safe already (its strings are escaped).
    std::string safe = m_kind == TableKind::Json ? text : logging::terminal_safe_lines(text);
    // Colour goes on after: these escapes are ours (logging/color.hpp).
    if (m_kind != TableKind::Json && logging::color_enabled(m_out)) {
        safe = paint_table(safe);
    }
    std::fwrite(safe.data(), 1, safe.size(), m_out);
    // A closed or full stdout is not an error of the run: report.json holds it all.
    std::fflush(m_out);
    return {};
}

} // namespace bpfleet::report
