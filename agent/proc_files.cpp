#include "proc_files.hpp"

#include "common/fd.hpp"
#include "model/check_result.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bpfleet::agent {

void Unreadable::note(const std::string& path, int errnum) {
    for (auto& [p, name] : m_paths) {
        if (p == path) {
            name = errno_name(errnum);
            return;
        }
    }
    m_paths.emplace_back(path, errno_name(errnum));
}

std::optional<std::string> read_file(const std::string& path, Unreadable* unreadable,
                                     std::size_t max) {
    const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        if (unreadable) {
            unreadable->note(path, errno);
        }
        return std::nullopt;
    }
    std::string out;
    char buf[4096];
    while (out.size() < max) {
        ssize_t n = ::read(fd.get(), buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (unreadable) {
                unreadable->note(path, errno);
            }
            return std::nullopt;
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    if (out.size() > max) {
        out.resize(max);
    }
    return out;
}

std::string trim(std::string s) {
    const char* ws = " \t\r\n";
    // Device-tree strings end in NUL; treat it as trailing whitespace.
    while (!s.empty() && (s.back() == '\0' || std::strchr(ws, s.back()))) {
        s.pop_back();
    }
    std::size_t start = s.find_first_not_of(ws);
    return start == std::string::npos ? std::string() : s.substr(start);
}

std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find(sep, start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        if (end > start) {
            parts.emplace_back(text.substr(start, end - start));
        }
        start = end + 1;
    }
    return parts;
}

bool path_exists(const char* path) {
    struct stat st {};
    return ::stat(path, &st) == 0;
}

int pmu_type(const char* name) {
    std::string path = std::string("/sys/bus/event_source/devices/") + name + "/type";
    auto text = read_file(path, nullptr);
    if (!text) {
        return -errno;
    }
    return std::atoi(text->c_str());
}

} // namespace bpfleet::agent
