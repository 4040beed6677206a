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

# Static archives for the agent.
if(BPFLEET_AGENT_STATIC)
    foreach(lib bpf elf z zstd)
        find_library(BPFLEET_STATIC_${lib} NAMES lib${lib}.a REQUIRED)
    endforeach()
endif()
