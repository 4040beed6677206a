# Every third-party dependency comes from a Debian 12 package
# (scripts/install-deps.sh installs them). Header-only ones are checked here
# so that a missing package fails at configure time with its name.

find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf>=1.0)
pkg_check_modules(LIBELF REQUIRED IMPORTED_TARGET libelf)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(tomlplusplus QUIET)

include(CheckIncludeFileCXX)
find_path(TL_EXPECTED_INCLUDE tl/expected.hpp REQUIRED)
find_path(TOMLPP_INCLUDE toml++/toml.h REQUIRED)

# TOML++ header-only, one configuration for every target that includes it
# (bpfleet_bpf, bpfleet_inventory, their tests): the inline definitions must
# agree when several of them end up in one program.
add_library(bpfleet_tomlpp INTERFACE)
add_library(bpfleet::tomlpp ALIAS bpfleet_tomlpp)
target_include_directories(bpfleet_tomlpp SYSTEM INTERFACE ${TOMLPP_INCLUDE})
target_compile_definitions(bpfleet_tomlpp INTERFACE TOML_HEADER_ONLY=1 TOML_EXCEPTIONS=1
    TOML_ENABLE_FORMATTERS=0 TOML_INT_CHARCONV=1 TOML_FLOAT_CHARCONV=1)

# Static archives for the agent.
if(BPFLEET_AGENT_STATIC)
    foreach(lib bpf elf z zstd)
        find_library(BPFLEET_STATIC_${lib} NAMES lib${lib}.a REQUIRED)
    endforeach()
endif()
