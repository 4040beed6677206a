// "Did you mean": the closest of a list of known words to a mistyped one, for
// error messages about unknown flags, subcommands, hosts and groups.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bpfleet {

// Levenshtein distance (insertions, deletions, substitutions; a swap of two
// neighbours counts as one), for words up to a few hundred characters.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, if it is near enough to be a typo of it:
// at most 1 edit for words of up to 4 characters, 2 up to 8, 3 beyond. Ties
// go to the earlier candidate.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

// " (did you mean 'X'?)" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

} // namespace bpfleet
