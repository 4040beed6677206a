// bpfleet report diff OLD NEW: what changed between two runs' report.json
// (docs/report-diff.md). bpfleet report merge A B ... -o DIR: the shards of
// one run joined (docs/ci.md). bpfleet report render REPORT: its outputs again
// (junit.xml, summary.md, the table, report.json itself), on stdout or into a
// folder. A report that cannot be read is exit 2 and nothing is written.

#include "cli/artifact_options.hpp"
#include "cli/commands.hpp"
#include "model/report_diff.hpp"
#include "report/html_writer.hpp"
#include "report/json_report.hpp"
#include "report/junit_writer.hpp"
#include "report/markdown_writer.hpp"
#include "report/merge.hpp"
#include "report/output_dir.hpp"
#include "report/run_outputs.hpp"

#include <cstdio>
#include <memory>
#include <vector>

namespace bpfleet::cli {
namespace {

struct DiffOptions {
    std::string old_report;
    std::string new_report;
    std::string format = "text";
};

struct MergeOptions {
    std::vector<std::string> reports;
    std::string output_dir;
};

// The shards' reports joined; every file `run` writes, into the folder.
int merge(const MergeOptions& options) {
    std::vector<report::ShardReport> shards;
    for (const auto& file : options.reports) {
        auto r = report::read_run_report(file);
        if (!r) {
            print_error(r.error());
            return kExitUsage;
        }
        shards.push_back({file, std::move(*r)});
    }
    auto merged = report::merge_reports(shards);
    if (!merged) {
        print_error(merged.error());
        return kExitUsage;
    }
    if (const std::string gaps = report::missing_shards(shards); !gaps.empty()) {
        std::fprintf(stderr,
                     "bpfleet: warning: no report of shard %s: its hosts are not in the "
                     "merged report\n",
                     gaps.c_str());
    }
    auto dir = report::OutputDir::open(options.output_dir);
    if (!dir) {
        print_error(dir.error());
        return kExitUsage;
    }
    if (auto written =
            report::write_run_outputs(*merged, {*dir, report::TableKind::Programs, stdout});
        !written) {
        print_error(written.error());
        return kExitUsage;
    }
    return merged->exit_status();
}

struct RenderOptions {
    std::string report;
    std::string format = "table";
    std::string output_dir;
};

// Every format `run` writes, into `dir`; or one format on stdout.
int render(const RenderOptions& options) {
    auto report = report::read_run_report(options.report);
    if (!report) {
        print_error(report.error());
        return kExitUsage;
    }
    if (!options.output_dir.empty()) {
        auto dir = report::OutputDir::open(options.output_dir);
        if (!dir) {
            print_error(dir.error());
            return kExitUsage;
        }
        // The table too, unless it goes nowhere (-o without a terminal is still fine).
        if (auto written =
                report::write_run_outputs(*report, {*dir, report::TableKind::Programs, nullptr});
            !written) {
            print_error(written.error());
            return kExitUsage;
        }
        return report->exit_status();
    }
    std::string text;
    if (options.format == "junit") {
        text = report::junit_xml(*report);
    } else if (options.format == "markdown") {
        text = report::summary_markdown(*report);
    } else if (options.format == "html") {
        text = report::report_html(*report);
    } else {
        auto kind =
            report::table_kind_from_string(options.format).value_or(report::TableKind::Programs);
        if (kind == report::TableKind::Programs && report->run.identity.mode == "probe") {
            kind = report::TableKind::Facts; // as `bpfleet probe` printed it
        }
        report::TableWriter table(kind, stdout, "");
        if (auto written = table.write(*report); !written) {
            print_error(written.error());
            return kExitUsage;
        }
    }
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return report->exit_status();
}

int diff(const DiffOptions& options) {
    auto old_report = report::read_run_report(options.old_report);
    if (!old_report) {
        print_error(old_report.error());
        return kExitUsage;
    }
    auto new_report = report::read_run_report(options.new_report);
    if (!new_report) {
        print_error(new_report.error());
        return kExitUsage;
    }
    auto d = diff_reports(*old_report, *new_report, options.old_report, options.new_report);
    if (!d) {
        print_error(d.error());
        return kExitUsage;
    }
    const std::string text = options.format == "json" ? Json(*d).dump(2) + "\n" : diff_text(*d);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return d->regressed() ? kExitFailures : kExitOk;
}

} // namespace

Action register_report(CLI::App& app) {
    auto* report = app.add_subcommand("report", "Work with report.json files of finished runs");
    report->require_subcommand(1);
    auto options = std::make_shared<DiffOptions>();
    auto* diff_cmd = report->add_subcommand(
        "diff", "What changed from OLD to NEW: regressions (exit 1), improvements, code changes, "
                "new and vanished hosts and programs");
    diff_cmd->add_option("OLD", options->old_report, "The baseline's report.json")->required();
    diff_cmd->add_option("NEW", options->new_report, "The newer run's report.json")->required();
    diff_cmd->add_option("--format", options->format, "text, or json (bpfleet.diff/v1)")
        ->capture_default_str()
        ->check(CLI::IsMember({"text", "json"}));
    auto render_options = std::make_shared<RenderOptions>();
    auto* render_cmd = report->add_subcommand(
        "render", "Make a report.json's outputs again: on stdout in one format, or every file "
                  "`bpfleet run` writes into a folder (-o); exits with the report's status");
    render_cmd->add_option("REPORT", render_options->report, "A report.json")->required();
    render_cmd
        ->add_option("--format", render_options->format,
                     "For stdout: table, matrix (hosts x programs), junit (junit.xml), markdown "
                     "(summary.md), html (report.html) or json")
        ->capture_default_str()
        ->check(CLI::IsMember({"table", "matrix", "junit", "markdown", "html", "json"}));
    render_cmd->add_option("-o,--output", render_options->output_dir,
                           "Write report.json, junit.xml, summary.md and report.html into this "
                           "folder instead");
    auto merge_options = std::make_shared<MergeOptions>();
    auto* merge_cmd = report->add_subcommand(
        "merge", "Join the reports of the shards of one run (--shard I/N) into the run's report: "
                 "report.json, junit.xml, summary.md, report.html in -o; exits with its status");
    merge_cmd->add_option("REPORTS", merge_options->reports, "The shards' report.json files")
        ->required();
    merge_cmd->add_option("-o,--output", merge_options->output_dir, "Output directory")->required();
    return [options, render_options, merge_options, diff_cmd, render_cmd, merge_cmd] {
        if (merge_cmd->parsed()) {
            return merge(*merge_options);
        }
        if (diff_cmd->parsed()) {
            return diff(*options);
        }
        if (render_cmd->parsed()) {
            return render(*render_options);
        }
        return kExitUsage;
    };
}

} // namespace bpfleet::cli
