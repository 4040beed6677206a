// The table on stdout (--format table|matrix|json) for fleets of 3 and 50
// hosts, made from the committed nightly fixture, against golden files
// (tests/fixtures/reports/golden/fleet-*.txt); BPFLEET_UPDATE_GOLDEN=1
// rewrites them (review the diff before committing). Also: long host names
// never push a column, identical results share a row, failing rows carry
// the hint and the log path, and the width comes from COLUMNS.

#include "common/file.hpp"
#include "report/fleet_table.hpp"
#include "report/json_report.hpp"
#include "report/table.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <vector>

namespace bpfleet::report {
namespace {

constexpr std::size_t kWidth = 100;

const std::string kGolden = std::string(BPFLEET_FIXTURES_DIR) + "/reports/golden/";

RunReport nightly() {
    auto r = read_run_report(std::string(BPFLEET_FIXTURES_DIR) + "/reports/nightly.json");
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : RunReport{};
}

// The nightly fixture's hosts, cycled into a fleet of `n`: a rack of boards
// with long names, two of them unreachable, one name longer than any column.
RunReport fleet_of(std::size_t n) {
    RunReport base = nightly();
    if (n <= base.hosts.size()) {
        base.hosts.resize(n);
        return base;
    }
    RunReport out = base;
    out.hosts.clear();
    for (std::size_t i = 0; i < n; ++i) {
        HostResult h = base.hosts[i % base.hosts.size()];
        char name[64];
        std::snprintf(name, sizeof name, "%s-rack%02zu-node%02zu.lab", h.name.c_str(), i / 10,
                      i % 10);
        h.name = name;
        if (i == 7) {
            h.name = "edge-gateway-with-a-hostname-longer-than-any-column-07.lab.example.net";
        }
        if (i == 11 || i == 23) {
            h.status = HostStatus::Unreachable;
            h.stage = "connect";
            h.error = "connect to 10.1.0." + std::to_string(i) + ":22: Connection refused";
            h.checks.clear();
            h.facts.reset();
        }
        out.hosts.push_back(std::move(h));
    }
    return out;
}

void expect_golden(const std::string& text, const std::string& name) {
    const std::string path = kGolden + name;
    if (const char* update = std::getenv("BPFLEET_UPDATE_GOLDEN"); update && *update == '1') {
        std::ofstream(path, std::ios::binary) << text;
        return;
    }
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in) << "no golden file " << path << " (BPFLEET_UPDATE_GOLDEN=1 makes it)";
    std::stringstream want;
    want << in.rdbuf();
    EXPECT_EQ(text, want.str()) << "differs from " << path << "; this build prints:\n" << text;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

// The display column where `needle` starts in `line` (npos when absent).
std::size_t column_of(const std::string& line, const std::string& needle) {
    const auto at = line.find(needle);
    return at == std::string::npos ? at : display_width(line.substr(0, at));
}

// What `line` shows from display column `column` on.
std::string from_column(const std::string& line, std::size_t column) {
    std::size_t col = 0;
    std::size_t at = 0;
    for (; at < line.size() && col < column; ++at) {
        const bool continues =
            at + 1 < line.size() && (static_cast<unsigned char>(line[at + 1]) & 0xC0) == 0x80;
        col += continues ? 0 : 1;
    }
    return at < line.size() ? line.substr(at) : "";
}

TEST(FleetTable, GoldenAtThreeAndFiftyHosts) {
    for (std::size_t n : {3u, 50u}) {
        SCOPED_TRACE(n);
        const RunReport r = fleet_of(n);
        const std::string suffix = "fleet-" + std::to_string(n);
        expect_golden(table_text(r, TableKind::Programs, kWidth, "out/report.json"),
                      suffix + ".table.txt");
        expect_golden(table_text(r, TableKind::Matrix, kWidth, "out/report.json"),
                      suffix + ".matrix.txt");
    }
}

TEST(FleetTable, JsonIsTheReportItself) {
    const RunReport r = fleet_of(3);
    const std::string text = table_text(r, TableKind::Json, kWidth, "out/report.json");
    auto back = parse_run_report(text);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(Json(*back), Json(r));
    EXPECT_EQ(text.find("report: "), std::string::npos) << "stdout must be JSON alone";
}

TEST(FleetTable, IdenticalResultsShareOneRowAtFiftyHosts) {
    const RunReport r = fleet_of(50);
    const std::string text = fleet_table_text(r, kWidth);
    const auto lines = lines_of(text);
    // 5 programs, at most 3 results each, their detail lines, 2 trouble lines.
    EXPECT_LT(lines.size(), 40u) << text;
    // The 9 x86-new hosts that answered pass bad_unchecked; the others fail it.
    bool seen_pass = false;
    for (const auto& l : lines_of(fleet_table_text(r, 160))) {
        if (l.find("bad_unchecked") != std::string::npos && l.find(" pass ") != std::string::npos) {
            seen_pass = true;
            EXPECT_NE(l.find(" 9/50  x86-new-rack00-node03.lab, "), std::string::npos) << l;
        }
    }
    EXPECT_TRUE(seen_pass) << text;
    // Host trouble collapsed too.
    EXPECT_NE(text.find("unreachable (connect)"), std::string::npos) << text;
    EXPECT_NE(text.find("2/50"), std::string::npos) << text;
}

TEST(FleetTable, RowsStayInLineAndWithinTheWidth) {
    for (std::size_t width : {80u, 100u, 160u}) {
        SCOPED_TRACE(width);
        const std::string text = fleet_table_text(fleet_of(50), width);
        const auto lines = lines_of(text);
        ASSERT_FALSE(lines.empty());
        const std::size_t load = column_of(lines[0], "LOAD");
        const std::size_t code = column_of(lines[0], "CODE");
        const std::size_t hosts = column_of(lines[0], "HOSTS");
        int rows = 0;
        for (const auto& l : lines) {
            if (l.empty()) {
                break; // the table ends; host trouble follows
            }
            if (l.starts_with("    hint: ") || l.starts_with("    log: ")) {
                continue; // kept whole: a path must be usable
            }
            EXPECT_LE(display_width(l), width) << l;
            if (l.starts_with(" ") || l == lines[0]) {
                continue;
            }
            ++rows;
            const std::string at_load = from_column(l, load).substr(0, 4);
            EXPECT_TRUE(at_load == "pass" || at_load == "fail") << l;
            const std::string at_code = from_column(l, code);
            EXPECT_TRUE(at_code.starts_with("-") || at_code.starts_with("VERIFIER_REJECT") ||
                        at_code.starts_with("HELPER_UNAVAILABLE"))
                << l;
            // The count ends two columns into HOSTS ("39/50" or " 9/50").
            EXPECT_EQ(from_column(l, hosts + 2).substr(0, 3), "/50") << l;
        }
        EXPECT_EQ(rows, 8) << text;
    }
}

TEST(FleetTable, FailingRowsCarryEvidenceHintAndLogPath) {
    const RunReport r = fleet_of(3);
    const std::string text = fleet_table_text(r, kWidth);
    EXPECT_NE(text.find("    R1 offset is outside of the packet"), std::string::npos) << text;
    EXPECT_NE(text.find("    hint: "), std::string::npos) << text;
    EXPECT_NE(text.find("    log: hosts/rpi4-02/logs/"), std::string::npos) << text;
}

TEST(FleetMatrix, LongHostNamesNeverPushTheMarks) {
    const std::string text = matrix_text(fleet_of(50), kWidth);
    const auto lines = lines_of(text);
    ASSERT_GT(lines.size(), 50u);
    const std::size_t kernel = column_of(lines[0], "KERNEL");
    for (std::size_t i = 1; i <= 50; ++i) {
        const std::string& l = lines[i];
        // The kernel column starts where the header says, whatever the name.
        std::size_t col = 0;
        std::size_t bytes = 0;
        while (col < kernel && bytes < l.size()) {
            col += (static_cast<unsigned char>(l[bytes]) & 0xC0) != 0x80 ? 1 : 0;
            ++bytes;
        }
        while (bytes < l.size() && (static_cast<unsigned char>(l[bytes]) & 0xC0) == 0x80) {
            ++bytes;
        }
        ASSERT_LT(bytes, l.size()) << l;
        EXPECT_TRUE(l[bytes] != ' ' && l[bytes - 1] == ' ') << l;
        EXPECT_LE(display_width(l), kWidth) << l;
    }
    EXPECT_NE(text.find("edge-gateway-with-a-hostnam…"), std::string::npos) << text;
}

TEST(TerminalWidth, ColumnsWinsThenTheTerminalThenTheDefault) {
    const FilePtr file = open_file("/dev/null", "w");
    ASSERT_NE(file, nullptr);
    std::FILE* null = file.get();
    ::setenv("COLUMNS", "72", 1);
    EXPECT_EQ(terminal_width(null), 72u);
    ::setenv("COLUMNS", "wide", 1);
    EXPECT_EQ(terminal_width(null), kDefaultWidth);
    ::unsetenv("COLUMNS");
    EXPECT_EQ(terminal_width(null), kDefaultWidth);
}

// Colour for a terminal: the verdict columns, the matrix's marks and the
// summary's non-zero counts; never a word of the same spelling elsewhere
// (a program or object named "pass"), and the text is otherwise unchanged.
TEST(TableColour, VerdictColumnsMarksAndCountsOnly) {
    const std::string table = "OBJECT      PROGRAM  LOAD  ATTACH  FIRED  CODE  HOSTS\n"
                              "pass.bpf.o  pass     pass  fail    -      X     3/3  all\n"
                              "pass.bpf.o  tc_drop  pass  pass    skip   -     1/3  a\n"
                              "\n"
                              "3 host(s): 3 ok, 0 without answer; 2 program(s): 1 pass, 1 fail, "
                              "0 skip, 0 error; 0 miss\n";
    const std::string painted = paint_table(table);
    auto green = [](const std::string& w) { return "\033[32m" + w + "\033[0m"; };
    auto red = [](const std::string& w) { return "\033[31m" + w + "\033[0m"; };
    EXPECT_NE(painted.find("pass.bpf.o  pass     " + green("pass") + "  " + red("fail") + "    -"),
              std::string::npos)
        << painted;
    EXPECT_NE(painted.find("\033[33mskip\033[0m"), std::string::npos) << painted;
    EXPECT_NE(painted.find(green("1 pass") + ", " + red("1 fail") + ", 0 skip, 0 error; 0 miss"),
              std::string::npos)
        << painted;
    EXPECT_EQ(painted.find("\033[32mpass.bpf.o"), std::string::npos) << painted;
    // Without the escapes it is the same text.
    std::string plain;
    for (std::size_t i = 0; i < painted.size(); ++i) {
        if (painted[i] == '\033') {
            i = painted.find('m', i);
            continue;
        }
        plain += painted[i];
    }
    EXPECT_EQ(plain, table);

    const std::string matrix = "HOST     KERNEL  ARCH     1     2\n"
                               "rpi4-01  6.1     aarch64  pass  FAIL\n"
                               "x86-01   6.12    x86_64   unreachable (connect)\n";
    const std::string m = paint_table(matrix);
    EXPECT_NE(m.find(green("pass") + "  " + red("FAIL")), std::string::npos) << m;
    EXPECT_NE(m.find(red("unreachable") + " (connect)"), std::string::npos) << m;
}

} // namespace
} // namespace bpfleet::report
