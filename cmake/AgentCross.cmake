# The aarch64 bpfleet-agent, cross-compiled from this same source tree.
#
# With BPFLEET_CROSS_AGENT on (the default when Debian's aarch64-linux-gnu-g++
# is found), the build configures a nested build of this tree with
# cmake/aarch64-linux-gnu.cmake, BPFLEET_AGENT_ONLY=ON and no tests, and copies
# the result to ${CMAKE_BINARY_DIR}/agent-aarch64/bpfleet-agent (static) and
# bpfleet-agent.stripped (what gets shipped). The x86_64 agent is the normal
# ${CMAKE_BINARY_DIR}/agent/bpfleet-agent.

# Nothing to do inside the nested build itself, or when the host is aarch64
# already (the normal tree builds that agent).
if(BPFLEET_AGENT_ONLY OR CMAKE_CROSSCOMPILING OR CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    return()
endif()

find_program(BPFLEET_AARCH64_CXX aarch64-linux-gnu-g++)
if(BPFLEET_AARCH64_CXX)
    set(_bpfleet_cross_default ON)
else()
    set(_bpfleet_cross_default OFF)
endif()
option(BPFLEET_CROSS_AGENT "Also build bpfleet-agent for aarch64 (needs g++-aarch64-linux-gnu)"
       ${_bpfleet_cross_default})
unset(_bpfleet_cross_default)

if(NOT BPFLEET_CROSS_AGENT)
    message(STATUS "aarch64 agent: off (BPFLEET_CROSS_AGENT=OFF or no aarch64-linux-gnu-g++)")
    return()
endif()
if(NOT BPFLEET_AARCH64_CXX)
    message(FATAL_ERROR "BPFLEET_CROSS_AGENT=ON but aarch64-linux-gnu-g++ was not found "
                        "(scripts/install-deps.sh installs g++-aarch64-linux-gnu)")
endif()

include(ExternalProject)

set(BPFLEET_CROSS_AGENT_DIR ${CMAKE_BINARY_DIR}/agent-aarch64)
set(_bpfleet_cross_build_dir ${CMAKE_BINARY_DIR}/agent-aarch64-build)

# The build type follows the host build; sanitizers do not (a static agent
# cannot carry their runtimes), -Werror does.
set(_bpfleet_cross_build_type ${CMAKE_BUILD_TYPE})
if(NOT _bpfleet_cross_build_type)
    set(_bpfleet_cross_build_type RelWithDebInfo)
endif()

ExternalProject_Add(bpfleet_agent_aarch64
    SOURCE_DIR ${PROJECT_SOURCE_DIR}
    BINARY_DIR ${_bpfleet_cross_build_dir}
    PREFIX ${CMAKE_BINARY_DIR}/agent-aarch64-ep
    CMAKE_GENERATOR ${CMAKE_GENERATOR}
    CMAKE_ARGS
        -DCMAKE_TOOLCHAIN_FILE=${PROJECT_SOURCE_DIR}/cmake/aarch64-linux-gnu.cmake
        -DCMAKE_BUILD_TYPE=${_bpfleet_cross_build_type}
        -DBPFLEET_AGENT_ONLY=ON
        -DBPFLEET_BUILD_TESTS=OFF
        -DBPFLEET_AGENT_STATIC=ON
        -DBPFLEET_SANITIZE=OFF
        -DBPFLEET_TSAN=OFF
        -DBPFLEET_FUZZ=OFF
        -DBPFLEET_WERROR=${BPFLEET_WERROR}
    BUILD_COMMAND ${CMAKE_COMMAND} --build ${_bpfleet_cross_build_dir} --target bpfleet-agent
    # The nested build decides itself what is out of date.
    BUILD_ALWAYS ON
    INSTALL_COMMAND ${CMAKE_COMMAND} -E make_directory ${BPFLEET_CROSS_AGENT_DIR}
    COMMAND ${CMAKE_COMMAND} -E copy_if_different
            ${_bpfleet_cross_build_dir}/agent/bpfleet-agent
            ${_bpfleet_cross_build_dir}/agent/bpfleet-agent.stripped
            ${BPFLEET_CROSS_AGENT_DIR}/
    BUILD_BYPRODUCTS
        ${BPFLEET_CROSS_AGENT_DIR}/bpfleet-agent
        ${BPFLEET_CROSS_AGENT_DIR}/bpfleet-agent.stripped
    USES_TERMINAL_CONFIGURE ON
    USES_TERMINAL_BUILD ON)

message(STATUS "aarch64 agent: ${BPFLEET_CROSS_AGENT_DIR}/bpfleet-agent")
unset(_bpfleet_cross_build_dir)
unset(_bpfleet_cross_build_type)
