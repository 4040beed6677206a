// bpfleet report merge: the reports of the shards of one run (--shard I/N on
// N CI jobs) joined into the run's report, as if one job had run every host.
// Pure: reading and writing the files is the command's.
#pragma once

#include "common/result.hpp"
#include "model/run_report.hpp"

#include <string>
#include <vector>

namespace bpfleet::report {

struct ShardReport {
    std::string file; // as given, for messages
    RunReport report;
};

// The run's report: every shard's hosts (sorted by name, as --shard deals
// them out), started at the first shard's start and finished at the last
// one's end, cancelled when a shard was; the run's identity and id are the
// first shard's, `shard` is "". Expectations are kept when every shard was
// judged by the same file; a baseline diff is dropped (run `report diff` on
// the merged report).
// Errors (code "usage", naming the file): no report; two reports that are not
// shards of one run (other artifacts or digests, options, inventory, mode:
// identity_difference()); a host in two reports; two reports of the same
// shard, or of different shard counts.
Result<RunReport> merge_reports(const std::vector<ShardReport>& shards);

// The shards a set of reports lacks ("2/4, 4/4"), "" when none or unknown.
std::string missing_shards(const std::vector<ShardReport>& shards);

} // namespace bpfleet::report
