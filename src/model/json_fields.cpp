#include "model/json_fields.hpp"

#include <limits>

namespace bpfleet {

bool json_depth_at_most(const Json& value, int limit) {
    if (!value.is_structured()) {
        return true;
    }
    if (limit <= 0) {
        return false;
    }
    for (const auto& item : value) {
        if (!json_depth_at_most(item, limit - 1)) {
            return false;
        }
    }
    return true;
}

std::string json_type_name(const Json& value) {
    switch (value.type()) {
    case Json::value_t::null:
        return "null";
    case Json::value_t::boolean:
        return "a boolean";
    case Json::value_t::string:
        return "a string";
    case Json::value_t::array:
        return "an array";
    case Json::value_t::object:
        return "an object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
        return "an integer";
    case Json::value_t::number_float:
        return "a fractional number";
    default:
        return "binary data";
    }
}

JsonFields::JsonFields(const Json* value, std::string path,
                       std::shared_ptr<std::optional<Error>> problem,
                       std::shared_ptr<const std::string> code)
    : m_value(value), m_path(std::move(path)), m_problem(std::move(problem)),
      m_code(std::move(code)) {}

JsonFields JsonFields::root(const Json& value, std::string path, std::string code) {
    JsonFields fields(&value, std::move(path), std::make_shared<std::optional<Error>>(),
                      std::make_shared<const std::string>(std::move(code)));
    if (!value.is_object()) {
        fields.fail("", "expected an object, got " + json_type_name(value));
    }
    return fields;
}

JsonFields JsonFields::child(const Json* value, std::string path) const {
    return JsonFields(value, std::move(path), m_problem, m_code);
}

std::string JsonFields::member_path(std::string_view key) const {
    if (key.empty()) {
        return m_path;
    }
    return m_path.empty() ? std::string(key) : m_path + "." + std::string(key);
}

void JsonFields::fail(std::string_view key, const std::string& what) {
    if (!*m_problem) {
        *m_problem = Error{*m_code, 0, member_path(key) + ": " + what, {}};
    }
}

void JsonFields::fail_with(const Error& error) {
    if (!*m_problem) {
        *m_problem = error;
    }
}

void JsonFields::wrong_type(std::string_view key, const char* expected, const Json& got) {
    fail(key, std::string("expected ") + expected + ", got " + json_type_name(got));
}

bool JsonFields::has(std::string_view key) const {
    return m_value->is_object() && m_value->contains(key);
}

const Json& JsonFields::raw(std::string_view key) const {
    static const Json kNull;
    if (!m_value->is_object()) {
        return kNull;
    }
    auto it = m_value->find(key);
    return it == m_value->end() ? kNull : *it;
}

const Json* JsonFields::member(std::string_view key) {
    if (!ok() || !m_value->is_object()) {
        return nullptr;
    }
    auto it = m_value->find(key);
    if (it == m_value->end()) {
        fail(key, "missing");
        return nullptr;
    }
    return &*it;
}

namespace {

bool string_fits(JsonFields& fields, std::string_view key, const std::string& s, std::size_t max) {
    if (s.size() > max) {
        fields.fail(key, "a string of " + std::to_string(s.size()) + " bytes, over the " +
                             std::to_string(max) + "-byte limit");
        return false;
    }
    return true;
}

} // namespace

std::string JsonFields::string(std::string_view key, std::size_t max) {
    const Json* v = member(key);
    if (!v) {
        return {};
    }
    if (!v->is_string()) {
        wrong_type(key, "a string", *v);
        return {};
    }
    const auto& s = v->get_ref<const std::string&>();
    return string_fits(*this, key, s, max) ? s : std::string();
}

std::optional<std::string> JsonFields::string_or_null(std::string_view key, std::size_t max) {
    const Json* v = member(key);
    if (!v || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_string()) {
        wrong_type(key, "a string or null", *v);
        return std::nullopt;
    }
    const auto& s = v->get_ref<const std::string&>();
    return string_fits(*this, key, s, max) ? std::optional(s) : std::nullopt;
}

std::optional<std::string> JsonFields::optional_string(std::string_view key, std::size_t max) {
    if (!has(key)) {
        return std::nullopt;
    }
    const Json* v = member(key);
    if (!v) {
        return std::nullopt;
    }
    if (!v->is_string()) {
        wrong_type(key, "a string", *v);
        return std::nullopt;
    }
    const auto& s = v->get_ref<const std::string&>();
    return string_fits(*this, key, s, max) ? std::optional(s) : std::nullopt;
}

bool JsonFields::boolean(std::string_view key) {
    const Json* v = member(key);
    if (!v) {
        return false;
    }
    if (!v->is_boolean()) {
        wrong_type(key, "true or false", *v);
        return false;
    }
    return v->get<bool>();
}

std::optional<bool> JsonFields::boolean_or_null(std::string_view key) {
    const Json* v = member(key);
    if (!v || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_boolean()) {
        wrong_type(key, "true, false or null", *v);
        return std::nullopt;
    }
    return v->get<bool>();
}

std::optional<bool> JsonFields::optional_boolean(std::string_view key) {
    if (!has(key)) {
        return std::nullopt;
    }
    const bool b = boolean(key);
    return ok() ? std::optional(b) : std::nullopt;
}

namespace {

// nlohmann keeps integers as int64 or uint64 and never converts a fraction
// or a boolean here: only true integers that fit pass.
std::optional<std::int64_t> as_int64(const Json& v) {
    if (v.is_number_unsigned()) {
        auto u = v.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(u);
    }
    if (v.is_number_integer()) {
        return v.get<std::int64_t>();
    }
    return std::nullopt;
}

} // namespace

std::optional<std::int64_t> JsonFields::read_int64(std::string_view key, const Json& v,
                                                   const char* expected) {
    auto i = as_int64(v);
    if (i) {
        return i;
    }
    if (v.is_number_unsigned()) {
        fail(key, std::to_string(v.get<std::uint64_t>()) + " is out of range (at most " +
                      std::to_string(std::numeric_limits<std::int64_t>::max()) + ")");
    } else {
        wrong_type(key, expected, v);
    }
    return std::nullopt;
}

std::int64_t JsonFields::integer(std::string_view key) {
    const Json* v = member(key);
    if (!v) {
        return 0;
    }
    return read_int64(key, *v, "an integer").value_or(0);
}

std::optional<std::int64_t> JsonFields::integer_or_null(std::string_view key) {
    const Json* v = member(key);
    if (!v || v->is_null()) {
        return std::nullopt;
    }
    return read_int64(key, *v, "an integer or null");
}

std::optional<std::int64_t> JsonFields::optional_integer(std::string_view key) {
    if (!has(key)) {
        return std::nullopt;
    }
    const auto i = integer(key);
    return ok() ? std::optional(i) : std::nullopt;
}

std::uint64_t JsonFields::unsigned_integer(std::string_view key) {
    const Json* v = member(key);
    if (!v) {
        return 0;
    }
    if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<std::int64_t>() >= 0)) {
        wrong_type(key, "a non-negative integer", *v);
        return 0;
    }
    return v->get<std::uint64_t>();
}

std::vector<std::string> JsonFields::strings(std::string_view key, std::size_t max_items,
                                             std::size_t max_length) {
    const Json* v = member(key);
    if (!v) {
        return {};
    }
    if (!v->is_array()) {
        wrong_type(key, "an array of strings", *v);
        return {};
    }
    if (v->size() > max_items) {
        fail(key,
             std::to_string(v->size()) + " items, over the limit of " + std::to_string(max_items));
        return {};
    }
    std::vector<std::string> out;
    out.reserve(v->size());
    for (std::size_t i = 0; i < v->size(); ++i) {
        const Json& item = (*v)[i];
        const std::string item_key = std::string(key) + "[" + std::to_string(i) + "]";
        if (!item.is_string()) {
            wrong_type(item_key, "a string", item);
            return {};
        }
        if (!string_fits(*this, item_key, item.get_ref<const std::string&>(), max_length)) {
            return {};
        }
        out.push_back(item.get<std::string>());
    }
    return out;
}

std::optional<std::vector<std::string>>
JsonFields::strings_or_null(std::string_view key, std::size_t max_items, std::size_t max_length) {
    const Json* v = member(key);
    if (!v || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_array()) {
        wrong_type(key, "an array of strings or null", *v);
        return std::nullopt;
    }
    auto out = strings(key, max_items, max_length);
    return ok() ? std::optional(std::move(out)) : std::nullopt;
}

JsonFields JsonFields::object(std::string_view key) {
    static const Json kEmpty = Json::object();
    const Json* v = member(key);
    if (!v) {
        return child(&kEmpty, member_path(key));
    }
    if (!v->is_object()) {
        wrong_type(key, "an object", *v);
        return child(&kEmpty, member_path(key));
    }
    return child(v, member_path(key));
}

std::optional<JsonFields> JsonFields::object_or_null(std::string_view key) {
    const Json* v = member(key);
    if (!v || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_object()) {
        wrong_type(key, "an object or null", *v);
        return std::nullopt;
    }
    return child(v, member_path(key));
}

NamedList<std::string> JsonFields::string_members(std::size_t max_items, std::size_t max_length) {
    NamedList<std::string> out;
    if (!ok() || !m_value->is_object()) {
        return out;
    }
    if (m_value->size() > max_items) {
        fail("", std::to_string(m_value->size()) + " members, over the limit of " +
                     std::to_string(max_items));
        return out;
    }
    for (const auto& [name, value] : m_value->items()) {
        if (!value.is_string()) {
            wrong_type(name, "a string", value);
            return {};
        }
        if (!string_fits(*this, name, value.get_ref<const std::string&>(), max_length)) {
            return {};
        }
        out.emplace_back(name, value.get<std::string>());
    }
    return out;
}

Json JsonFields::unknown_members(std::initializer_list<std::string_view> known) const {
    Json out = Json::object();
    if (!m_value->is_object()) {
        return out;
    }
    for (const auto& [name, value] : m_value->items()) {
        bool is_known = false;
        for (auto k : known) {
            is_known = is_known || k == name;
        }
        if (!is_known) {
            out[name] = value;
        }
    }
    return out;
}

} // namespace bpfleet
