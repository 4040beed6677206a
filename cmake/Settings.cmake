# Project-wide compile settings as INTERFACE targets: every target links
# bpfleet::settings and bpfleet::warnings instead of setting flags itself.

add_library(bpfleet_settings INTERFACE)
add_library(bpfleet::settings ALIAS bpfleet_settings)
target_compile_features(bpfleet_settings INTERFACE cxx_std_20)
target_compile_definitions(bpfleet_settings INTERFACE
    $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>
    BPFLEET_VERSION="${PROJECT_VERSION}")

# Let the linker drop unused code: keeps the static agent small.
target_compile_options(bpfleet_settings INTERFACE -ffunction-sections -fdata-sections)

add_library(bpfleet_warnings INTERFACE)
add_library(bpfleet::warnings ALIAS bpfleet_warnings)
target_compile_options(bpfleet_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wnull-dereference
    $<$<BOOL:${BPFLEET_WERROR}>:-Werror>
    # GCC 12 reports -Wnull-dereference inside inlined libstdc++ code reached
    # from CLI11 and std::istreambuf_iterator (false positives): warn, never fail.
    $<$<BOOL:${BPFLEET_WERROR}>:-Wno-error=null-dereference>)

if(BPFLEET_SANITIZE AND BPFLEET_TSAN)
    message(FATAL_ERROR "BPFLEET_SANITIZE and BPFLEET_TSAN are mutually exclusive")
endif()

if(BPFLEET_SANITIZE)
    target_compile_options(bpfleet_settings INTERFACE
        -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_link_options(bpfleet_settings INTERFACE -fsanitize=address,undefined)
endif()

if(BPFLEET_TSAN)
    target_compile_options(bpfleet_settings INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
    target_link_options(bpfleet_settings INTERFACE -fsanitize=thread)
endif()

# A static binary cannot carry the sanitizer runtimes.
if(BPFLEET_SANITIZE OR BPFLEET_TSAN)
    set(BPFLEET_AGENT_STATIC OFF CACHE BOOL "" FORCE)
endif()
