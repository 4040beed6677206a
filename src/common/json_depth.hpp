// How deeply a JSON text nests, looked at before it is parsed: nlohmann's
// serialiser and ordered_json's copies recurse once per level, so a document
// from an untrusted source (a registry, a host's agent) that nests thousands of
// levels deep would overflow the stack long after the parse succeeded.
#pragma once

#include <string_view>

namespace bpfleet {

// True when no object or array in `text` is nested more than `limit` levels
// deep (brackets inside strings do not count). Says nothing about validity.
bool json_depth_within(std::string_view text, int limit);

} // namespace bpfleet
