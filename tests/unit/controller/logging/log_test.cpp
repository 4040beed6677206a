// The controller's log: which levels each verbosity shows, host text made
// harmless, log lines kept above the progress display's live line, and
// libssh's and libbpf's own messages routed in at -vv only.

#include "bpf/object.hpp"
#include "common/file.hpp"
#include "logging/log.hpp"

#include <cstdio>
#include <cstdlib>
#include <gtest/gtest.h>
#include <libssh/libssh.h>
#include <memory>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace bpfleet::logging {
namespace {

// The log written into memory while it lives; text() after each step.
class CapturedLog {
public:
    explicit CapturedLog(Verbosity verbosity) : m_out(open_memstream(&m_buf, &m_size)) {
        init(verbosity, m_out.get());
    }
    ~CapturedLog() {
        init(Verbosity::Normal, stderr);
        m_out.reset();
        std::free(m_buf); // NOLINT(cppcoreguidelines-owning-memory): open_memstream mallocs it
    }
    CapturedLog(const CapturedLog&) = delete;
    CapturedLog& operator=(const CapturedLog&) = delete;

    std::string text() {
        std::fflush(m_out.get());
        return std::string(m_buf, m_size);
    }
    std::FILE* stream() { return m_out.get(); }

private:
    char* m_buf = nullptr;
    std::size_t m_size = 0;
    FilePtr m_out;
};

void log_every_level() {
    spdlog::error("an error");
    spdlog::warn("a warning");
    spdlog::info("a note");
    spdlog::debug("a stage");
    spdlog::trace("a library line");
}

TEST(Log, EachVerbosityShowsItsLevels) {
    {
        CapturedLog log(Verbosity::Quiet);
        log_every_level();
        EXPECT_EQ(log.text(), "bpfleet: an error\nbpfleet: a warning\n");
    }
    {
        CapturedLog log(Verbosity::Normal);
        log_every_level();
        EXPECT_EQ(log.text(), "bpfleet: an error\nbpfleet: a warning\nbpfleet: a note\n");
    }
    {
        CapturedLog log(Verbosity::Verbose);
        log_every_level();
        EXPECT_EQ(log.text(),
                  "bpfleet: an error\nbpfleet: a warning\nbpfleet: a note\nbpfleet: a stage\n");
    }
    {
        CapturedLog log(Verbosity::Debug);
        log_every_level();
        EXPECT_NE(log.text().find("bpfleet: a library line\n"), std::string::npos) << log.text();
    }
}

TEST(Log, VerbosityFromTheFlags) {
    EXPECT_EQ(verbosity_of(false, 0), Verbosity::Normal);
    EXPECT_EQ(verbosity_of(false, 1), Verbosity::Verbose);
    EXPECT_EQ(verbosity_of(false, 2), Verbosity::Debug);
    EXPECT_EQ(verbosity_of(false, 5), Verbosity::Debug);
    EXPECT_EQ(verbosity_of(true, 2), Verbosity::Quiet);
}

TEST(Log, ControlCharactersFromHostsCannotDriveTheTerminal) {
    CapturedLog log(Verbosity::Normal);
    spdlog::info("banner: {}", "SSH-2.0-x\x1b]0;owned\x07\r\x7f");
    EXPECT_EQ(log.text(), "bpfleet: banner: SSH-2.0-x\\x1b]0;owned\\x07\\x0d\\x7f\n");
}

// Writes markers into the log's own stream, so the order shows.
class MarkingLine final : public LiveLine {
public:
    explicit MarkingLine(std::FILE* out) : m_out(out) {}
    void clear_line() override { std::fputs("<clear>", m_out); }
    void redraw_line() override { std::fputs("<live>", m_out); }

private:
    std::FILE* m_out;
};

TEST(Log, LinesGoAboveTheLiveLine) {
    CapturedLog log(Verbosity::Normal);
    MarkingLine live(log.stream());
    set_live_line(&live);
    spdlog::info("one");
    set_live_line(nullptr);
    spdlog::info("two");
    EXPECT_EQ(log.text(), "<clear>bpfleet: one\n<live>bpfleet: two\n");
}

// Bytes that are not an ELF file: libbpf says why it cannot open them.
Result<bpf::OpenedObject> open_garbage() {
    auto bytes = std::make_shared<const std::vector<std::uint8_t>>(64, std::uint8_t{0x5a});
    return bpf::open_bpf_object(bytes, "garbage.bpf.o", nullptr);
}

TEST(Log, LibbpfMessagesOnlyAtDebug) {
    {
        CapturedLog log(Verbosity::Verbose);
        EXPECT_FALSE(open_garbage());
        EXPECT_EQ(log.text(), "");
    }
    CapturedLog log(Verbosity::Debug);
    EXPECT_FALSE(open_garbage());
    const std::string text = log.text();
    EXPECT_NE(text.find("bpfleet: libbpf: "), std::string::npos) << text;
    EXPECT_EQ(text.find("libbpf: libbpf"), std::string::npos) << text;
}

// A port on 127.0.0.1 that refuses connections (bound, never listening).
struct RefusingPort {
    RefusingPort() {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
            port = ntohs(a.sin_port);
        }
    }
    ~RefusingPort() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    RefusingPort(const RefusingPort&) = delete;
    RefusingPort& operator=(const RefusingPort&) = delete;
    int fd = -1;
    unsigned port = 0;
};

// What one failed libssh connection logs at `verbosity`.
std::string libssh_connect_log(Verbosity verbosity) {
    CapturedLog log(verbosity);
    RefusingPort refusing;
    EXPECT_NE(refusing.port, 0u);
    ssh_session session = ssh_new();
    EXPECT_NE(session, nullptr);
    int level = libssh_session_level();
    ssh_options_set(session, SSH_OPTIONS_LOG_VERBOSITY, &level);
    ssh_options_set(session, SSH_OPTIONS_HOST, "127.0.0.1");
    ssh_options_set(session, SSH_OPTIONS_PORT, &refusing.port);
    libssh_peer("root@127.0.0.1:" + std::to_string(refusing.port));
    EXPECT_NE(ssh_connect(session), SSH_OK);
    ssh_free(session);
    return log.text();
}

TEST(Log, LibsshMessagesOnlyAtDebugNamingTheHop) {
    EXPECT_EQ(libssh_connect_log(Verbosity::Verbose), "");
    const std::string text = libssh_connect_log(Verbosity::Debug);
    EXPECT_NE(text.find("bpfleet: libssh root@127.0.0.1:"), std::string::npos) << text;
    EXPECT_NE(text.find("ssh_connect: "), std::string::npos) << text;
}

} // namespace
} // namespace bpfleet::logging
