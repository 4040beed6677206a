#include "report/merge.hpp"

#include "inventory/inventory.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace bpfleet::report {
namespace {

Error refused(const std::string& file, const std::string& why) {
    return Error{"usage", 0, why, file};
}

} // namespace

Result<RunReport> merge_reports(const std::vector<ShardReport>& shards) {
    if (shards.empty()) {
        return make_error("usage", "no report to merge");
    }
    const ShardReport& first = shards.front();
    RunReport merged = first.report;
    merged.hosts.clear();
    merged.baseline.reset();
    merged.run.shard.clear();
    std::map<std::string, std::string> host_file;
    std::map<std::size_t, std::string> shard_file;
    std::size_t shard_count = 0;
    for (const auto& s : shards) {
        const RunReport& r = s.report;
        if (const std::string diff = identity_difference(first.report.run.identity, r.run.identity);
            !diff.empty()) {
            return tl::unexpected(
                refused(s.file, "not a shard of the same run as " + first.file + ": " + diff));
        }
        if (r.artifacts != first.report.artifacts) {
            return tl::unexpected(
                refused(s.file, "not a shard of the same run as " + first.file +
                                    ": its -a artifacts differ (or come in another order)"));
        }
        if (!r.run.shard.empty()) {
            auto spec = inventory::parse_shard(r.run.shard);
            if (!spec) {
                return tl::unexpected(
                    refused(s.file, "run.shard '" + r.run.shard + "' is not I/N"));
            }
            if (shard_count != 0 && spec->count != shard_count) {
                return tl::unexpected(refused(
                    s.file, "shard " + r.run.shard + " is of " + std::to_string(spec->count) +
                                " shards, the others of " + std::to_string(shard_count)));
            }
            shard_count = spec->count;
            if (auto [it, fresh] = shard_file.emplace(spec->index, s.file); !fresh) {
                return tl::unexpected(refused(s.file, "shard " + r.run.shard + " again: " +
                                                          it->second + " is that shard too"));
            }
        }
        for (const auto& h : r.hosts) {
            if (auto [it, fresh] = host_file.emplace(h.name, s.file); !fresh) {
                return tl::unexpected(refused(
                    s.file, "host '" + h.name + "' is also in " + it->second +
                                ": the shards overlap (merge the reports of one run's --shard "
                                "I/N jobs, each once)"));
            }
            merged.hosts.push_back(h);
        }
        merged.started = std::min(merged.started, r.started);
        merged.finished = std::max(merged.finished, r.finished);
        merged.duration_ms = std::max(merged.duration_ms, r.duration_ms);
        if (merged.cancelled.empty()) {
            merged.cancelled = r.cancelled;
        }
        const bool same_expectations = merged.expectations && r.expectations &&
                                       merged.expectations->sha256 == r.expectations->sha256;
        if (&s != &first) {
            if (same_expectations) {
                merged.expectations->results.insert(merged.expectations->results.end(),
                                                    r.expectations->results.begin(),
                                                    r.expectations->results.end());
            } else {
                merged.expectations.reset();
            }
        }
    }
    std::sort(merged.hosts.begin(), merged.hosts.end(),
              [](const HostResult& a, const HostResult& b) { return a.name < b.name; });
    return merged;
}

std::string missing_shards(const std::vector<ShardReport>& shards) {
    std::set<std::size_t> seen;
    std::size_t count = 0;
    for (const auto& s : shards) {
        if (auto spec = inventory::parse_shard(s.report.run.shard)) {
            seen.insert(spec->index);
            count = spec->count;
        }
    }
    std::string out;
    for (std::size_t i = 1; i <= count; ++i) {
        if (seen.count(i) == 0) {
            out += (out.empty() ? "" : ", ") + std::to_string(i) + "/" + std::to_string(count);
        }
    }
    return out;
}

} // namespace bpfleet::report
