// Expectations (--expect FILE, docs/expectations.md): what a fleet is
// expected to do, rule by rule, so that a known failure on an old kernel does
// not fail every run and a surprise does. Read from TOML before any host is
// contacted (every mistake is exit 2 naming FILE:LINE:COL); applied to the
// finished report, whose exit status then follows the judgement
// (RunReport::exit_status()).
//
// Plain values and pure functions; no I/O but load_expectations().
#pragma once

#include "common/result.hpp"
#include "inventory/inventory.hpp"
#include "model/run_report.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace bpfleet::report {

// One term of a host selector: the --limit syntax, read by the same parser
// (inventory::parse_selector_terms: NAME, GLOB, tag:T, group:G, all, *,
// @FILE; '!' removes, '&' intersects) plus kernel:GLOB (the kernel release)
// and arch:NAME (any spelling: x86_64, amd64, aarch64, arm64, ...).
struct HostTerm {
    enum class Kind { All, Name, Tag, Group, Kernel, Arch };
    Kind kind = Kind::All;
    std::string pattern; // a glob for Name, Tag, Group, Kernel; the agent's arch name for Arch
    inventory::SelectorTerm::Sign sign = inventory::SelectorTerm::Sign::Include;
    std::size_t set = 0; // the '&' set (SelectorTerm::set)
};

// What a host selector sees of a host. Unknown kernel or arch (before the
// run, or a host that never answered): kernel: and arch: terms do not match
// it — except in `assume_facts`, used to check that a selector can match at all.
struct HostView {
    std::string name;
    std::vector<std::string> tags;
    std::vector<std::string> groups;
    std::string kernel;
    std::string arch; // the agent's name (uname -m)
};

// A comma list of terms; empty: every host. A relative @FILE is read from
// `base_dir` (the expectations file's folder) when given. Errors name the
// bad term.
Result<std::vector<HostTerm>> parse_host_selector(std::string_view text,
                                                  const std::string& base_dir = "");

// As --limit combines them (inventory::selector_selects). A kernel: or
// arch: term never matches a host whose facts are unknown, except in
// `assume_facts`; a '!' term removes only a host it surely matches.
bool host_selected(const std::vector<HostTerm>& terms, const HostView& host,
                   bool assume_facts = false);

HostView host_view(const HostResult& host);

// One [[expect]] table.
struct ExpectRule {
    std::string source; // FILE:LINE
    std::string hosts_text;
    std::vector<HostTerm> hosts;
    std::string artifact = "*"; // globs
    std::string object = "*";
    std::string program = "*";
    std::string stage;                    // "" = the program's overall verdict
    Verdict verdict = Verdict::Pass;      // Miss: the host × artifact pair has no verdict
    FailureCode code = FailureCode::None; // None: any code
    std::string reason;
};

struct Expectations {
    std::string file;
    std::string sha256;
    std::vector<ExpectRule> rules;
};

// Parses the TOML text; `file` names it in errors and results. Errors (code
// "usage"): not TOML, an unknown table or key, a value of the wrong type or
// not one of its words, a selector term that cannot be, `program`, `object`,
// `stage` or `code` on a `miss` rule.
Result<Expectations> parse_expectations(std::string_view text, const std::string& file);
Result<Expectations> load_expectations(const std::string& file);

// Before the run: every rule must be able to match something of it. `hosts`
// are the inventory's (all of them: a rule may be for another shard's hosts),
// `artifacts` the -a arguments. Errors name the rule's FILE:LINE.
Result<void> check_rules_match(const Expectations& expectations, const std::vector<HostView>& hosts,
                               const std::vector<std::string>& artifacts);

// The judgement of a finished report: for each program the first rule that
// matches it (host, artifact, object, program) decides; a `miss` rule judges
// each host × artifact pair it matches. Results no rule matches are not
// listed (they count as without expectations: a failure fails the run).
ExpectationsApplied apply_expectations(const Expectations& expectations, const RunReport& report);

} // namespace bpfleet::report
