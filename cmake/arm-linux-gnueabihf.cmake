# Toolchain file for 32-bit ARM (armhf: ARMv7 hard-float) Linux with Debian's
# cross compiler (g++-arm-linux-gnueabihf) and the armhf builds of the agent's
# libraries unpacked into a private sysroot, BPFLEET_ARMHF_SYSROOT
# (scripts/install-deps.sh makes /opt/bpfleet/sysroot-armhf with
# scripts/lab/debian-fetch.sh).
#
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/arm-linux-gnueabihf.cmake \
#         -DBPFLEET_ARMHF_SYSROOT=/opt/bpfleet/sysroot-armhf ...
#
# Why not multiarch (dpkg --add-architecture armhf; libbpf-dev:armhf) as for
# aarch64: every Multi-Arch: same library must then be installed at exactly the
# host's version, so one out-of-step index of the archive (the security suite's
# armhf list) makes the whole set uninstallable, and the host's apt-get update
# fails for every user of the machine. The sysroot holds only the agent's four
# static libraries and their headers; libc and the kernel headers are the cross
# compiler's own (/usr/arm-linux-gnueabihf).

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(BPFLEET_CROSS_TRIPLET arm-linux-gnueabihf)
set(CMAKE_C_COMPILER ${BPFLEET_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${BPFLEET_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${BPFLEET_CROSS_TRIPLET})

set(BPFLEET_ARMHF_SYSROOT /opt/bpfleet/sysroot-armhf CACHE PATH
    "The armhf libbpf, libelf, zlib and zstd (headers and static archives)")
if(NOT EXISTS ${BPFLEET_ARMHF_SYSROOT}/usr/lib/${BPFLEET_CROSS_TRIPLET}/libbpf.a)
    message(FATAL_ERROR "no armhf libbpf.a under BPFLEET_ARMHF_SYSROOT=${BPFLEET_ARMHF_SYSROOT} "
                        "(scripts/install-deps.sh makes it)")
endif()

# Headers: the sysroot's first, then the cross compiler's own and the host's
# architecture-independent ones (nlohmann-json, tl::expected, TOML++) in
# /usr/include, which the cross compiler searches by itself.
include_directories(SYSTEM ${BPFLEET_ARMHF_SYSROOT}/usr/include
                    ${BPFLEET_ARMHF_SYSROOT}/usr/include/${BPFLEET_CROSS_TRIPLET})

# Libraries only from the sysroot and the cross compiler's tree; never an
# x86_64 one by accident.
set(CMAKE_FIND_ROOT_PATH ${BPFLEET_ARMHF_SYSROOT} /usr/${BPFLEET_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
list(APPEND CMAKE_IGNORE_PATH
    /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/include/x86_64-linux-gnu)

# pkg-config reads the sysroot's .pc files and prefixes their paths with it.
set(ENV{PKG_CONFIG_LIBDIR} "${BPFLEET_ARMHF_SYSROOT}/usr/lib/${BPFLEET_CROSS_TRIPLET}/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${BPFLEET_ARMHF_SYSROOT}")
set(ENV{PKG_CONFIG_PATH} "")

find_program(BPFLEET_QEMU_ARM NAMES qemu-arm-static qemu-arm)
if(BPFLEET_QEMU_ARM)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${BPFLEET_QEMU_ARM})
endif()
