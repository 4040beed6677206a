// Reading what a `bpfleet run` left, as JSON, for tests that run the CLI as a
// subprocess: report.json, journal.jsonl, and the hosts, checks and verdicts
// in them. Lenient on purpose: a missing file or field gives null, an empty
// set or "" so that the test's own assertion says what was wrong.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace bpfleet::test {

using Json = nlohmann::json;
using Names = std::set<std::string>;

// The whole file ("" when it cannot be read).
inline std::string file_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary | std::ios::ate);
    if (!in) {
        return {};
    }
    std::string text(static_cast<std::size_t>(in.tellg()), '\0');
    in.seekg(0);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    return text;
}

// The file as JSON; null when missing or not JSON (tests assert on that).
inline Json read_json(const std::filesystem::path& p) {
    return Json::parse(file_text(p), nullptr, /*allow_exceptions=*/false);
}

// The complete host lines of a journal (the header line and a line still
// being written are left out).
inline std::vector<Json> read_journal(const std::filesystem::path& p) {
    const std::string text = file_text(p);
    std::vector<Json> out;
    std::size_t pos = 0;
    for (auto end = text.find('\n'); end != std::string::npos;
         pos = end + 1, end = text.find('\n', pos)) {
        Json line = Json::parse(text.substr(pos, end - pos), nullptr, false);
        if (pos == 0 && line.is_object() && line.contains("schema")) {
            continue; // the run's header
        }
        out.push_back(std::move(line));
    }
    return out;
}

// j[key] when it is a string, else "".
inline std::string str(const Json& j, const char* key) {
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                  : std::string{};
}

// j[key] when it is an integer, else `fallback`.
inline long num(const Json& j, const char* key, long fallback = -1) {
    return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<long>()
                                                                          : fallback;
}

inline Names names_of(const std::vector<Json>& hosts) {
    Names names;
    for (const auto& h : hosts) {
        if (h.is_object() && h.contains("name") && h["name"].is_string()) {
            names.insert(h["name"].get<std::string>());
        }
    }
    return names;
}

// report["hosts"], or an empty array.
inline Json hosts_of(const Json& report) {
    return report.is_object() && report.contains("hosts") && report["hosts"].is_array()
               ? report["hosts"]
               : Json::array();
}

inline Names host_names(const Json& report) {
    return names_of(hosts_of(report).get<std::vector<Json>>());
}

// The host called `name` in the report, or nullptr.
inline const Json* find_host(const Json& report, const std::string& name) {
    if (!report.is_object() || !report.contains("hosts") || !report["hosts"].is_array()) {
        return nullptr;
    }
    for (const auto& h : report["hosts"]) {
        if (str(h, "name") == name) {
            return &h;
        }
    }
    return nullptr;
}

// One line per host (name status stage: error), for failure messages.
inline std::string hosts_summary(const Json& report) {
    if (!report.is_object() || !report.contains("hosts")) {
        return "(no report.json or no hosts in it)";
    }
    std::string out;
    for (const auto& h : report["hosts"]) {
        out += "  " + str(h, "name") + " " + str(h, "status") + " [" + str(h, "stage") + "] " +
               str(h, "error") + "\n";
    }
    return out;
}

// The check of the object whose artifact or object name ends with `name`.
inline const Json* find_check(const Json& host, const std::string& name) {
    if (!host.contains("checks") || !host["checks"].is_array()) {
        return nullptr;
    }
    auto ends_with = [&](const std::string& s) {
        return s.size() >= name.size() && s.compare(s.size() - name.size(), name.size(), name) == 0;
    };
    for (const auto& c : host["checks"]) {
        if (ends_with(str(c, "object")) || ends_with(str(c, "artifact"))) {
            return &c;
        }
    }
    return nullptr;
}

// program name -> load verdict, of one check.
inline std::map<std::string, std::string> load_verdicts(const Json& check) {
    std::map<std::string, std::string> out;
    if (!check.contains("report") || !check["report"].contains("programs")) {
        return out;
    }
    for (const auto& p : check["report"]["programs"]) {
        out[str(p, "name")] = p.contains("load") ? str(p["load"], "verdict") : std::string{};
    }
    return out;
}

} // namespace bpfleet::test

// `const Json* var`: the host `name` of report `rep`, failing the test (with
// the hosts and `result.describe()`, the run's output) when the report lacks it.
#define FIND_HOST(var, rep, name, result)                                                          \
    const Json* var = ::bpfleet::test::find_host(rep, name);                                       \
    ASSERT_NE(var, nullptr) << ::bpfleet::test::hosts_summary(rep) << (result).describe()
