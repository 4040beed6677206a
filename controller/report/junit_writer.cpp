#include "report/junit_writer.hpp"

#include "report/host_files.hpp"
#include "report/text_escape.hpp"

#include <cstdio>
#include <string_view>

namespace bpfleet::report {
namespace {

// Text as XML character data or an attribute value: the five special
// characters escaped, and the control characters XML 1.0 cannot carry
// replaced by U+FFFD, so that a verifier log or a hostile host's text never
// breaks the document. (The report's strings are UTF-8 already: JSON carried
// them.)
constexpr EscapeTable kXml = EscapeTable()
                                 .replace('&', "&amp;")
                                 .replace('<', "&lt;")
                                 .replace('>', "&gt;")
                                 .replace('"', "&quot;")
                                 .replace('\'', "&apos;")
                                 .replace_controls("\xEF\xBF\xBD", "\n\t\r");

std::string xml_text(std::string_view s) {
    return escape(s, kXml);
}

std::string seconds(double ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", ms / 1000.0);
    return buf;
}

struct Counts {
    int tests = 0;
    int failures = 0;
    int errors = 0;
    int skipped = 0;

    void add(const Counts& o) {
        tests += o.tests;
        failures += o.failures;
        errors += o.errors;
        skipped += o.skipped;
    }
};

std::string counts_attributes(const Counts& c) {
    return " tests=\"" + std::to_string(c.tests) + "\" failures=\"" + std::to_string(c.failures) +
           "\" errors=\"" + std::to_string(c.errors) + "\" skipped=\"" + std::to_string(c.skipped) +
           "\"";
}

// One testcase for a program's stage.
std::string stage_case(const HostResult& h, const ObjectCheck& c, const ProgramResult& p,
                       std::string_view stage, const StageResult& s, Counts& counts) {
    ++counts.tests;
    std::string out = "    <testcase classname=\"" + xml_text(c.artifact + "/" + c.object) +
                      "\" name=\"" + xml_text(p.name + " " + std::string(stage)) + "\"";
    if (stage == "load" && s.verification_time_us) {
        out += " time=\"" + seconds(static_cast<double>(*s.verification_time_us) / 1000.0) + "\"";
    }
    std::string body;
    const std::string code(to_string(s.code));
    std::string detail = s.evidence.empty() ? s.message : s.evidence;
    std::string text;
    if (!s.message.empty()) {
        text += s.message + "\n";
    }
    if (!s.evidence.empty() && s.evidence != s.message) {
        text += "evidence: " + s.evidence + "\n";
    }
    if (s.errnum != 0) {
        text += "errno: " + std::to_string(s.errnum) + "\n";
    }
    if (!s.hint.empty()) {
        text += "hint: " + s.hint + "\n";
    }
    if (s.insns_processed) {
        text += "verifier instructions processed: " + std::to_string(*s.insns_processed) + "\n";
    }
    if (stage == "load" && s.log && !s.log->text.empty()) {
        text += "verifier log: " + log_file_path(h.name, c.object, p.name) + "\n";
    }
    switch (s.verdict) {
    case Verdict::Pass:
        break;
    case Verdict::Fail:
        ++counts.failures;
        body = "      <failure type=\"" + xml_text(code) + "\" message=\"" +
               xml_text(code + (detail.empty() ? "" : ": " + detail)) + "\">" + xml_text(text) +
               "</failure>\n";
        break;
    case Verdict::Skip:
        ++counts.skipped;
        body =
            "      <skipped message=\"" + xml_text(s.message.empty() ? code : s.message) + "\"/>\n";
        break;
    case Verdict::Error:
    case Verdict::Miss:
        ++counts.errors;
        body = "      <error type=\"" + xml_text(code.empty() ? "error" : code) + "\" message=\"" +
               xml_text(detail.empty() ? std::string(to_string(s.verdict)) : detail) + "\">" +
               xml_text(text) + "</error>\n";
        break;
    }
    if (body.empty()) {
        return out + "/>\n";
    }
    return out + ">\n" + body + "    </testcase>\n";
}

// An error testcase: host trouble, an object that could not be opened, a miss.
std::string error_case(const std::string& classname, const std::string& name,
                       const std::string& type, const std::string& message, Counts& counts) {
    ++counts.tests;
    ++counts.errors;
    return "    <testcase classname=\"" + xml_text(classname) + "\" name=\"" + xml_text(name) +
           "\">\n      <error type=\"" + xml_text(type) + "\" message=\"" + xml_text(message) +
           "\"/>\n    </testcase>\n";
}

std::string property(const std::string& name, const std::string& value) {
    return "      <property name=\"" + xml_text(name) + "\" value=\"" + xml_text(value) + "\"/>\n";
}

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) {
        out += (out.empty() ? "" : ",") + w;
    }
    return out;
}

} // namespace

std::string junit_xml(const RunReport& report) {
    const RunSummary summary = report.summary();
    Counts total;
    std::string suites;
    for (const auto& h : report.hosts) {
        Counts counts;
        std::string cases;
        for (const auto& c : h.checks) {
            if (c.report.object_error) {
                cases += error_case(c.artifact + "/" + c.object, "object",
                                    std::string(to_string(c.report.object_error->code)),
                                    c.report.object_error->message, counts);
            }
            for (const auto& p : c.report.programs) {
                cases += stage_case(h, c, p, "load", p.load, counts);
                if (p.attach) {
                    cases += stage_case(h, c, p, "attach", *p.attach, counts);
                }
                if (p.fire) {
                    cases += stage_case(h, c, p, "fire", *p.fire, counts);
                }
            }
        }
        for (const auto& m : summary.missing) {
            if (m.host == h.name) {
                cases += error_case(m.artifact, "miss",
                                    h.status == HostStatus::Ok ? "miss"
                                                               : std::string(to_string(h.status)),
                                    m.reason, counts);
            }
        }
        if (h.status != HostStatus::Ok && report.artifacts.empty()) {
            // probe: no artifact to miss, the host's trouble is the case
            cases += error_case(h.name, h.stage.empty() ? "host" : h.stage,
                                std::string(to_string(h.status)), h.error, counts);
        }
        std::string props;
        if (h.facts) {
            const HostFacts& f = *h.facts;
            props += property("kernel", f.kernel.release.value_or(""));
            props += property("arch", f.arch.value_or(""));
            props += property("distro", f.os.pretty_name.value_or(""));
        }
        props += property("status", std::string(to_string(h.status)));
        props += property("address", h.address);
        if (!h.tags.empty()) {
            props += property("tags", join(h.tags));
        }
        if (!h.groups.empty()) {
            props += property("groups", join(h.groups));
        }
        total.add(counts);
        suites += "  <testsuite name=\"" + xml_text(h.name) + "\"" + counts_attributes(counts) +
                  " time=\"" + seconds(h.duration_ms) + "\"";
        if (!report.started.empty()) {
            suites += " timestamp=\"" + xml_text(report.started.substr(0, 19)) + "\"";
        }
        suites += " hostname=\"" + xml_text(h.address.empty() ? h.name : h.address) + "\">\n";
        suites += "    <properties>\n" + props + "    </properties>\n" + cases + "  </testsuite>\n";
    }
    const std::string name =
        "bpfleet " + (report.run.identity.id.empty() ? std::string("run") : report.run.identity.id);
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"" + xml_text(name) +
           "\"" + counts_attributes(total) + " time=\"" + seconds(report.duration_ms) + "\">\n" +
           suites + "</testsuites>\n";
}

} // namespace bpfleet::report
