# The aarch64 and armhf (armv7l) bpfleet-agents, cross-compiled from this same
# source tree, so that a default build can check x86_64, 64-bit and 32-bit ARM
# hosts without the user finding --agent.
#
# For each architecture whose cross compiler (and libraries) are present, the
# build configures a nested build of this tree with that architecture's
# toolchain file, BPFLEET_AGENT_ONLY=ON and no tests, and copies the result to
# ${CMAKE_BINARY_DIR}/agent-ARCH/bpfleet-agent (static) and
# bpfleet-agent.stripped (what gets shipped), ARCH being the agent's name for
# it (uname -m: aarch64, armv7l). The native agent is the normal
# ${CMAKE_BINARY_DIR}/agent/bpfleet-agent. `cmake --install` puts every agent
# in lib/bpfleet/ARCH/, where bpfleet finds them.
#
#   aarch64: g++-aarch64-linux-gnu and the multiarch :arm64 -dev packages
#            (cmake/aarch64-linux-gnu.cmake)
#   armv7l:  g++-arm-linux-gnueabihf and the armhf sysroot
#            (cmake/arm-linux-gnueabihf.cmake, BPFLEET_ARMHF_SYSROOT)
# scripts/install-deps.sh installs both. BPFLEET_CROSS_AGENT=OFF builds none.

# Nothing to do inside a nested build itself.
if(BPFLEET_AGENT_ONLY OR CMAKE_CROSSCOMPILING)
    return()
endif()

option(BPFLEET_CROSS_AGENT "Also build bpfleet-agent for aarch64 and armhf (cross compilers)" ON)
set(BPFLEET_ARMHF_SYSROOT /opt/bpfleet/sysroot-armhf CACHE PATH
    "The armhf libbpf, libelf, zlib and zstd for the armv7l agent (scripts/install-deps.sh)")

include(ExternalProject)

# The build type follows the host build; sanitizers do not (a static agent
# cannot carry their runtimes), -Werror does.
set(_bpfleet_cross_build_type ${CMAKE_BUILD_TYPE})
if(NOT _bpfleet_cross_build_type)
    set(_bpfleet_cross_build_type RelWithDebInfo)
endif()

# bpfleet_cross_agent(ARCH TOOLCHAIN [CMAKE_ARGS...]): the agent for ARCH.
function(bpfleet_cross_agent arch toolchain)
    set(out_dir ${CMAKE_BINARY_DIR}/agent-${arch})
    set(build_dir ${CMAKE_BINARY_DIR}/agent-${arch}-build)
    ExternalProject_Add(bpfleet_agent_${arch}
        SOURCE_DIR ${PROJECT_SOURCE_DIR}
        BINARY_DIR ${build_dir}
        PREFIX ${CMAKE_BINARY_DIR}/agent-${arch}-ep
        CMAKE_GENERATOR ${CMAKE_GENERATOR}
        CMAKE_ARGS
            -DCMAKE_TOOLCHAIN_FILE=${PROJECT_SOURCE_DIR}/cmake/${toolchain}
            -DCMAKE_BUILD_TYPE=${_bpfleet_cross_build_type}
            -DBPFLEET_AGENT_ONLY=ON
            -DBPFLEET_BUILD_TESTS=OFF
            -DBPFLEET_AGENT_STATIC=ON
            -DBPFLEET_SANITIZE=OFF
            -DBPFLEET_TSAN=OFF
            -DBPFLEET_FUZZ=OFF
            -DBPFLEET_WERROR=${BPFLEET_WERROR}
            ${ARGN}
        BUILD_COMMAND ${CMAKE_COMMAND} --build ${build_dir} --target bpfleet-agent
        # The nested build decides itself what is out of date.
        BUILD_ALWAYS ON
        INSTALL_COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
        COMMAND ${CMAKE_COMMAND} -E copy_if_different
                ${build_dir}/agent/bpfleet-agent
                ${build_dir}/agent/bpfleet-agent.stripped
                ${out_dir}/
        BUILD_BYPRODUCTS
            ${out_dir}/bpfleet-agent
            ${out_dir}/bpfleet-agent.stripped
        USES_TERMINAL_CONFIGURE ON
        USES_TERMINAL_BUILD ON)
    install(PROGRAMS ${out_dir}/bpfleet-agent.stripped
            DESTINATION lib/bpfleet/${arch}
            RENAME bpfleet-agent
            COMPONENT agents)
    message(STATUS "${arch} agent: ${out_dir}/bpfleet-agent")
endfunction()

# bpfleet_no_cross_agent(ARCH WHY): say loudly that hosts of ARCH will be
# unsupported_arch until the prerequisite is installed.
function(bpfleet_no_cross_agent arch why)
    message(WARNING "the ${arch} agent is not built: ${why}. Hosts of that architecture will be "
                    "unsupported_arch unless given --agent ${arch}=PATH; "
                    "scripts/install-deps.sh installs what is missing.")
endfunction()

if(NOT BPFLEET_CROSS_AGENT)
    message(STATUS "cross-built agents: off (BPFLEET_CROSS_AGENT=OFF)")
    return()
endif()

if(NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
    find_program(BPFLEET_AARCH64_CXX aarch64-linux-gnu-g++)
    if(BPFLEET_AARCH64_CXX)
        bpfleet_cross_agent(aarch64 aarch64-linux-gnu.cmake)
    else()
        bpfleet_no_cross_agent(aarch64 "no aarch64-linux-gnu-g++ (g++-aarch64-linux-gnu)")
    endif()
endif()

if(NOT CMAKE_SYSTEM_PROCESSOR MATCHES "^(arm|armv7l|armv8l)$")
    find_program(BPFLEET_ARMHF_CXX arm-linux-gnueabihf-g++)
    if(NOT BPFLEET_ARMHF_CXX)
        bpfleet_no_cross_agent(armv7l "no arm-linux-gnueabihf-g++ (g++-arm-linux-gnueabihf)")
    elseif(NOT EXISTS ${BPFLEET_ARMHF_SYSROOT}/usr/lib/arm-linux-gnueabihf/libbpf.a)
        bpfleet_no_cross_agent(armv7l "no armhf libbpf.a in BPFLEET_ARMHF_SYSROOT=${BPFLEET_ARMHF_SYSROOT}")
    else()
        bpfleet_cross_agent(armv7l arm-linux-gnueabihf.cmake
                            -DBPFLEET_ARMHF_SYSROOT=${BPFLEET_ARMHF_SYSROOT})
    endif()
endif()

unset(_bpfleet_cross_build_type)
