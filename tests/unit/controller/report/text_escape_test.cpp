// Text from hosts in junit.xml and summary.md: one escaper (text_escape.hpp),
// a table per format. Hostile evidence must not break either document.

#include "report/json_report.hpp"
#include "report/junit_writer.hpp"
#include "report/markdown_writer.hpp"
#include "report/text_escape.hpp"

#include <gtest/gtest.h>
#include <string>
#include <string_view>

namespace bpfleet::report {
namespace {

TEST(TextEscape, KeepsReplacesAndDropsAsTheTableSays) {
    constexpr EscapeTable kTable =
        EscapeTable().replace_controls("", "\n").replace('<', "&lt;").replace('\t', " ");
    EXPECT_EQ(escape("a<b\tc\x01\nd\xc3\xa9", kTable), "a&lt;b c\nd\xc3\xa9");
    EXPECT_EQ(escape("", kTable), "");
}

constexpr std::string_view kHostile =
    "<x a=\"1\"> & 'q' | *b* _i_ `c` [l](u) \\ \x01\x1b end\nnext";

// The nightly fixture with rpi4-02's failing evidence made hostile, and
// rpi4-01 unreachable with the same text as its error.
RunReport hostile() {
    auto r = read_run_report(std::string(BPFLEET_FIXTURES_DIR) + "/reports/nightly.json");
    EXPECT_TRUE(r) << r.error().message;
    RunReport report = r ? *r : RunReport{};
    report.hosts.at(1).checks.at(0).report.programs.at(0).load.evidence = kHostile;
    HostResult& down = report.hosts.at(0);
    down.status = HostStatus::Unreachable;
    down.stage = "connect";
    down.error = kHostile;
    down.checks.clear();
    return report;
}

TEST(TextEscape, JunitEscapesMarkupAndReplacesControlCharacters) {
    const std::string xml = junit_xml(hostile());
    EXPECT_NE(xml.find("&lt;x a=&quot;1&quot;&gt; &amp; &apos;q&apos; | *b* _i_ `c` [l](u) \\ "
                       "\xEF\xBF\xBD\xEF\xBF\xBD end"),
              std::string::npos)
        << xml;
    EXPECT_EQ(xml.find('\x01'), std::string::npos);
    EXPECT_EQ(xml.find('\x1b'), std::string::npos);
}

TEST(TextEscape, MarkdownKeepsACellOneCell) {
    const std::string md = summary_markdown(hostile());
    const std::string cell =
        "&lt;x a=\"1\"&gt; &amp; 'q' \\| \\*b\\* \\_i\\_ \\`c\\` \\[l\\](u) \\\\  end next";
    EXPECT_NE(md.find("| " + cell + " |"), std::string::npos) << md;
    EXPECT_EQ(md.find('\x01'), std::string::npos);
    EXPECT_EQ(md.find('\x1b'), std::string::npos);
    EXPECT_EQ(md.find("<x"), std::string::npos) << md;
}

} // namespace
} // namespace bpfleet::report
