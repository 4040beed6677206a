// JsonFields: strict reading of one JSON object that came from somewhere
// untrusted (a host's agent, the check process, a journal), for the typed
// parsers of the wire messages and of the probe document.
//
// Every accessor names the member it reads by its full path
// ("facts.kernel.release"), checks its type and its size, and on the first
// problem records an Error and from then on returns defaults: a parser reads
// every field it wants straight through and asks `problem()` once at the end,
// without exceptions and without a TRY per field. The first problem is the one
// reported ("facts.kernel.release: expected a string or null, got a number").
//
// Members the reader was not asked about are not errors: `unknown_members()`
// returns them, for types that keep what a newer peer sent (HostFacts).
//
// A JsonFields refers to the Json and to the shared problem slot it was made
// with; both must outlive it. Not thread-safe.
#pragma once

#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bpfleet {

using Json = nlohmann::ordered_json;

// Bounds for one string and one array or object of untrusted JSON.
inline constexpr std::size_t kMaxFieldString = 256u << 10;
inline constexpr std::size_t kMaxFieldItems = 1u << 16;

// A name/value list that keeps the order the values were made or received in
// (the probe document's maps: program types in libbpf's order, unreadable
// paths in the order they were tried).
template <typename T> using NamedList = std::vector<std::pair<std::string, T>>;

template <typename T> const T* find_named(const NamedList<T>& list, std::string_view name) {
    for (const auto& [key, value] : list) {
        if (key == name) {
            return &value;
        }
    }
    return nullptr;
}

// True when `value` nests no deeper than `limit` levels of objects and arrays
// (a scalar is depth 0). Recurses at most `limit` + 1 levels.
bool json_depth_at_most(const Json& value, int limit);

// The JSON type of `value` for a message: "a string", "a number", "null", ...
std::string json_type_name(const Json& value);

class JsonFields {
public:
    // Reads `value`, which must be an object (else a problem is recorded at
    // once), named `path` in messages; problems get the error code `code`.
    static JsonFields root(const Json& value, std::string path, std::string code = "protocol");

    // Required members: a missing member or a wrong type is a problem.
    std::string string(std::string_view key, std::size_t max = kMaxFieldString);
    bool boolean(std::string_view key);
    std::int64_t integer(std::string_view key);
    std::uint64_t unsigned_integer(std::string_view key);
    std::vector<std::string> strings(std::string_view key, std::size_t max_items = kMaxFieldItems,
                                     std::size_t max_length = kMaxFieldString);
    // An object member; on a problem the returned reader reads an empty object.
    JsonFields object(std::string_view key);

    // Required members whose value may be null (nullopt).
    std::optional<std::string> string_or_null(std::string_view key,
                                              std::size_t max = kMaxFieldString);
    std::optional<bool> boolean_or_null(std::string_view key);
    std::optional<std::int64_t> integer_or_null(std::string_view key);
    std::optional<std::vector<std::string>>
    strings_or_null(std::string_view key, std::size_t max_items = kMaxFieldItems,
                    std::size_t max_length = kMaxFieldString);
    std::optional<JsonFields> object_or_null(std::string_view key);

    // Optional members: absent is fine (and nullopt), present must be right.
    [[nodiscard]] bool has(std::string_view key) const;
    std::optional<std::string> optional_string(std::string_view key,
                                               std::size_t max = kMaxFieldString);
    std::optional<std::int64_t> optional_integer(std::string_view key);
    std::optional<bool> optional_boolean(std::string_view key);

    // The raw member (null when absent), for types with their own reader.
    [[nodiscard]] const Json& raw(std::string_view key) const;

    // Each member of this object, in order, with its path, at most
    // `max_items` of them; `read` is called with the member's name and a
    // reader positioned at it (a problem if it is not an object).
    template <typename Read> void each_object(Read&& read, std::size_t max_items = kMaxFieldItems);
    // Each item of the required array member `key`, which must all be
    // objects: `read` gets a reader positioned at each ("key[3]").
    template <typename Read>
    void each_array_object(std::string_view key, Read&& read,
                           std::size_t max_items = kMaxFieldItems);
    // Each member of this object as a string, in order.
    NamedList<std::string> string_members(std::size_t max_items = kMaxFieldItems,
                                          std::size_t max_length = kMaxFieldString);

    // Members not named in `known`, in their order (an empty object if none).
    [[nodiscard]] Json unknown_members(std::initializer_list<std::string_view> known) const;

    // Records a problem about this object or one of its members ("" for the
    // object itself); only the first problem is kept.
    void fail(std::string_view key, const std::string& what);
    // Records a problem a nested type's own parser found (its message names
    // the full path already).
    void fail_with(const Error& error);

    [[nodiscard]] bool ok() const { return !m_problem->has_value(); }
    [[nodiscard]] const std::optional<Error>& problem() const { return *m_problem; }
    [[nodiscard]] const std::string& path() const { return m_path; }
    [[nodiscard]] const Json& json() const { return *m_value; }

    // The problem as a Result, or `value`.
    template <typename T> Result<T> finish(T value) const {
        if (*m_problem) {
            return tl::unexpected(**m_problem);
        }
        return value;
    }

private:
    JsonFields(const Json* value, std::string path, std::shared_ptr<std::optional<Error>> problem,
               std::shared_ptr<const std::string> code);

    // The member, or nullptr after recording "missing".
    const Json* member(std::string_view key);
    std::string member_path(std::string_view key) const;
    void wrong_type(std::string_view key, const char* expected, const Json& got);
    std::optional<std::int64_t> read_int64(std::string_view key, const Json& v,
                                           const char* expected);
    JsonFields child(const Json* value, std::string path) const;

    const Json* m_value;
    std::string m_path;
    std::shared_ptr<std::optional<Error>> m_problem;
    std::shared_ptr<const std::string> m_code;
};

template <typename Read> void JsonFields::each_object(Read&& read, std::size_t max_items) {
    if (!ok() || !m_value->is_object()) {
        return;
    }
    if (m_value->size() > max_items) {
        fail("", std::to_string(m_value->size()) + " members, over the limit of " +
                     std::to_string(max_items));
        return;
    }
    for (const auto& [name, value] : m_value->items()) {
        JsonFields entry = child(&value, member_path(name));
        if (!value.is_object()) {
            entry.fail("", "expected an object, got " + json_type_name(value));
        }
        if (!ok()) {
            return;
        }
        read(name, entry);
        if (!ok()) {
            return;
        }
    }
}

template <typename Read>
void JsonFields::each_array_object(std::string_view key, Read&& read, std::size_t max_items) {
    const Json* v = member(key);
    if (!v) {
        return;
    }
    if (!v->is_array()) {
        wrong_type(key, "an array", *v);
        return;
    }
    if (v->size() > max_items) {
        fail(key,
             std::to_string(v->size()) + " items, over the limit of " + std::to_string(max_items));
        return;
    }
    for (std::size_t i = 0; i < v->size(); ++i) {
        const Json& item = (*v)[i];
        JsonFields entry = child(&item, member_path(key) + "[" + std::to_string(i) + "]");
        if (!item.is_object()) {
            entry.fail("", "expected an object, got " + json_type_name(item));
        }
        if (!ok()) {
            return;
        }
        read(entry);
        if (!ok()) {
            return;
        }
    }
}

} // namespace bpfleet
