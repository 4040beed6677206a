// `check --format table`: a check report as a per-program table for a person.
#pragma once

#include "model/check_result.hpp"

#include <string>

namespace bpfleet::agent {

std::string render_table(const CheckReport& report);

} // namespace bpfleet::agent
