# Toolchain file for aarch64 Linux with Debian's cross compiler
# (g++-aarch64-linux-gnu) and multiarch arm64 libraries installed side by side
# with the native ones (dpkg --add-architecture arm64; libbpf-dev:arm64 ...).
#
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake ...
#
# Debian's multiarch layout needs no sysroot: arm64 libraries live in
# /usr/lib/aarch64-linux-gnu, arch-specific headers in
# /usr/include/aarch64-linux-gnu, and arch-independent headers (nlohmann-json,
# tl::expected, TOML++) in /usr/include, which the cross compiler searches.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(BPFLEET_CROSS_TRIPLET aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${BPFLEET_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${BPFLEET_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${BPFLEET_CROSS_TRIPLET})

# Never pick up an x86_64 library or header by accident.
list(APPEND CMAKE_IGNORE_PATH
    /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu /usr/include/x86_64-linux-gnu)

# pkg-config must read the arm64 .pc files, not the host's.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${BPFLEET_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# Cross-built programs can still be run for checks through qemu-user.
find_program(BPFLEET_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(BPFLEET_QEMU_AARCH64)
    set(CMAKE_CROSSCOMPILING_EMULATOR ${BPFLEET_QEMU_AARCH64})
endif()
