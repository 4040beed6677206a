// How deeply a JSON text nests, looked at before it is parsed: nlohmann's
// serialiser and ordered_json's copies recurse once per level, so a document
// from an untrusted source (a registry, a host's agent) that nests thousands of
// levels deep would overflow the stack long after the parse succeeded.
#pragma once

#include <cstddef>
#include <string_view>

namespace bpfleet {

// True when no object or array in `text` is nested more than `limit` levels
// deep (brackets inside strings do not count). Says nothing about validity.
bool json_depth_within(std::string_view text, int limit);

// True when `text` holds at most `limit` JSON values (counted from the
// separators and brackets outside strings, an upper bound). A parsed value
// costs tens of bytes however short its text: 60 MB of "0,0,0,..." is 30
// million values and gigabytes once parsed, so untrusted text is counted
// before it is parsed.
bool json_values_within(std::string_view text, std::size_t limit);

} // namespace bpfleet
