// Colour on a terminal: verdicts, statuses and error lines, the way people
// expect from git or ls. --color=auto (the default) colours only a terminal
// and never when NO_COLOR is set to anything but "" (no-color.org) or TERM is
// "dumb"; --color=always and --color=never are what they say, whatever the
// environment. Files in the output directory never get colour.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace bpfleet::logging {

enum class ColorMode { Auto, Always, Never };

// "auto", "always", "never" (also "yes"/"no" as git takes them).
std::optional<ColorMode> parse_color_mode(std::string_view text);
// The process-wide choice; --color sets it once, before anything is printed.
void set_color_mode(ColorMode mode);
[[nodiscard]] ColorMode color_mode();

// Whether text written to `out` is coloured under the current mode.
[[nodiscard]] bool color_enabled(std::FILE* out);

enum class Tone {
    Good,   // pass, ok
    Bad,    // fail, host trouble
    Alarm,  // error, miss: no verdict where one was wanted
    Notice, // skip, warnings
    Faint,  // "-", paths, details that are not the news
};

// `text` wrapped in the tone's SGR sequence when `enabled`, else unchanged.
// Colour the padded cell, not the word before padding: widths are counted on
// the plain text.
[[nodiscard]] std::string paint(std::string_view text, Tone tone, bool enabled);

} // namespace bpfleet::logging
