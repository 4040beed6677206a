#include "bpf/libbpf_log.hpp"

#include <bpf/libbpf.h>
#include <cstdarg>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace bpfleet::bpf {
namespace {

struct CaptureState {
    std::vector<std::string> lines;
    std::string partial;
    std::size_t bytes = 0;
    std::size_t max_lines = 0;
    std::size_t max_bytes = 0;
    bool dropped = false;
};

// The live capture's state (one at a time); g_active points into it.
std::optional<CaptureState> g_state;
CaptureState* g_active = nullptr;
LibbpfLogCapture::Sink g_sink = nullptr;

void push_line(CaptureState& st, std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.remove_suffix(1);
    }
    if (line.starts_with("libbpf: ")) {
        line.remove_prefix(8);
    }
    if (line.empty()) {
        return;
    }
    if (st.lines.size() >= st.max_lines || st.bytes + line.size() > st.max_bytes) {
        st.dropped = true;
        return;
    }
    st.bytes += line.size();
    st.lines.emplace_back(line);
}

void echo_to_stderr(std::string_view text) {
    std::fprintf(stderr, "%.*s", static_cast<int>(text.size()), text.data());
}

int print_callback(enum libbpf_print_level level, const char* format, va_list args) {
    char buf[4096];
    va_list copy;
    va_copy(copy, args);
    int n = std::vsnprintf(buf, sizeof buf, format, copy);
    va_end(copy);
    if (n < 0) {
        return 0;
    }
    std::string_view text(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
    if (g_sink) {
        g_sink(text);
    }
    if (!g_active || level == LIBBPF_DEBUG) {
        return 0;
    }
    CaptureState& st = *g_active;
    st.partial.append(text);
    std::size_t pos;
    while ((pos = st.partial.find('\n')) != std::string::npos) {
        push_line(st, std::string_view(st.partial).substr(0, pos));
        st.partial.erase(0, pos + 1);
    }
    return 0;
}

} // namespace

LibbpfLogCapture::LibbpfLogCapture(std::size_t max_lines, std::size_t max_bytes) {
    if (g_active) {
        throw std::logic_error("nested LibbpfLogCapture");
    }
    g_active = &g_state.emplace(CaptureState{{}, {}, 0, max_lines, max_bytes, false});
    libbpf_set_print(print_callback);
}

LibbpfLogCapture::~LibbpfLogCapture() {
    g_active = nullptr;
    g_state.reset();
}

std::vector<std::string> LibbpfLogCapture::take() {
    CaptureState& st = *g_active;
    if (!st.partial.empty()) {
        push_line(st, st.partial);
        st.partial.clear();
    }
    if (st.dropped) {
        st.lines.emplace_back("(further libbpf messages dropped)");
    }
    std::vector<std::string> out = std::move(st.lines);
    st.lines.clear();
    st.bytes = 0;
    st.dropped = false;
    return out;
}

void LibbpfLogCapture::set_echo(bool echo) {
    set_sink(echo ? echo_to_stderr : nullptr);
}

void LibbpfLogCapture::set_sink(Sink sink) {
    g_sink = sink;
    libbpf_set_print(print_callback);
}

} // namespace bpfleet::bpf
