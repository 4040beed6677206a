#include "logging/log.hpp"

#include "bpf/libbpf_log.hpp"
#include "logging/color.hpp"
#include "logging/terminal_text.hpp"

#include <atomic>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <memory>
#include <mutex>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <string>

namespace bpfleet::logging {
namespace {

std::atomic<Verbosity> g_verbosity{Verbosity::Normal};
std::atomic<LiveLine*> g_live_line{nullptr};

// stderr (or the given stream), above the live line when there is one.
class LineSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit LineSink(std::FILE* out) : m_out(out) {}

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        spdlog::memory_buf_t formatted;
        formatter_->format(msg, formatted);
        // Messages carry text from hosts (banners, errors): no byte of it
        // may drive the terminal (terminal_text.hpp). The line's own end stays.
        std::string_view body(formatted.data(), formatted.size());
        const bool eol = !body.empty() && body.back() == '\n';
        if (eol) {
            body.remove_suffix(1);
        }
        std::string text = terminal_safe(body);
        // Colour goes on after the text is made safe: these are our own escapes.
        if (msg.level >= spdlog::level::warn && color_enabled(m_out)) {
            text = paint(text, msg.level == spdlog::level::warn ? Tone::Notice : Tone::Bad, true);
        }
        if (eol) {
            text += '\n';
        }
        LiveLine* live = g_live_line.load();
        if (live) {
            live->clear_line();
        }
        std::fwrite(text.data(), 1, text.size(), m_out);
        std::fflush(m_out);
        if (live) {
            live->redraw_line();
        }
    }
    void flush_() override { std::fflush(m_out); }

private:
    std::FILE* m_out;
};

spdlog::level::level_enum level_for(Verbosity verbosity) {
    switch (verbosity) {
    case Verbosity::Quiet:
        return spdlog::level::warn;
    case Verbosity::Normal:
        return spdlog::level::info;
    case Verbosity::Verbose:
        return spdlog::level::debug;
    case Verbosity::Debug:
        break;
    }
    return spdlog::level::trace;
}

// libbpf hands over pieces of lines; the log gets whole ones.
void libbpf_to_log(std::string_view text) {
    thread_local std::string partial;
    partial.append(text);
    for (auto end = partial.find('\n'); end != std::string::npos; end = partial.find('\n')) {
        std::string_view line(partial.data(), end);
        if (line.starts_with("libbpf: ")) {
            line.remove_prefix(8);
        }
        if (!line.empty()) {
            spdlog::trace("libbpf: {}", line);
        }
        partial.erase(0, end + 1);
    }
    if (partial.size() > 4096) { // a line that never ends is still shown
        spdlog::trace("libbpf: {}", partial);
        partial.clear();
    }
}

thread_local std::string t_libssh_peer;

// `buffer` is "function: message" (libssh puts the function in front).
void libssh_to_log(int /*priority*/, const char* /*function*/, const char* buffer,
                   void* /*userdata*/) {
    if (t_libssh_peer.empty()) {
        spdlog::trace("libssh: {}", buffer);
    } else {
        spdlog::trace("libssh {}: {}", t_libssh_peer, buffer);
    }
}

} // namespace

Verbosity verbosity_of(bool quiet, int verbose_count) {
    if (quiet) {
        return Verbosity::Quiet;
    }
    if (verbose_count >= 2) {
        return Verbosity::Debug;
    }
    return verbose_count == 1 ? Verbosity::Verbose : Verbosity::Normal;
}

void init(Verbosity verbosity, std::FILE* out) {
    g_verbosity = verbosity;
    auto logger = std::make_shared<spdlog::logger>("bpfleet", std::make_shared<LineSink>(out));
    logger->set_pattern("bpfleet: %v");
    logger->set_level(level_for(verbosity));
    spdlog::set_default_logger(std::move(logger));
    bpf::LibbpfLogCapture::set_sink(verbosity == Verbosity::Debug ? libbpf_to_log : nullptr);
}

Verbosity verbosity() {
    return g_verbosity;
}

void set_live_line(LiveLine* line) {
    g_live_line = line;
}

int libssh_session_level() {
    if (g_verbosity != Verbosity::Debug) {
        return SSH_LOG_NOLOG;
    }
    ssh_set_log_callback(libssh_to_log);
    return SSH_LOG_PROTOCOL;
}

void libssh_peer(std::string_view peer) {
    if (g_verbosity == Verbosity::Debug && t_libssh_peer != peer) {
        t_libssh_peer.assign(peer);
    }
}

} // namespace bpfleet::logging
