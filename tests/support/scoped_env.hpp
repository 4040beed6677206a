// ScopedEnv: sets or unsets environment variables for one test and puts back
// what was there when it goes, so that one test's HOME or PATH never leaks
// into the next test of the same process.
#pragma once

#include <cstdlib>
#include <map>
#include <optional>
#include <string>

namespace bpfleet::test {

class ScopedEnv {
public:
    ScopedEnv() = default;
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;
    ~ScopedEnv() {
        for (const auto& [name, value] : m_saved) {
            if (value) {
                ::setenv(name.c_str(), value->c_str(), 1);
            } else {
                ::unsetenv(name.c_str());
            }
        }
    }

    void set(const std::string& name, const std::string& value) {
        save(name);
        ::setenv(name.c_str(), value.c_str(), 1);
    }
    void unset(const std::string& name) {
        save(name);
        ::unsetenv(name.c_str());
    }

private:
    void save(const std::string& name) {
        if (m_saved.count(name) == 0) {
            const char* v = std::getenv(name.c_str());
            m_saved[name] = v ? std::optional<std::string>(v) : std::nullopt;
        }
    }
    std::map<std::string, std::optional<std::string>> m_saved;
};

} // namespace bpfleet::test
