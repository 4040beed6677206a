// What a finished run leaves: report.json in the output directory, then the
// table (unless -q), and nothing printed when report.json cannot be written.

#include "common/file.hpp"
#include "report/json_report.hpp"
#include "report/run_outputs.hpp"
#include "report/run_report_builder.hpp"
#include "support/sample_reports.hpp"
#include "support/temp_dir.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <stdexcept>

namespace bpfleet::report {
namespace {

using test::sample_host;
using test::sample_program;

RunReport one_host_report() {
    RunReportBuilder builder({"build/probe.bpf.o"}, "lab.toml");
    builder.select({"a"});
    builder.add(sample_host("a", {sample_program("good", Verdict::Pass, Verdict::Pass)}));
    return builder.finish("");
}

// The text a writer list puts on a stream, and what write_run_outputs said.
struct Written {
    Result<void> status;
    std::string table;
};

Written write_with_table(const RunReport& report, RunOutputs outputs) {
    char* text = nullptr;
    std::size_t size = 0;
    FilePtr out(open_memstream(&text, &size));
    outputs.table_out = out.get();
    Written w{write_run_outputs(report, outputs), {}};
    out.reset(); // text and size are final once the stream is closed
    w.table.assign(text, size);
    std::free(text); // NOLINT(cppcoreguidelines-owning-memory): open_memstream mallocs it
    return w;
}

OutputDir output_dir(const std::filesystem::path& path) {
    auto out = OutputDir::open(path);
    if (!out) {
        throw std::runtime_error(out.error().describe());
    }
    return *out;
}

TEST(RunOutputs, ReportJsonThenTheTableNamingIt) {
    test::TempDir dir;
    const RunReport report = one_host_report();
    const Written w =
        write_with_table(report, {output_dir(dir.path()), TableKind::Programs, nullptr});
    ASSERT_TRUE(w.status) << w.status.error().describe();
    auto back = read_run_report(dir / "report.json");
    ASSERT_TRUE(back) << back.error().describe();
    ASSERT_EQ(back->hosts.size(), 1u);
    EXPECT_EQ(back->hosts[0].name, "a");
    EXPECT_NE(w.table.find("good"), std::string::npos) << w.table;
    EXPECT_NE(w.table.find("report: " + (dir / "report.json").string() + "\n"), std::string::npos)
        << w.table;
    // bpfleet run writes the documents for CI and people too.
    EXPECT_TRUE(std::filesystem::exists(dir / "junit.xml"));
    EXPECT_TRUE(std::filesystem::exists(dir / "summary.md"));
    EXPECT_TRUE(std::filesystem::exists(dir / "report.html"));
}

TEST(RunOutputs, QuietWritesTheReportAndPrintsNothing) {
    test::TempDir dir;
    auto writers = run_writers({output_dir(dir.path()), TableKind::Facts, nullptr});
    ASSERT_EQ(writers.size(), 1u);
    ASSERT_TRUE(write_reports(one_host_report(), writers));
    EXPECT_TRUE(std::filesystem::exists(dir / "report.json"));
}

TEST(RunOutputs, AReportThatCannotBeWrittenIsAnErrorBeforeAnyTable) {
    test::TempDir dir;
    // A folder where report.json should be: the rename over it fails.
    std::filesystem::create_directories(dir / "report.json" / "x");
    const Written w =
        write_with_table(one_host_report(), {output_dir(dir.path()), TableKind::Programs});
    ASSERT_FALSE(w.status);
    EXPECT_NE(w.status.error().describe().find("report.json"), std::string::npos)
        << w.status.error().describe();
    EXPECT_TRUE(w.table.empty()) << w.table;
}

} // namespace
} // namespace bpfleet::report
