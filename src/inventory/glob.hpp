// Shell-style glob matching, as used by --limit selectors and by ssh_config
// Host patterns: '*' matches any run of characters (the empty one too), '?'
// exactly one character, anything else itself. There are no character classes
// and no escapes: neither OpenSSH patterns nor host names need them.
// Pure functions; thread-safe.
#pragma once

#include <string_view>

namespace bpfleet::inventory {

// True when `text` matches `pattern` as a whole. Case-sensitive; callers that
// want ssh's case-insensitive host matching lower-case both sides first.
bool glob_match(std::string_view pattern, std::string_view text);

// True when `text` contains '*' or '?'.
bool has_glob(std::string_view text);

} // namespace bpfleet::inventory
