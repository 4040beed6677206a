# bpfleet_bpf_object(<target> SOURCE <file.bpf.c> [ARCH x86|arm64] [OUTPUT_DIR dir])
#
# Compiles a BPF C source with clang into <OUTPUT_DIR>/<name>.bpf.o (name from
# the source file). With ARCH arm64 the object is built for aarch64 hosts
# (__TARGET_ARCH_arm64) and named <name>.arm64.bpf.o. Adds the object to the
# custom target <target>, created on first use.

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
    else()
        set(out ${ARG_OUTPUT_DIR}/${name}.${ARG_ARCH}.bpf.o)
        set(multiarch_include /usr/include/aarch64-linux-gnu)
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
