#include "table.hpp"

#include <algorithm>
#include <cstdio>

namespace bpfleet::agent {
namespace {

std::string pad(std::string s, std::size_t width) {
    if (s.size() < width) {
        s.append(width - s.size(), ' ');
    }
    return s;
}

std::string detail(const StageResult& load) {
    if (load.verdict == Verdict::Pass) {
        std::string d;
        if (load.insns_processed) {
            d += std::to_string(*load.insns_processed) + " insns processed";
        }
        if (load.verification_time_us) {
            d += (d.empty() ? "" : ", ") + std::to_string(*load.verification_time_us) + " us";
        }
        return d;
    }
    std::string d = load.evidence.empty() ? load.message : load.evidence;
    if (load.errnum) {
        d = errno_name(load.errnum) + ": " + d;
    }
    if (d.size() > 100) {
        d = d.substr(0, 97) + "...";
    }
    return d;
}

} // namespace

std::string render_table(const CheckReport& report) {
    std::string out;
    out += "object  " + report.object.name;
    if (!report.object.sha256.empty()) {
        out += "  sha256:" + report.object.sha256.substr(0, 12);
    }
    out += "\nkernel  " + report.kernel.release + " " + report.kernel.arch + "\n";
    if (report.btf) {
        out += "btf     " + report.btf->source;
        if (!report.btf->path.empty()) {
            out += " " + report.btf->path;
        }
        out += "\n";
    }
    if (report.object_error) {
        out += "error   " + std::string(to_string(report.object_error->code)) + ": " +
               report.object_error->message + "\n";
        return out;
    }
    for (const auto& f : report.fixups) {
        out += "fixup   " + f.kind + " " + f.target + ": " + f.from + " -> " + f.to + " (" +
               f.source + ")\n";
    }
    std::size_t wname = 7;
    std::size_t wtype = 4;
    std::size_t wcode = 4;
    for (const auto& p : report.programs) {
        wname = std::max(wname, p.name.size());
        wtype = std::max(wtype, p.type.size());
        wcode = std::max(wcode, std::string(to_string(p.load.code)).size());
    }
    bool attached = std::any_of(report.programs.begin(), report.programs.end(),
                                [](const ProgramResult& p) { return p.attach.has_value(); });
    for (const auto& p : report.programs) {
        for (const auto* st : {p.attach ? &*p.attach : nullptr, p.fire ? &*p.fire : nullptr}) {
            if (st) {
                wcode = std::max(wcode, std::string(to_string(st->code)).size());
            }
        }
    }
    out += "\n" + pad("PROGRAM", wname + 2) + pad("TYPE", wtype + 2) + "LOAD  " +
           (attached ? "ATTACH  FIRED      " : "") + pad("CODE", wcode + 2) + "DETAIL\n";
    for (const auto& p : report.programs) {
        // The first stage that did not pass explains the row.
        const StageResult* why = &p.load;
        if (p.load.verdict == Verdict::Pass && p.attach && p.attach->verdict != Verdict::Pass) {
            why = &*p.attach;
        } else if (p.load.verdict == Verdict::Pass && p.attach &&
                   p.attach->verdict == Verdict::Pass && p.fire &&
                   p.fire->verdict != Verdict::Pass) {
            why = &*p.fire;
        }
        std::string code = why->code == FailureCode::None ? "-" : std::string(to_string(why->code));
        std::string row = pad(p.name, wname + 2) + pad(p.type, wtype + 2) +
                          pad(std::string(to_string(p.load.verdict)), 6);
        if (attached) {
            std::string fired = "-";
            if (p.fire && p.fire->fired) {
                fired = *p.fire->fired ? "yes" : "no";
                if (p.fire->run_count && *p.fire->run_count > 0) {
                    fired += " (" + std::to_string(*p.fire->run_count) + ")";
                }
            } else if (p.fire && p.fire->verdict == Verdict::Skip) {
                fired = "skip";
            } else if (p.fire && p.fire->verdict == Verdict::Error) {
                fired = "error";
            }
            row +=
                pad(p.attach ? std::string(to_string(p.attach->verdict)) : "-", 8) + pad(fired, 11);
        }
        std::string text = why == &p.load ? detail(p.load)
                                          : (why->evidence.empty() ? why->message : why->evidence);
        if (why != &p.load && why->errnum) {
            text = errno_name(why->errnum) + ": " + text;
        }
        out += row + pad(code, wcode + 2) + text + "\n";
    }
    auto s = report.summary();
    out += "\n" + std::to_string(s.programs) + " programs: " + std::to_string(s.pass) + " pass, " +
           std::to_string(s.fail) + " fail, " + std::to_string(s.skip) + " skip, " +
           std::to_string(s.error) + " error\n";
    return out;
}

} // namespace bpfleet::agent
