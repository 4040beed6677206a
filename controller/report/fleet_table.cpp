#include "report/fleet_table.hpp"

#include "report/host_files.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <vector>

namespace bpfleet::report {
namespace {

constexpr std::size_t kGap = 2;            // spaces between two columns
constexpr std::size_t kMinHostsWidth = 18; // the HOSTS column never gets less
constexpr std::size_t kMinNameWidth = 8;   // OBJECT and PROGRAM shrink to this, no further
constexpr std::string_view kEllipsis = "…";

// `text` cut or padded to exactly `width` columns, then the gap.
std::string cell(std::string_view text, std::size_t width) {
    std::string out = fit(text, width);
    out.append(width - display_width(out) + kGap, ' ');
    return out;
}

std::size_t widest(std::size_t at_least, std::size_t at_most,
                   const std::vector<std::string>& texts) {
    std::size_t w = at_least;
    for (const auto& t : texts) {
        w = std::max(w, display_width(t));
    }
    return std::min(w, at_most);
}

// A program's row key: the same program of the same object of the same
// artifact on every host. `program` is "" for an object that could not be opened.
using ProgramKey = std::tuple<std::string, std::string, std::string>;

// The hosts that gave one program the same result, and how it looked.
struct Group {
    std::vector<std::string> cells; // LOAD ATTACH FIRED CODE
    bool failing = false;
    std::string detail; // evidence or error message
    std::string hint;
    std::string log; // the first host's verifier log file, "" when none
    std::vector<std::string> hosts;
};

struct ProgramRow {
    ProgramKey key;
    std::vector<Group> groups;
};

// The stage that explains a program's result: the first that did not pass.
const StageResult& deciding_stage(const ProgramResult& p) {
    if (p.load.verdict == Verdict::Pass && p.attach && p.attach->verdict != Verdict::Pass &&
        p.attach->verdict != Verdict::Skip) {
        return *p.attach;
    }
    if (p.load.verdict == Verdict::Pass && p.fire && p.fire->verdict == Verdict::Fail) {
        return *p.fire;
    }
    return p.load;
}

Group group_of(const HostResult& h, const ObjectCheck& c, const ProgramResult& p) {
    const StageResult& why = deciding_stage(p);
    std::string fired = "-";
    if (p.fire && p.fire->fired) {
        fired = *p.fire->fired ? "yes" : "no";
    } else if (p.fire) {
        fired = std::string(to_string(p.fire->verdict));
    }
    Group g;
    g.cells = {std::string(to_string(p.load.verdict)),
               p.attach ? std::string(to_string(p.attach->verdict)) : "-", fired,
               why.code == FailureCode::None ? "-" : std::string(to_string(why.code))};
    const Verdict overall = p.overall();
    g.failing = overall == Verdict::Fail || overall == Verdict::Error;
    if (g.failing) {
        g.detail =
            why.verdict == Verdict::Error || why.evidence.empty() ? why.message : why.evidence;
        g.hint = why.hint;
        if (p.load.log && !p.load.log->text.empty()) {
            g.log = log_file_path(h.name, c.object, p.name);
        }
    }
    return g;
}

Group object_error_group(const ObjectCheck& c) {
    Group g;
    g.cells = {"error", "-", "-", std::string(to_string(c.report.object_error->code))};
    g.failing = true;
    g.detail = c.report.object_error->message;
    return g;
}

// Adds host `h`'s result to the group of `row` with the same cells, or a new group.
void add_result(ProgramRow& row, const HostResult& h, Group g) {
    for (auto& existing : row.groups) {
        if (existing.cells == g.cells) {
            existing.hosts.push_back(h.name);
            return;
        }
    }
    g.hosts.push_back(h.name);
    row.groups.push_back(std::move(g));
}

std::vector<ProgramRow> program_rows(const RunReport& report) {
    std::vector<ProgramRow> rows;
    std::map<ProgramKey, std::size_t> index;
    auto row_of = [&](ProgramKey key) -> ProgramRow& {
        auto [it, added] = index.emplace(key, rows.size());
        if (added) {
            rows.push_back({std::move(key), {}});
        }
        return rows[it->second];
    };
    for (const auto& h : report.hosts) {
        for (const auto& c : h.checks) {
            if (c.report.object_error) {
                add_result(row_of({c.artifact, c.object, ""}), h, object_error_group(c));
            }
            for (const auto& p : c.report.programs) {
                add_result(row_of({c.artifact, c.object, p.name}), h, group_of(h, c, p));
            }
        }
    }
    return rows;
}

// "3/50" padded to the width of "50/50", two spaces, then as many of the
// names as fit in `width` columns in all ("a, b, … +12"); "all" when every
// host of the run is there, "all but 3" when most are and their names do not fit.
std::string hosts_cell(const std::vector<std::string>& hosts, std::size_t total,
                       std::size_t width) {
    const std::string total_text = std::to_string(total);
    std::string count = std::to_string(hosts.size()) + "/" + total_text;
    count.insert(0, 2 * total_text.size() + 1 - count.size(), ' ');
    std::string out = count + "  ";
    if (hosts.size() == total) {
        return out + "all";
    }
    const std::size_t room = width > display_width(out) ? width - display_width(out) : 0;
    std::string names;
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        const std::string next = (i == 0 ? "" : ", ") + hosts[i];
        const std::size_t rest = hosts.size() - i - 1;
        // What must still fit after this name when more are left out: ", … +N".
        const std::size_t tail = rest == 0 ? 0 : 4 + std::to_string(rest).size() + 1;
        if (display_width(names) + display_width(next) + tail > room) {
            if (i == 0) {
                // Not even one whole name: the first one cut, then the count of the rest.
                const std::string more = rest == 0 ? "" : ", … +" + std::to_string(rest);
                const std::size_t left =
                    room > display_width(more) ? room - display_width(more) : 1;
                return out + fit(hosts[0], left) + more;
            }
            if (hosts.size() * 2 > total) {
                // Most hosts: the few others are easier to read (on the
                // program's other rows, or among the hosts without an answer).
                return fit(out + "all but " + std::to_string(total - hosts.size()), width);
            }
            return out + names + ", … +" + std::to_string(hosts.size() - i);
        }
        names += next;
    }
    return out + names;
}

// The lines under a failing row: evidence (cut to the width), hint and log (whole).
void print_details(std::string& out, const Group& g, std::size_t width) {
    const std::string indent = "    ";
    if (!g.detail.empty()) {
        out += indent + fit(g.detail, width > indent.size() ? width - indent.size() : 1) + "\n";
    }
    if (!g.hint.empty()) {
        out += indent + "hint: " + g.hint + "\n";
    }
    if (!g.log.empty()) {
        out += indent + "log: " + g.log;
        if (g.hosts.size() > 1) {
            out += " (and the same file under hosts/ for the other " +
                   std::to_string(g.hosts.size() - 1) + ")";
        }
        out += "\n";
    }
}

void print_program_rows(std::string& out, const std::vector<ProgramRow>& rows, std::size_t total,
                        std::size_t width) {
    std::vector<std::string> objects;
    std::vector<std::string> programs;
    std::vector<std::string> codes;
    for (const auto& r : rows) {
        objects.push_back(std::get<1>(r.key));
        programs.push_back(std::get<2>(r.key).empty() ? "-" : std::get<2>(r.key));
        for (const auto& g : r.groups) {
            codes.push_back(g.cells[3]);
        }
    }
    std::size_t w_object = widest(6, 24, objects);
    std::size_t w_program = widest(7, 28, programs);
    const std::size_t w_code = widest(4, 40, codes);
    constexpr std::size_t kLoad = 5;
    constexpr std::size_t kAttach = 6;
    constexpr std::size_t kFired = 5;
    auto fixed = [&] {
        return w_object + w_program + kLoad + kAttach + kFired + w_code + 6 * kGap;
    };
    // The names give way first, so that the hosts keep some room (no more
    // than their longest list needs).
    std::size_t hosts_need = 0;
    for (const auto& r : rows) {
        for (const auto& g : r.groups) {
            hosts_need = std::max(hosts_need, display_width(hosts_cell(g.hosts, total, width)));
        }
    }
    const std::size_t min_hosts = std::min(hosts_need, kMinHostsWidth);
    while (fixed() + min_hosts > width && (w_program > kMinNameWidth || w_object > kMinNameWidth)) {
        if (w_program >= w_object && w_program > kMinNameWidth) {
            --w_program;
        } else {
            --w_object;
        }
    }
    const std::size_t w_hosts = std::max(min_hosts, width > fixed() ? width - fixed() : 0);
    std::string header = cell("OBJECT", w_object) + cell("PROGRAM", w_program) +
                         cell("LOAD", kLoad) + cell("ATTACH", kAttach) + cell("FIRED", kFired) +
                         cell("CODE", w_code) + "HOSTS";
    out += header + "\n";
    for (const auto& r : rows) {
        for (const auto& g : r.groups) {
            const std::string& program = std::get<2>(r.key);
            out += cell(std::get<1>(r.key), w_object) +
                   cell(program.empty() ? "-" : program, w_program) + cell(g.cells[0], kLoad) +
                   cell(g.cells[1], kAttach) + cell(g.cells[2], kFired) + cell(g.cells[3], w_code) +
                   hosts_cell(g.hosts, total, w_hosts) + "\n";
            if (g.failing) {
                print_details(out, g, width);
            }
        }
    }
}

// Hosts that gave no answer (or were skipped), one row per status and stage.
void print_host_trouble(std::string& out, const RunReport& report, std::size_t width) {
    struct Trouble {
        std::string what;
        std::string first_error;
        std::vector<std::string> hosts;
    };
    std::vector<Trouble> troubles;
    for (const auto& h : report.hosts) {
        if (h.status == HostStatus::Ok) {
            continue;
        }
        std::string what = std::string(to_string(h.status));
        if (!h.stage.empty()) {
            what += " (" + h.stage + ")";
        }
        auto it = std::find_if(troubles.begin(), troubles.end(),
                               [&](const Trouble& t) { return t.what == what; });
        if (it == troubles.end()) {
            troubles.push_back({what, h.name + ": " + h.error, {}});
            it = troubles.end() - 1;
        }
        it->hosts.push_back(h.name);
    }
    if (troubles.empty()) {
        return;
    }
    std::vector<std::string> whats;
    for (const auto& t : troubles) {
        whats.push_back(t.what);
    }
    const std::size_t w_what = widest(4, 40, whats);
    const std::size_t used = 2 + w_what + kGap;
    out += "\nhosts without an answer:\n";
    for (const auto& t : troubles) {
        out += "  " + cell(t.what, w_what) +
               hosts_cell(t.hosts, report.hosts.size(),
                          std::max(kMinHostsWidth, width > used ? width - used : 0)) +
               "\n";
        out += "    " + fit(t.first_error, width > 4 ? width - 4 : 1) + "\n";
    }
}

// Pairs of answered hosts that got no verdict (an artifact without an object
// for the host's architecture): host trouble has its rows above.
void print_missing(std::string& out, const RunReport& report, const RunSummary& s,
                   std::size_t width) {
    struct Miss {
        std::string artifact;
        std::string reason;
        std::vector<std::string> hosts;
    };
    std::vector<Miss> misses;
    for (const auto& m : s.missing) {
        const bool answered =
            std::any_of(report.hosts.begin(), report.hosts.end(), [&](const auto& h) {
                return h.name == m.host && h.status == HostStatus::Ok;
            });
        if (!answered) {
            continue;
        }
        auto it = std::find_if(misses.begin(), misses.end(), [&](const Miss& x) {
            return x.artifact == m.artifact && x.reason == m.reason;
        });
        if (it == misses.end()) {
            misses.push_back({m.artifact, m.reason, {}});
            it = misses.end() - 1;
        }
        it->hosts.push_back(m.host);
    }
    if (misses.empty()) {
        return;
    }
    out += "\nno verdict (miss):\n";
    for (const auto& m : misses) {
        out += "  " + m.artifact + " miss: " + m.reason + "\n";
        out += "    " + hosts_cell(m.hosts, report.hosts.size(), width > 4 ? width - 4 : 1) + "\n";
    }
}

std::string mark(Verdict v) {
    switch (v) {
    case Verdict::Pass:
        return "pass";
    case Verdict::Fail:
        return "FAIL";
    case Verdict::Error:
        return "ERR";
    case Verdict::Skip:
        return "skip";
    case Verdict::Miss:
        return "miss";
    }
    return "?";
}

// What host `h` has in the matrix cell of `key`.
std::string matrix_mark(const HostResult& h, const ProgramKey& key) {
    const auto& [artifact, object, program] = key;
    bool has_artifact = false;
    for (const auto& c : h.checks) {
        if (c.artifact != artifact) {
            continue;
        }
        has_artifact = true;
        if (c.object != object) {
            continue;
        }
        if (program.empty()) {
            return c.report.object_error ? "ERR" : "-";
        }
        for (const auto& p : c.report.programs) {
            if (p.name == program) {
                return mark(p.overall());
            }
        }
    }
    return has_artifact ? "-" : "miss";
}

std::string fact_or_dash(const std::optional<std::string>& v) {
    return v && !v->empty() ? *v : "-";
}

} // namespace

std::size_t display_width(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char ch) {
        return (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
    }));
}

std::string fit(std::string_view text, std::size_t width) {
    if (display_width(text) <= width) {
        return std::string(text);
    }
    std::string out;
    std::size_t columns = 0;
    for (char ch : text) {
        const bool starts = (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
        if (starts && columns + 1 >= width) {
            break;
        }
        columns += starts ? 1 : 0;
        out += ch;
    }
    return width == 0 ? "" : out + std::string(kEllipsis);
}

std::string fleet_table_text(const RunReport& report, std::size_t width) {
    std::string out;
    print_program_rows(out, program_rows(report), report.hosts.size(), width);
    print_host_trouble(out, report, width);
    print_missing(out, report, report.summary(), width);
    return out;
}

std::string matrix_text(const RunReport& report, std::size_t width) {
    std::vector<ProgramKey> keys;
    for (auto& r : program_rows(report)) {
        keys.push_back(std::move(r.key));
    }
    std::vector<std::string> names;
    std::vector<std::string> kernels;
    std::vector<std::string> arches;
    for (const auto& h : report.hosts) {
        names.push_back(h.name);
        kernels.push_back(h.facts ? fact_or_dash(h.facts->kernel.release) : "-");
        arches.push_back(h.facts ? fact_or_dash(h.facts->arch) : "-");
    }
    const std::size_t w_host = widest(4, 28, names);
    const std::size_t w_kernel = widest(6, 24, kernels);
    const std::size_t w_arch = widest(4, 8, arches);
    const std::size_t fixed = w_host + w_kernel + w_arch + 3 * kGap;
    // Programs by name when every name fits side by side, else numbered.
    std::vector<std::string> labels;
    std::size_t named_width = fixed;
    for (const auto& [artifact, object, program] : keys) {
        const std::string label = program.empty() ? object : program;
        labels.push_back(label);
        named_width += std::max<std::size_t>(4, display_width(label)) + kGap;
    }
    const bool numbered =
        named_width > width + kGap ||
        std::set<std::string>(labels.begin(), labels.end()).size() != labels.size();
    if (numbered) {
        for (std::size_t i = 0; i < labels.size(); ++i) {
            labels[i] = std::to_string(i + 1);
        }
    }
    std::vector<std::size_t> widths;
    std::string line = cell("HOST", w_host) + cell("KERNEL", w_kernel) + cell("ARCH", w_arch);
    for (const auto& label : labels) {
        widths.push_back(std::max<std::size_t>(4, display_width(label)));
        line += cell(label, widths.back());
    }
    std::string out = line.substr(0, line.find_last_not_of(' ') + 1) + "\n";
    for (std::size_t i = 0; i < report.hosts.size(); ++i) {
        const HostResult& h = report.hosts[i];
        line = cell(names[i], w_host) + cell(kernels[i], w_kernel) + cell(arches[i], w_arch);
        if (h.status != HostStatus::Ok) {
            line +=
                std::string(to_string(h.status)) + (h.stage.empty() ? "" : " (" + h.stage + ")");
        } else {
            for (std::size_t k = 0; k < keys.size(); ++k) {
                line += cell(matrix_mark(h, keys[k]), widths[k]);
            }
        }
        out += line.substr(0, line.find_last_not_of(' ') + 1) + "\n";
    }
    if (numbered) {
        out += "\n";
        for (std::size_t k = 0; k < keys.size(); ++k) {
            const auto& [artifact, object, program] = keys[k];
            out += cell(labels[k], display_width(std::to_string(keys.size()))) + object +
                   (program.empty() ? "" : " " + program) + "\n";
        }
    }
    return out;
}

} // namespace bpfleet::report
