#!/usr/bin/env bash
# Installs everything bpfleet needs to build, test and run, from Debian 12
# packages. Idempotent: installs only what is missing, and runs apt-get update
# only when something is. Run as root.
set -euo pipefail

packages=(
    # build
    build-essential cmake ninja-build pkg-config file binutils
    # BPF toolchain: test sources and examples are compiled with clang
    clang llvm lld libclang-rt-14-dev
    # style: scripts/check-style.sh (format check and clang-tidy)
    clang-format-14 clang-tidy-14
    # agent (static archives come with the -dev packages)
    libbpf-dev libelf-dev zlib1g-dev libzstd-dev systemtap-sdt-dev
    # controller and core
    libboost1.81-dev libssh-dev libcurl4-openssl-dev libarchive-dev
    libtomlplusplus-dev libexpected-dev libcli11-dev libspdlog-dev libfmt-dev
    nlohmann-json3-dev
    # tests
    googletest libgtest-dev libgmock-dev python3 python3-jsonschema
    # the controller's micro benchmarks (bench/micro) and the profile bench/run records
    libbenchmark-dev linux-perf
    # report documents: xmllint checks junit.xml against the JUnit schema;
    # report.html is loaded and clicked in headless Chromium, driven by Node
    # over the DevTools pipe (tests/report)
    libxml2-utils chromium nodejs
    # the generated man pages are rendered by man (groff) and the zsh
    # completion parsed by zsh; the .deb is read back with dpkg-deb
    man-db groff-base zsh dpkg
    # real third-party BPF objects and tools to compare against
    bpftool libxdp1 xdp-tests
    # external BTF: pahole for bpfleet btf gen, xz for BTFHub's .btf.tar.xz
    dwarves xz-utils
    # OCI integration tests: a real registry, skopeo to fill it, nginx for the
    # bearer-token flow, htpasswd for basic auth, openssl for a test CA
    docker-registry skopeo nginx-light apache2-utils openssl curl
    # SSH integration tests: real sshd on 127.0.0.1 (scripts/sshd-farm.sh and
    # tests/integration/ssh), sudo for become, and the tools bench/fanout
    # compares against (ansible, parallel-ssh) timed with GNU time
    openssh-server openssh-client sudo bsdutils ansible-core pssh time
)

# The aarch64 agent (cmake/AgentCross.cmake): Debian's cross compiler and the
# arm64 builds of the agent's static libraries, side by side with the native
# ones; qemu-user-static runs the result in a unit test.
if [[ $(dpkg --print-architecture) == amd64 ]]; then
    packages+=(
        g++-aarch64-linux-gnu qemu-user-static
        libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 libzstd-dev:arm64
        systemtap-sdt-dev:arm64
        # the armv7l agent: the cross compiler (its libraries come from the
        # sysroot made below)
        g++-arm-linux-gnueabihf
    )
fi
# The lab (bpfleet lab): QEMU for each guest architecture, and the host-side
# tools that build the guests' initramfs and keys.
packages+=(qemu-system-x86 qemu-system-arm busybox-static cpio dropbear-bin debian-archive-keyring
    xz-utils)

if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: run as root (apt-get install needs it)" >&2
    exit 2
fi

# arm64 packages need the architecture; adding it twice is harmless, but only
# a fresh addition makes the :arm64 packages show up as missing below.
if [[ " ${packages[*]} " == *":arm64 "* ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "install-deps: dpkg --add-architecture arm64"
    dpkg --add-architecture arm64
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all ${#packages[@]} packages present"
else
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The armhf libraries of the armv7l agent, unpacked from Debian's armhf
# packages into a private sysroot (cmake/arm-linux-gnueabihf.cmake says why
# not multiarch). BPFLEET_ARMHF_SYSROOT moves it; the build looks there too.
sysroot=${BPFLEET_ARMHF_SYSROOT:-/opt/bpfleet/sysroot-armhf}
sysroot_packages=(libbpf-dev libelf-dev zlib1g-dev libzstd-dev systemtap-sdt-dev)
if [[ $(dpkg --print-architecture) == amd64 && ! -e $sysroot/.complete ]]; then
    echo "install-deps: armhf sysroot for the armv7l agent in $sysroot"
    rm -rf "$sysroot.tmp"
    "$(dirname "$0")/lab/debian-fetch.sh" --cache /var/cache/bpfleet/debian --arch armhf \
        extract --into "$sysroot.tmp" "${sysroot_packages[@]}"
    printf '%s\n' "${sysroot_packages[@]}" >"$sysroot.tmp/.complete"
    rm -rf "$sysroot"
    mv "$sysroot.tmp" "$sysroot"
fi
