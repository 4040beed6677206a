#include "report/markdown_writer.hpp"

#include "model/report_diff.hpp"
#include "report/text_escape.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <tuple>
#include <vector>

namespace bpfleet::report {
namespace {

// Text from a host or a file inside a table cell: no line breaks, no cell
// separators, no HTML, no code spans or emphasis that would run on.
constexpr EscapeTable kMarkdownCell = EscapeTable()
                                          .replace_controls("")
                                          .replace('|', "\\|")
                                          .replace('<', "&lt;")
                                          .replace('>', "&gt;")
                                          .replace('&', "&amp;")
                                          .replace('`', "\\`")
                                          .replace('*', "\\*")
                                          .replace('_', "\\_")
                                          .replace('[', "\\[")
                                          .replace(']', "\\]")
                                          .replace('\\', "\\\\")
                                          .replace('\n', " ")
                                          .replace('\r', " ")
                                          .replace('\t', " ");

std::string md(std::string_view s) {
    return escape(s, kMarkdownCell);
}

std::string mark(Verdict v) {
    switch (v) {
    case Verdict::Pass:
        return "✅";
    case Verdict::Fail:
        return "❌";
    case Verdict::Skip:
        return "⏭️";
    case Verdict::Error:
        return "⚠️";
    case Verdict::Miss:
        return "❔";
    }
    return "❔";
}

std::string mark_with_code(Verdict v, FailureCode c) {
    std::string out = mark(v);
    if (c != FailureCode::None) {
        out += " " + std::string(to_string(c));
    } else if (v == Verdict::Miss) {
        out += " miss";
    }
    return out;
}

const char* kNoAnswer = "(no answer)";

struct Cell {
    Verdict verdict = Verdict::Miss;
    FailureCode code = FailureCode::None;
    bool operator<(const Cell& o) const {
        return std::tie(verdict, code) < std::tie(o.verdict, o.code);
    }
};

using Row = std::tuple<std::string, std::string, std::string>; // artifact, object, program

std::string kernel_of(const HostResult& h) {
    if (h.status != HostStatus::Ok || !h.facts || !h.facts->kernel.release) {
        return h.status == HostStatus::Ok ? "(unknown kernel)" : kNoAnswer;
    }
    return *h.facts->kernel.release;
}

std::string join_names(const std::vector<std::string>& names, std::size_t at_most = 8) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < at_most; ++i) {
        out += (i == 0 ? "" : ", ") + md(names[i]);
    }
    if (names.size() > at_most) {
        out += ", … (" + std::to_string(names.size() - at_most) + " more)";
    }
    return out;
}

void matrix(std::string& out, const RunReport& report) {
    // columns: kernel releases, in order; hosts without an answer last
    std::map<std::string, std::vector<const HostResult*>> groups;
    for (const auto& h : report.hosts) {
        groups[kernel_of(h)].push_back(&h);
    }
    std::vector<std::string> columns;
    for (const auto& [kernel, hosts] : groups) {
        if (kernel != kNoAnswer) {
            columns.push_back(kernel);
        }
    }
    if (groups.count(kNoAnswer) != 0) {
        columns.emplace_back(kNoAnswer);
    }
    // rows: every program any host reported, per artifact and object
    std::map<Row, std::map<std::string, Cell>> cells; // row -> host -> cell
    std::set<std::pair<std::string, std::string>> checked;
    for (const auto& h : report.hosts) {
        for (const auto& c : h.checks) {
            checked.emplace(h.name, c.artifact);
            for (const auto& p : c.report.programs) {
                cells[{c.artifact, c.object, p.name}][h.name] = {p.overall(), p.overall_code()};
            }
        }
    }
    if (cells.empty()) {
        out += "No program was checked.\n\n";
        return;
    }
    out += "| artifact · object · program |";
    std::string rule = "|---|";
    for (const auto& k : columns) {
        out += " " + md(k) + " (" + std::to_string(groups[k].size()) + ") |";
        rule += "---|";
    }
    out += "\n" + rule + "\n";
    for (const auto& [row, by_host] : cells) {
        const auto& [artifact, object, program] = row;
        out += "| " + md(artifact) + " · " + md(object) + " · **" + md(program) + "** |";
        for (const auto& k : columns) {
            std::map<Cell, std::vector<std::string>> by_cell;
            for (const HostResult* h : groups[k]) {
                auto it = by_host.find(h->name);
                // a host without this program: it answered without it, or had no verdict
                by_cell[it == by_host.end() ? Cell{} : it->second].push_back(h->name);
            }
            std::string text;
            if (by_cell.size() == 1) {
                text = mark_with_code(by_cell.begin()->first.verdict, by_cell.begin()->first.code);
            } else {
                // the most common result first, then the others with their hosts
                const auto most = std::max_element(
                    by_cell.begin(), by_cell.end(),
                    [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
                text = mark_with_code(most->first.verdict, most->first.code) + " " +
                       std::to_string(most->second.size());
                for (const auto& [cell, names] : by_cell) {
                    if (&cell != &most->first) {
                        text += "<br>" + mark_with_code(cell.verdict, cell.code) + ": " +
                                join_names(names, 3);
                    }
                }
            }
            out += " " + text + " |";
        }
        out += "\n";
    }
    out += "\n<details><summary>Hosts per kernel</summary>\n\n";
    for (const auto& k : columns) {
        std::vector<std::string> names;
        for (const HostResult* h : groups[k]) {
            names.push_back(h->name);
        }
        out += "- " + md(k) + ": " + join_names(names, 1000) + "\n";
    }
    out += "\n</details>\n\n";
}

void unanswered(std::string& out, const RunReport& report) {
    std::string rows;
    for (const auto& h : report.hosts) {
        if (h.status != HostStatus::Ok) {
            rows += "| " + md(h.name) + " | " + std::string(to_string(h.status)) + " | " +
                    md(h.stage) + " | " + md(h.error) + " |\n";
        }
    }
    if (!rows.empty()) {
        out += "### Hosts without an answer\n\n| host | status | stage | error "
               "|\n|---|---|---|---|\n" +
               rows + "\n";
    }
}

void missing(std::string& out, const RunSummary& s) {
    if (s.missing.empty()) {
        return;
    }
    out += "### Pairs without a verdict (miss)\n\n| host | artifact | why |\n|---|---|---|\n";
    for (const auto& m : s.missing) {
        out += "| " + md(m.host) + " | " + md(m.artifact) + " | " + md(m.reason) + " |\n";
    }
    out += "\n";
}

void fixups(std::string& out, const RunReport& report) {
    // the same fixup on many hosts is one row
    std::map<
        std::tuple<std::string, std::string, std::string, std::string, std::string, std::string>,
        std::vector<std::string>>
        rows;
    for (const auto& h : report.hosts) {
        for (const auto& c : h.checks) {
            for (const auto& f : c.report.fixups) {
                rows[{c.object, f.kind, f.target, f.from + " → " + f.to, f.source, f.reason}]
                    .push_back(h.name);
            }
        }
    }
    if (rows.empty()) {
        return;
    }
    out += "### Fixups applied\n\n| object | fixup | target | change | source | why | hosts |\n"
           "|---|---|---|---|---|---|---|\n";
    for (const auto& [key, hosts] : rows) {
        const auto& [object, kind, target, change, source, reason] = key;
        out += "| " + md(object) + " | " + md(kind) + " | " + md(target) + " | " + md(change) +
               " | " + md(source) + " | " + md(reason) + " | " + join_names(hosts) + " |\n";
    }
    out += "\n";
}

void expectations(std::string& out, const RunReport& report) {
    if (!report.expectations) {
        return;
    }
    const auto& e = *report.expectations;
    out += "### Expectations (" + md(e.file) + ")\n\n" +
           std::to_string(e.count(ExpectationOutcome::Met)) + " met, " +
           std::to_string(e.count(ExpectationOutcome::Unmet)) + " unmet, " +
           std::to_string(e.count(ExpectationOutcome::Stale)) + " stale.\n\n";
    std::string rows;
    for (const auto& r : e.results) {
        if (r.outcome == ExpectationOutcome::Met) {
            continue;
        }
        rows += "| " + std::string(to_string(r.outcome)) + " | " + md(r.host) + " | " +
                md(r.program.empty() ? r.artifact : r.object + " · " + r.program) + " | " +
                mark_with_code(r.expected, r.expected_code) + " | " +
                mark_with_code(r.actual, r.actual_code) + " | " + md(r.rule) + " " + md(r.reason) +
                " |\n";
    }
    if (!rows.empty()) {
        out += "| outcome | host | program | expected | got | rule |\n|---|---|---|---|---|---|\n" +
               rows + "\n";
    }
}

void baseline(std::string& out, const RunReport& report) {
    if (!report.baseline) {
        return;
    }
    const ReportDiff& d = *report.baseline;
    out += "### Against the baseline (" + md(d.old_file) + ")\n\n" +
           std::to_string(d.regressions.size()) + " regression(s), " +
           std::to_string(d.improvements.size()) + " improvement(s), " +
           std::to_string(d.code_changes.size()) + " code change(s), " +
           std::to_string(d.new_hosts.size()) + " new and " +
           std::to_string(d.vanished_hosts.size()) + " vanished host(s).\n\n";
    auto list = [&](const char* title, const std::vector<ProgramChange>& changes) {
        if (changes.empty()) {
            return;
        }
        out += "**" + std::string(title) + "**\n\n";
        for (const auto& c : changes) {
            out += "- " + md(c.host) + " · " + md(c.object) + " · " + md(c.program) + ": " +
                   mark_with_code(c.old_verdict, c.old_code) + " → " +
                   mark_with_code(c.new_verdict, c.new_code) + "\n";
        }
        out += "\n";
    };
    list("Regressions", d.regressions);
    list("Improvements", d.improvements);
    list("Code changes", d.code_changes);
}

} // namespace

std::string summary_markdown(const RunReport& report) {
    const RunSummary s = report.summary();
    const int status = report.exit_status();
    std::string out = "## bpfleet: ";
    out += status == 0 ? "✅ passed" : (status == 1 ? "❌ failed" : "❔ incomplete");
    out += " (exit " + std::to_string(status) + ")\n\n";
    out += std::to_string(s.hosts) + " host(s): " + std::to_string(s.hosts_ok) + " ok, " +
           std::to_string(s.hosts_unanswered) + " without answer · " + std::to_string(s.programs) +
           " program(s): " + std::to_string(s.pass) + " pass, " + std::to_string(s.fail) +
           " fail, " + std::to_string(s.skip) + " skip, " + std::to_string(s.error) + " error · " +
           std::to_string(s.miss) + " miss\n\n";
    if (!report.run.identity.id.empty()) {
        out += "Run `" + md(report.run.identity.id) + "`, " + md(report.started) + " → " +
               md(report.finished) + ", bpfleet " + md(report.run.bpfleet_version);
        if (!report.run.shard.empty()) {
            out += ", shard " + md(report.run.shard);
        }
        out += ".\n\n";
    }
    if (!report.cancelled.empty()) {
        out += "**Cancelled by " + md(report.cancelled) + "**: the hosts it never heard are " +
               "listed below.\n\n";
    }
    out += "### Programs × kernels\n\n";
    matrix(out, report);
    unanswered(out, report);
    missing(out, s);
    fixups(out, report);
    expectations(out, report);
    baseline(out, report);
    return out;
}

} // namespace bpfleet::report
