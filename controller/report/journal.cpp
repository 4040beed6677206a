#include "report/journal.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
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

Result<Journal> Journal::open(const std::filesystem::path& path) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!fd) {
        return make_error("io", std::string("cannot open the journal: ") + std::strerror(errno),
                          errno, path.string());
    }
    return Journal(std::move(fd));
}

Result<void> Journal::append(const HostResult& host) {
    TRY(write_all(m_fd.get(), Json(host).dump() + "\n", "journal"));
    if (fsync(m_fd.get()) != 0) {
        return make_error("io", std::string("fsync: ") + std::strerror(errno), errno, "journal");
    }
    return {};
}

Result<std::map<std::string, HostResult>> read_journal(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) {
        return make_error("usage", "cannot read the journal", errno, path.string());
    }
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
                              path.string() + ":" + std::to_string(number));
        }
        hosts[host->name] = std::move(*host);
    }
    return hosts;
}

Result<void> write_file_atomic(const std::filesystem::path& path, const std::string& text) {
    auto tmp = path;
    tmp += ".tmp." + std::to_string(getpid());
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) {
        return make_error("io", std::string("cannot write: ") + std::strerror(errno), errno,
                          tmp.string());
    }
    auto written = write_all(fd.get(), text, path.string());
    bool synced = fsync(fd.get()) == 0;
    fd.reset();
    if (!written || !synced || rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        unlink(tmp.c_str());
        return make_error("io", std::string("cannot write: ") + std::strerror(err), err,
                          path.string());
    }
    return {};
}

} // namespace bpfleet::report
