// terminal_text: text from hosts made harmless before it reaches a terminal.
//
// Host answers (errors, agent stderr, object and program names, kernel and
// OS names, verifier evidence) are written by whoever controls the host. Raw
// on a terminal, `ESC]0;...BEL` retitles the window, `ESC[2K ESC[1A` erases
// and climbs lines, `ESC[31m` fakes a colour: a compromised host could print
// "all hosts ok" over its own failure. Every byte that could drive a
// terminal is shown as a visible escape instead.
#pragma once

#include <string>
#include <string_view>

namespace bpfleet::logging {

// `text` with every C0 control (and DEL) as "\xNN" ("\t" and "\n" too: one
// message is one line), every C1 control (U+0080..U+009F, which some
// terminals take as ESC [ and friends) as "\u00NN", and every byte that is not
// part of valid UTF-8 as "\xNN". Printable ASCII and valid UTF-8 are kept.
std::string terminal_safe(std::string_view text);

// The same, keeping "\n" (for multi-line text such as a table).
std::string terminal_safe_lines(std::string_view text);

} // namespace bpfleet::logging
