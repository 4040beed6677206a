#include "logging/color.hpp"

#include <atomic>
#include <cstdlib>
#include <unistd.h>

namespace bpfleet::logging {
namespace {

std::atomic<ColorMode> g_mode{ColorMode::Auto};

bool env_set(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0';
}

std::string_view sgr(Tone tone) {
    switch (tone) {
    case Tone::Good:
        return "\033[32m"; // green
    case Tone::Bad:
        return "\033[31m"; // red
    case Tone::Alarm:
        return "\033[1;31m"; // bold red
    case Tone::Notice:
        return "\033[33m"; // yellow
    case Tone::Faint:
        break;
    }
    return "\033[2m"; // dim
}

} // namespace

std::optional<ColorMode> parse_color_mode(std::string_view text) {
    if (text == "auto") {
        return ColorMode::Auto;
    }
    if (text == "always" || text == "yes") {
        return ColorMode::Always;
    }
    if (text == "never" || text == "no") {
        return ColorMode::Never;
    }
    return std::nullopt;
}

void set_color_mode(ColorMode mode) {
    g_mode = mode;
}

ColorMode color_mode() {
    return g_mode;
}

bool color_enabled(std::FILE* out) {
    switch (g_mode.load()) {
    case ColorMode::Always:
        return true;
    case ColorMode::Never:
        return false;
    case ColorMode::Auto:
        break;
    }
    if (out == nullptr || env_set("NO_COLOR")) {
        return false;
    }
    const char* term = std::getenv("TERM");
    if (term != nullptr && std::string_view(term) == "dumb") {
        return false;
    }
    const int fd = ::fileno(out);
    return fd >= 0 && ::isatty(fd) == 1;
}

std::string paint(std::string_view text, Tone tone, bool enabled) {
    if (!enabled || text.empty()) {
        return std::string(text);
    }
    std::string out(sgr(tone));
    out.append(text);
    out.append("\033[0m");
    return out;
}

} // namespace bpfleet::logging
