# bpfleet_bpf_object(<target> SOURCE <file.bpf.c> [ARCH x86|arm64|arm] [OUTPUT_DIR dir])
#
# Compiles a BPF C source with clang into <OUTPUT_DIR>/<name>.bpf.o (name from
# the source file). With ARCH arm64 (or arm) the object is built for aarch64
# (32-bit ARM) hosts (__TARGET_ARCH_arm64, __TARGET_ARCH_arm) and named
# <name>.arm64.bpf.o (<name>.arm.bpf.o). Adds the object to the custom target
# <target>, created on first use.

find_program(BPFLEET_CLANG NAMES clang clang-14 REQUIRED)

function(bpfleet_bpf_object target)
    cmake_parse_arguments(ARG "" "SOURCE;ARCH;OUTPUT_DIR" "" ${ARGN})
    if(NOT ARG_ARCH)
        set(ARG_ARCH x86)
    endif()
    if(NOT ARG_OUTPUT_DIR)
        set(ARG_OUTPUT_DIR ${CMAKE_CURRENT_BINARY_DIR}/bpf)
    endif()
    get_filename_component(src ${ARG_SOURCE} ABSOLUTE)
    get_filename_component(name ${src} NAME)
    string(REGEX REPLACE "\\.bpf\\.c$" "" name ${name})
    if(ARG_ARCH STREQUAL "x86")
        set(out ${ARG_OUTPUT_DIR}/${name}.bpf.o)
        set(multiarch_include /usr/include/x86_64-linux-gnu)
    elseif(ARG_ARCH STREQUAL "arm64")
        set(out ${ARG_OUTPUT_DIR}/${name}.${ARG_ARCH}.bpf.o)
        set(multiarch_include /usr/include/aarch64-linux-gnu)
    elseif(ARG_ARCH STREQUAL "arm")
        # The kernel headers' asm/ types only; BPF itself is 64-bit everywhere.
        set(out ${ARG_OUTPUT_DIR}/${name}.${ARG_ARCH}.bpf.o)
        set(multiarch_include /usr/arm-linux-gnueabihf/include)
    else()
        message(FATAL_ERROR "bpfleet_bpf_object: ARCH must be x86, arm64 or arm")
    endif()
    add_custom_command(
        OUTPUT ${out}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${ARG_OUTPUT_DIR}
        COMMAND ${BPFLEET_CLANG} -target bpf -O2 -g -Wall -Wno-unused-function
                -D__TARGET_ARCH_${ARG_ARCH}
                -I${PROJECT_SOURCE_DIR}/tests/bpf/include
                -idirafter ${multiarch_include} -idirafter /usr/include/x86_64-linux-gnu
                -c ${src} -o ${out}
        DEPENDS ${src}
        IMPLICIT_DEPENDS C ${src}
        COMMENT "BPF ${name} (${ARG_ARCH})"
        VERBATIM)
    if(NOT TARGET ${target})
        add_custom_target(${target} ALL)
    endif()
    target_sources(${target} PRIVATE ${out})
endfunction()
