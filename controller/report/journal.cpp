#include "report/journal.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace bpfleet::report {
namespace {

Result<void> write_all(int fd, const std::string& text, const std::string& what) {
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return make_error("io", std::string("write: ") + std::strerror(errno), errno, what);
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

} // namespace

Result<void> Journal::append(const HostResult& host) {
    TRY(write_all(m_fd.get(), Json(host).dump() + "\n", "journal"));
    if (fsync(m_fd.get()) != 0) {
        return make_error("io", std::string("fsync: ") + std::strerror(errno), errno, "journal");
    }
    return {};
}

namespace {

Result<std::map<std::string, HostResult>> parse_journal(std::istream& in,
                                                        const std::filesystem::path& shown) {
    std::map<std::string, HostResult> hosts;
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty()) {
            continue;
        }
        auto host = parse_host_result(line);
        if (!host) {
            if (in.peek() == std::char_traits<char>::eof()) {
                break; // the last line was cut by a kill: that host runs again
            }
            return make_error("usage", host.error().message, 0,
                              shown.string() + ":" + std::to_string(number));
        }
        hosts[host->name] = std::move(*host);
    }
    return hosts;
}

} // namespace

Result<std::map<std::string, HostResult>> read_journal(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) {
        return make_error("usage", "cannot read the journal", errno, path.string());
    }
    return parse_journal(in, path);
}

Result<std::map<std::string, HostResult>> read_journal(const Fd& fd,
                                                       const std::filesystem::path& shown) {
    std::string text;
    char buffer[65536];
    for (off_t offset = 0;;) {
        ssize_t n = pread(fd.get(), buffer, sizeof buffer, offset);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return make_error("usage",
                              std::string("cannot read the journal: ") + std::strerror(errno),
                              errno, shown.string());
        }
        if (n == 0) {
            break;
        }
        text.append(buffer, static_cast<std::size_t>(n));
        offset += n;
    }
    std::istringstream in(text);
    return parse_journal(in, shown);
}

} // namespace bpfleet::report
