#include "bpf/libbpf_log.hpp"

#include "model/check_result.hpp"

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
    st.lines.push_back(readable_libbpf_line(line));
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

std::string readable_libbpf_line(std::string_view line) {
    constexpr std::string_view kMarker = "ERROR: strerror_r(-";
    std::string out;
    std::size_t from = 0;
    for (auto at = line.find(kMarker); at != std::string_view::npos;
         at = line.find(kMarker, from)) {
        const std::size_t digits = at + kMarker.size();
        std::size_t end = digits;
        while (end < line.size() && line[end] >= '0' && line[end] <= '9') {
            ++end;
        }
        const auto close = line.find(')', end);
        if (end == digits || end - digits > 6 || close != end) {
            break;
        }
        // ")=NN": strerror_r's own error, of no use to anyone.
        std::size_t tail = close + 1;
        if (tail < line.size() && line[tail] == '=') {
            ++tail;
            while (tail < line.size() && line[tail] >= '0' && line[tail] <= '9') {
                ++tail;
            }
        }
        const int errnum = std::stoi(std::string(line.substr(digits, end - digits)));
        out.append(line.substr(from, at - from));
        out += errno_name(errnum);
        if (errnum == 524) {
            out += " (the kernel's internal \"not supported\")";
        }
        from = tail;
    }
    out.append(line.substr(from));
    return out;
}

} // namespace bpfleet::bpf
