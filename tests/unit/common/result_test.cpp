// TRY, TRY_ASSIGN, CO_TRY and CO_TRY_ASSIGN: errors travel out unchanged, for
// Result and for a tl::expected with another error type, in plain functions
// and in coroutines.
#include "common/result.hpp"

#include <coroutine>
#include <exception>
#include <gtest/gtest.h>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace bpfleet {
namespace {

// A stand-in for the controller's HostFailure: an error type that is not Error.
struct OtherFailure {
    int status = 0;
    std::string why;
};
template <typename T> using OtherExpected = tl::expected<T, OtherFailure>;

// The smallest eager coroutine: runs to the end at once, keeps its co_return.
template <typename T> struct Eager {
    struct promise_type {
        std::optional<T> value;
        Eager get_return_object() {
            return Eager{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }
        template <typename U> void return_value(U&& v) { value.emplace(std::forward<U>(v)); }
        void unhandled_exception() { std::terminate(); }
    };
    explicit Eager(std::coroutine_handle<promise_type> h) : handle(h) {}
    Eager(Eager&& o) noexcept : handle(std::exchange(o.handle, {})) {}
    ~Eager() {
        if (handle) {
            handle.destroy();
        }
    }
    T get() { return std::move(*handle.promise().value); }
    std::coroutine_handle<promise_type> handle;
};

// co_await of a ready value, as `co_await some_op()` would give it.
template <typename T> class Ready {
public:
    explicit Ready(T value) : m_value(std::move(value)) {}
    bool await_ready() const noexcept { return true; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    T await_resume() { return std::move(m_value); }

private:
    T m_value;
};

template <typename T> Ready<T> ready(T value) {
    return Ready<T>(std::move(value));
}

Result<int> number(bool ok, int n) {
    if (!ok) {
        return make_error("usage", "no number", 22, "here");
    }
    return n;
}

Result<int> add_two(bool first_ok, bool second_ok) {
    TRY_ASSIGN(int a, number(first_ok, 1));
    int b = 0;
    TRY_ASSIGN(b, number(second_ok, 2));
    return a + b;
}

Result<void> check(bool ok) {
    TRY(number(ok, 1));
    TRY(number(ok, 2));
    return {};
}

Result<void> two_on_one_line(bool ok) {
    // clang-format off
    TRY(number(ok, 1)); TRY(number(ok, 2));
    // clang-format on
    return {};
}

TEST(Try, PassesValuesAndErrors) {
    EXPECT_EQ(add_two(true, true).value(), 3);
    auto e = add_two(true, false);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, "usage");
    EXPECT_EQ(e.error().errnum, 22);
    EXPECT_EQ(e.error().describe(), "here: no number");
    EXPECT_TRUE(check(true));
    EXPECT_FALSE(check(false));
    EXPECT_TRUE(two_on_one_line(true));
    EXPECT_FALSE(two_on_one_line(false));
}

OtherExpected<std::unique_ptr<int>> make_owned(bool ok) {
    if (!ok) {
        return tl::unexpected(OtherFailure{7, "refused"});
    }
    return std::make_unique<int>(5);
}

Eager<OtherExpected<int>> co_use(bool ok) {
    CO_TRY_ASSIGN(auto owned, co_await ready(make_owned(ok)));
    CO_TRY(make_owned(true));
    co_return *owned * 2;
}

Eager<OtherExpected<void>> co_void(bool ok) {
    CO_TRY(co_await ready(make_owned(ok)));
    co_return OtherExpected<void>{};
}

TEST(CoTry, WorksForAnyErrorTypeAndMoveOnlyValues) {
    EXPECT_EQ(co_use(true).get().value(), 10);
    auto e = co_use(false).get();
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().status, 7);
    EXPECT_EQ(e.error().why, "refused");
    EXPECT_TRUE(co_void(true).get());
    auto v = co_void(false).get();
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().why, "refused");
}

Eager<Result<std::string>> co_result(bool ok) {
    CO_TRY_ASSIGN(int n, number(ok, 4));
    co_return std::to_string(n);
}

TEST(CoTry, WorksForResult) {
    EXPECT_EQ(co_result(true).get().value(), "4");
    EXPECT_EQ(co_result(false).get().error().code, "usage");
}

} // namespace
} // namespace bpfleet
