// Getting an object into the agent: reading it within a size limit, and a
// first parse in a throwaway child so that a libbpf crash or hang on hostile
// bytes becomes an OBJECT_INVALID error instead of taking the agent down.
#pragma once

#include "bpf/object.hpp"
#include "common/result.hpp"

#include <cstdint>
#include <string>

namespace bpfleet::agent {

// Reads an object from PATH, or stdin for "-", refusing more than max_size bytes.
Result<ObjectBytes> read_object(const std::string& path, std::uint64_t max_size);

// Opens the object with libbpf in a child process first, so that a parser
// crash or hang on hostile input becomes an OBJECT_INVALID error here.
Result<void> parse_in_child(const ObjectBytes& bytes, const std::string& name,
                            unsigned timeout_seconds);

} // namespace bpfleet::agent
