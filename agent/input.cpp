#include "input.hpp"

#include "bpf/elf_inspect.hpp"
#include "common/fd.hpp"
#include "common/subprocess.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bpfleet::agent {
namespace {

std::string human_size(std::uint64_t bytes) {
    if (bytes >= (1ULL << 20)) {
        return std::to_string(bytes >> 20) + " MiB";
    }
    return std::to_string(bytes) + " bytes";
}

} // namespace

Result<ObjectBytes> read_object(const std::string& path, std::uint64_t max_size) {
    const bool from_stdin = path == "-";
    const std::string what = from_stdin ? std::string("standard input") : "'" + path + "'";
    const Fd file(from_stdin ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0)
                             : open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!file) {
        int err = errno;
        return make_error("OBJECT_INVALID", "cannot open " + what + ": " + std::strerror(err), err);
    }
    struct stat st {};
    if (fstat(file.get(), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            return make_error("OBJECT_INVALID", what + " is a directory, not a BPF object");
        }
        if (S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > max_size) {
            return make_error("OBJECT_INVALID", what + " is " + std::to_string(st.st_size) +
                                                    " bytes, over the " + human_size(max_size) +
                                                    " limit for a BPF object (--max-object-size)");
        }
    }
    auto data = std::make_shared<std::vector<std::uint8_t>>();
    std::uint8_t chunk[64 << 10];
    for (;;) {
        ssize_t n = read(file.get(), chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int err = errno;
            return make_error("OBJECT_INVALID", "cannot read " + what + ": " + std::strerror(err),
                              err);
        }
        if (n == 0) {
            break;
        }
        if (data->size() + static_cast<std::size_t>(n) > max_size) {
            return make_error("OBJECT_INVALID", what + " is over the " + human_size(max_size) +
                                                    " limit for a BPF object (--max-object-size)");
        }
        data->insert(data->end(), chunk, chunk + n);
    }
    return ObjectBytes(std::move(data));
}

Result<void> parse_in_child(const ObjectBytes& bytes, const std::string& name,
                            unsigned timeout_seconds) {
    // The child says "ok" or "E" and the error on its stdout, a pipe.
    auto child = Process::fork_call(
        [&] {
            alarm(timeout_seconds);
            auto facts = bpf::inspect_object(bytes, name);
            const std::string msg = facts ? std::string("ok") : "E" + facts.error().message;
            (void)!write(STDOUT_FILENO, msg.data(), msg.size());
            return 0;
        },
        {.in = Stdio::null(), .out = Stdio::pipe()});
    if (!child) {
        return {}; // cannot isolate; the in-process checks still run
    }
    std::string reply;
    {
        const Fd out = child->take_stdout();
        char buf[4096];
        ssize_t n;
        while ((n = read(out.get(), buf, sizeof buf)) != 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                break;
            }
            reply.append(buf, static_cast<std::size_t>(n));
        }
    }
    const ExitStatus status = child->wait();
    if (status.signaled()) {
        const int sig = status.signal();
        if (sig == SIGALRM) {
            return make_error("OBJECT_INVALID", "parsing the object took longer than " +
                                                    std::to_string(timeout_seconds) +
                                                    " s; refusing it");
        }
        return make_error("OBJECT_INVALID",
                          std::string("libbpf crashed parsing the object (signal ") +
                              strsignal(sig) + "): the file is malformed");
    }
    if (reply.starts_with("E")) {
        return make_error("OBJECT_INVALID", reply.substr(1));
    }
    return {};
}

} // namespace bpfleet::agent
