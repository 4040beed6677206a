// Result<T> and Error: the one way recoverable errors travel through bpfleet.
//
// Error carries a short machine code, the errno it came from (0 when none), a
// human message, and context (what was being worked on: an artifact, a
// program, a host). Exceptions are kept for bugs and fatal start-up errors.
#pragma once

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

namespace bpfleet {

struct Error {
    std::string code;    // stable, machine-readable, e.g. "OBJECT_INVALID", "usage"
    int errnum = 0;      // errno that caused it, 0 when none
    std::string message; // what went wrong, for a person
    std::string context; // where: "object foo.bpf.o", "fixups file f.toml:3:7", ...
    // Further errors found in the same pass: a check of several inputs reports
    // all that is wrong at once (ErrorList), each entry standing on its own.
    std::vector<Error> more{};

    // "context: message" or just the message.
    [[nodiscard]] std::string describe() const {
        return context.empty() ? message : context + ": " + message;
    }
};

template <typename T> using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> make_error(std::string code, std::string message, int errnum = 0,
                                        std::string context = {}) {
    return tl::unexpected<Error>(
        Error{std::move(code), errnum, std::move(message), std::move(context)});
}

// The errors of checks that do not depend on each other, gathered so that
// one run reports every bad input instead of the first. take()/check() keep a
// failed Result's error and carry on; combined() is the first error carrying
// the rest in `more`.
class ErrorList {
public:
    template <typename T> std::optional<T> take(Result<T>&& result) {
        if (result) {
            return std::move(*result);
        }
        add(std::move(result).error());
        return std::nullopt;
    }
    // Whether `result` holds a value (which is dropped).
    template <typename T> bool check(Result<T>&& result) {
        if (result) {
            return true;
        }
        add(std::move(result).error());
        return false;
    }
    void add(Error error) {
        std::vector<Error> nested = std::move(error.more);
        error.more.clear();
        m_errors.push_back(std::move(error));
        for (auto& e : nested) {
            add(std::move(e));
        }
    }
    [[nodiscard]] bool empty() const { return m_errors.empty(); }
    [[nodiscard]] std::size_t size() const { return m_errors.size(); }
    [[nodiscard]] const std::vector<Error>& errors() const { return m_errors; }
    // Reorders the errors (stable), e.g. by their place in a file.
    template <typename Less> void sort(Less less) {
        std::stable_sort(m_errors.begin(), m_errors.end(), less);
    }
    // Only when !empty().
    [[nodiscard]] tl::unexpected<Error> combined() && {
        Error first = std::move(m_errors.front());
        first.more.assign(std::make_move_iterator(m_errors.begin() + 1),
                          std::make_move_iterator(m_errors.end()));
        m_errors.clear();
        return tl::unexpected<Error>(std::move(first));
    }

private:
    std::vector<Error> m_errors;
};

// Every error in `e`: itself, then those in `more`.
inline std::vector<const Error*> all_errors(const Error& e) {
    std::vector<const Error*> out{&e};
    for (const auto& m : e.more) {
        out.push_back(&m);
    }
    return out;
}

} // namespace bpfleet

// TRY(expr): evaluate a Result (any tl::expected), return its error from the
// enclosing function. TRY_ASSIGN(lhs, expr): the same, then move the value into
// lhs (which may be a declaration: `TRY_ASSIGN(auto x, f())`).
// CO_TRY and CO_TRY_ASSIGN do the same in a coroutine (co_return), for any
// error type: `CO_TRY_ASSIGN(auto link, co_await connect(host));` in an
// asio::awaitable<HostExpected<T>>.
#define BPFLEET_CONCAT_INNER(a, b) a##b
#define BPFLEET_CONCAT(a, b) BPFLEET_CONCAT_INNER(a, b)
#define BPFLEET_TRY_VAR BPFLEET_CONCAT(bpfleet_try_, __COUNTER__)

#define BPFLEET_TRY_IMPL(ret, var, expr)                                                           \
    auto var = (expr);                                                                             \
    if (!var) {                                                                                    \
        ret tl::unexpected(std::move(var).error());                                                \
    }
#define BPFLEET_TRY_ASSIGN_IMPL(ret, var, lhs, expr)                                               \
    BPFLEET_TRY_IMPL(ret, var, expr)                                                               \
    lhs = std::move(*var);

#define TRY(expr) BPFLEET_TRY_IMPL(return, BPFLEET_TRY_VAR, expr)
#define TRY_ASSIGN(lhs, expr) BPFLEET_TRY_ASSIGN_IMPL(return, BPFLEET_TRY_VAR, lhs, expr)
#define CO_TRY(expr) BPFLEET_TRY_IMPL(co_return, BPFLEET_TRY_VAR, expr)
#define CO_TRY_ASSIGN(lhs, expr) BPFLEET_TRY_ASSIGN_IMPL(co_return, BPFLEET_TRY_VAR, lhs, expr)
