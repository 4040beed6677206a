#include "report/journal.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
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

std::string journal_header(const RunIdentity& identity) {
    return Json{{"schema", kJournalSchema}, {"run", Json(identity)}}.dump() + "\n";
}

Result<Journal> Journal::create(const OutputDir& out, const RunIdentity& identity,
                                const std::vector<HostResult>& hosts) {
    std::string text = journal_header(identity);
    for (const auto& h : hosts) {
        text += Json(h).dump() + "\n";
    }
    TRY(out.write_file(kJournalName, text));
    TRY_ASSIGN(Fd fd, out.open_append(kJournalName));
    return Journal(std::move(fd));
}

Result<void> Journal::append(const HostResult& host) {
    TRY(write_all(m_fd.get(), Json(host).dump() + "\n", "journal"));
    if (fsync(m_fd.get()) != 0) {
        return make_error("io", std::string("fsync: ") + std::strerror(errno), errno, "journal");
    }
    return {};
}

namespace {

Result<JournalContents> parse_journal(const std::string& text, const std::filesystem::path& shown) {
    auto at_line = [&](int number) { return shown.string() + ":" + std::to_string(number); };
    JournalContents out;
    std::size_t pos = 0;
    int number = 0;
    bool header = false;
    while (pos < text.size()) {
        ++number;
        const std::size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) {
            out.torn_line = number; // cut by a kill mid-write: that host runs again
            break;
        }
        const std::string_view line(text.data() + pos, nl - pos);
        pos = nl + 1;
        if (!header) {
            try {
                const Json j = Json::parse(line);
                if (!j.is_object() || j.value("schema", std::string()) != kJournalSchema) {
                    throw std::invalid_argument("no \"schema\": \"" + std::string(kJournalSchema) +
                                                "\"");
                }
                out.identity = j.at("run").get<RunIdentity>();
            } catch (const std::exception& e) {
                return make_error("usage",
                                  "not a bpfleet journal (its first line must be the run's "
                                  "header, " +
                                      std::string(kJournalSchema) + "): " + e.what(),
                                  0, at_line(number));
            }
            header = true;
            out.complete_bytes = pos;
            continue;
        }
        if (!line.empty()) {
            auto host = parse_host_result(line);
            if (!host) {
                return make_error("usage", host.error().message, 0, at_line(number));
            }
            out.hosts[host->name] = std::move(*host);
        }
        out.complete_bytes = pos;
    }
    if (!header) {
        return make_error(
            "usage", "not a bpfleet journal: no header line (" + std::string(kJournalSchema) + ")",
            0, shown.string());
    }
    return out;
}

} // namespace

Result<JournalContents> read_journal(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return make_error("usage", "cannot read the journal", errno, path.string());
    }
    const std::string text(std::istreambuf_iterator<char>(in), {});
    return parse_journal(text, path);
}

Result<JournalContents> read_journal(const Fd& fd, const std::filesystem::path& shown) {
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
    return parse_journal(text, shown);
}

} // namespace bpfleet::report
