// A JSON value given as a test parameter but made only when its test runs.
// gtest makes and copies every parameter of every suite when a test binary
// starts, and ctest runs each test in a process of its own: a 65537-item array
// or a 256 KiB string written as a plain parameter was made again, and copied
// several times, for each of the binary's few hundred tests (0.1 s of CPU each,
// most of the unit tier's start-up cost).
#pragma once

#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>

namespace bpfleet::test {

class LazyJson {
public:
    // Small values as they are.
    template <class T>
    requires std::is_constructible_v<nlohmann::ordered_json, T>
    LazyJson(T&& value) // implicit on purpose: the parameter lists read as plain JSON
        : m_value(std::forward<T>(value)) {}

    // Large ones as a function that makes them.
    static LazyJson made_by(nlohmann::ordered_json (*make)()) {
        LazyJson lazy(nullptr);
        lazy.m_make = make;
        return lazy;
    }

    [[nodiscard]] nlohmann::ordered_json get() const {
        return m_make != nullptr ? m_make() : m_value;
    }

private:
    nlohmann::ordered_json m_value;
    nlohmann::ordered_json (*m_make)() = nullptr;
};

} // namespace bpfleet::test
