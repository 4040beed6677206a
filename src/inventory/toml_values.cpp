#include "inventory/toml_values.hpp"

#include <cstdio>

namespace bpfleet::inventory {
namespace {

std::string two_digits(unsigned value) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02u", value % 100);
    return buf;
}

std::string format_date(const toml::date& d) {
    return std::to_string(d.year) + "-" + two_digits(d.month) + "-" + two_digits(d.day);
}

std::string format_time(const toml::time& t) {
    std::string out = two_digits(t.hour) + ":" + two_digits(t.minute) + ":" + two_digits(t.second);
    if (t.nanosecond != 0) {
        char buf[16];
        std::snprintf(buf, sizeof buf, ".%09u", static_cast<unsigned>(t.nanosecond));
        out += buf;
    }
    return out;
}

} // namespace

std::string where(std::string_view source, const toml::source_region& region) {
    return std::string(source) + ":" + std::to_string(region.begin.line) + ":" +
           std::to_string(region.begin.column);
}

std::string_view type_name(const toml::node& node) {
    switch (node.type()) {
    case toml::node_type::table:
        return "a table";
    case toml::node_type::array:
        return "an array";
    case toml::node_type::string:
        return "a string";
    case toml::node_type::integer:
        return "an integer";
    case toml::node_type::floating_point:
        return "a float";
    case toml::node_type::boolean:
        return "a boolean";
    case toml::node_type::date:
        return "a date";
    case toml::node_type::time:
        return "a time";
    case toml::node_type::date_time:
        return "a date-time";
    default:
        return "nothing";
    }
}

nlohmann::json to_json(const toml::node& node) {
    switch (node.type()) {
    case toml::node_type::string:
        return node.as_string()->get();
    case toml::node_type::integer:
        return node.as_integer()->get();
    case toml::node_type::floating_point:
        return node.as_floating_point()->get();
    case toml::node_type::boolean:
        return node.as_boolean()->get();
    case toml::node_type::date:
        return format_date(node.as_date()->get());
    case toml::node_type::time:
        return format_time(node.as_time()->get());
    case toml::node_type::date_time: {
        const toml::date_time& dt = node.as_date_time()->get();
        std::string out = format_date(dt.date) + "T" + format_time(dt.time);
        if (dt.offset) {
            int minutes = dt.offset->minutes;
            if (minutes == 0) {
                out += "Z";
            } else {
                out += minutes < 0 ? "-" : "+";
                unsigned m = static_cast<unsigned>(minutes < 0 ? -minutes : minutes);
                out += two_digits(m / 60) + ":" + two_digits(m % 60);
            }
        }
        return out;
    }
    case toml::node_type::array: {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& element : *node.as_array()) {
            out.push_back(to_json(element));
        }
        return out;
    }
    case toml::node_type::table: {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& [key, value] : *node.as_table()) {
            out[std::string(key.str())] = to_json(value);
        }
        return out;
    }
    default:
        return nullptr;
    }
}

} // namespace bpfleet::inventory
