// The run's results as text for a terminal of a given width, readable at
// fleet scale: the grouped table (one row per program and result, the hosts
// that share it collapsed into a count and a list) and the hosts × programs
// matrix. Pure functions of the report; the TableWriter prints them.
#pragma once

#include "model/run_report.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace bpfleet::report {

// OBJECT PROGRAM LOAD ATTACH FIRED CODE HOSTS: hosts with identical results
// for a program share one row ("2/5  rpi4-01, rpi5-01", "39/50  all but 11",
// "9/50  rpi4-02, … +8"); a failing row
// is followed by its evidence, hint and verifier log path. Then host
// trouble and `miss` pairs, grouped the same way. From 80 columns on, no
// line of the table itself is wider than `width` (hint and log lines are
// kept whole: a path must stay usable).
std::string fleet_table_text(const RunReport& report, std::size_t width);

// One row per host (HOST KERNEL ARCH, then one mark per program: pass,
// FAIL, ERR, skip, miss, or - when the host has no such program); programs
// are named in the header when they fit, else numbered with a legend below.
std::string matrix_text(const RunReport& report, std::size_t width);

// Columns a terminal gives `text` (UTF-8 continuation bytes take none).
std::size_t display_width(std::string_view text);

// `text` cut to `width` columns, ending in "…" when it was cut.
std::string fit(std::string_view text, std::size_t width);

} // namespace bpfleet::report
