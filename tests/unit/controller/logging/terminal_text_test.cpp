// terminal_text: nothing a host sends can drive the operator's terminal,
// whether it reaches it through the log, the progress lines or the table.

#include "common/file.hpp"
#include "fleet/progress.hpp"
#include "logging/terminal_text.hpp"
#include "report/run_report_builder.hpp"
#include "report/table.hpp"
#include "support/sample_reports.hpp"

#include <cstdlib>
#include <gtest/gtest.h>

namespace bpfleet::logging {
namespace {

// The agent stderr of the attack review: retitle, erase the line, climb one,
// paint red, and claim success.
const std::string kHostile = "\x1b]0;pwned\x07\x1b[2K\x1b[1A\x1b[31mFAKE: all hosts ok";

// Everything a stream got, as a string.
class Captured {
public:
    Captured() : m_file(open_memstream(&m_text, &m_size)) {}
    ~Captured() {
        m_file.reset();
        std::free(m_text); // NOLINT(cppcoreguidelines-owning-memory): open_memstream mallocs it
    }
    Captured(const Captured&) = delete;
    Captured& operator=(const Captured&) = delete;
    [[nodiscard]] std::FILE* file() const { return m_file.get(); }
    std::string text() {
        std::fflush(m_file.get());
        return std::string(m_text, m_size);
    }

private:
    char* m_text = nullptr;
    std::size_t m_size = 0;
    FilePtr m_file;
};

// Bytes that a terminal acts on: C0 controls but the line ends, DEL, C1.
bool drives_a_terminal(const std::string& text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto ch = static_cast<unsigned char>(text[i]);
        if ((ch < 0x20 && ch != '\n') || ch == 0x7f || ch == 0x9b ||
            (ch == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xa0)) {
            return true;
        }
    }
    return false;
}

TEST(TerminalText, ControlsBecomeVisibleEscapes) {
    EXPECT_EQ(terminal_safe(kHostile),
              "\\x1b]0;pwned\\x07\\x1b[2K\\x1b[1A\\x1b[31mFAKE: all hosts ok");
    EXPECT_EQ(terminal_safe("a\tb\nc\r\x7f"), "a\\x09b\\x0ac\\x0d\\x7f");
    EXPECT_EQ(terminal_safe_lines("a\nb\x1b"), "a\nb\\x1b");
}

TEST(TerminalText, UnicodeIsKeptButC1ControlsAndBadBytesAreNot) {
    EXPECT_EQ(terminal_safe("Debian GNU/Linux 12 (bookworm) \xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xa7"),
              "Debian GNU/Linux 12 (bookworm) \xc3\xa9\xe2\x82\xac\xf0\x9f\x90\xa7");
    // U+009B is CSI on terminals that take C1 controls; a bare 0x9b byte too.
    EXPECT_EQ(terminal_safe("x\xc2\x9b"
                            "31my"),
              "x\\u009b31my");
    EXPECT_EQ(terminal_safe("x\x9b"
                            "31m"),
              "x\\x9b31m");
    // Overlong ESC, a surrogate, a cut sequence.
    EXPECT_EQ(terminal_safe("\xc0\x9b"), "\\xc0\\x9b");
    EXPECT_EQ(terminal_safe("\xed\xa0\x80"), "\\xed\\xa0\\x80");
    EXPECT_EQ(terminal_safe("\xe2\x82"), "\\xe2\\x82");
}

TEST(TerminalText, TheTableShowsHostTextEscaped) {
    using test::sample_host;
    using test::sample_program;
    using test::sample_unanswered;
    report::RunReportBuilder builder({"probe.bpf.o"}, "");
    builder.select({"a", "b"});
    auto a = sample_host("a", {sample_program("p" + kHostile, Verdict::Fail)}, "o" + kHostile);
    a.checks[0].report.programs[0].load.evidence = kHostile;
    builder.add(a);
    auto b = sample_unanswered("b", HostStatus::AgentError, "run");
    b.error = "the agent ended: " + kHostile;
    builder.add(b);
    const RunReport report = builder.finish("");
    for (auto kind : {report::TableKind::Programs, report::TableKind::Facts}) {
        Captured out;
        ASSERT_TRUE(report::TableWriter(kind, out.file(), "out/report.json").write(report));
        const std::string text = out.text();
        EXPECT_FALSE(drives_a_terminal(text)) << text;
        EXPECT_NE(text.find("\\x1b[31mFAKE: all hosts ok"), std::string::npos) << text;
    }
}

TEST(TerminalText, ProgressLinesShowHostTextEscaped) {
    Captured out;
    {
        fleet::Progress progress(1, fleet::Verbosity::Normal, false, out.file());
        progress.started("b");
        auto b = test::sample_unanswered("b", HostStatus::AgentError, "run");
        b.error = kHostile;
        progress.finished(b, false);
    }
    const std::string text = out.text();
    EXPECT_FALSE(drives_a_terminal(text)) << text;
    EXPECT_NE(text.find("\\x1b[31mFAKE"), std::string::npos) << text;
}

} // namespace
} // namespace bpfleet::logging
