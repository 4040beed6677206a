#!/usr/bin/env bash
# lab-image.sh: the boot files of one lab VM: a Debian kernel and an initramfs with busybox,
# an SSH server (dropbear) and the kernel's virtio and tc modules, for `bpfleet lab up`.
#
# Usage:
#   lab-image.sh --cache DIR --arch ARCH --kernel PACKAGE|REGEX --out VMDIR
#                --authorized-key PUBFILE [--hostname NAME] [--suite SUITE]...
#
#   --cache   downloads and unpacked kernels, shared by every lab (debian-fetch.sh keeps its
#             apt state and .deb files there)
#   --arch    the guest's Debian architecture: amd64, arm64, armhf
#   --kernel  the kernel package, or an extended regex for its name (the newest match wins)
#   --suite   Debian suites to look in (debian-fetch.sh; default bookworm)
#   --out     the VM's folder: vmlinuz, initrd.img, config (the kernel's), kernel.txt
#             ("PACKAGE VERSION RELEASE"), host_key (made once, dropbear format) and
#             host_key.pub (OpenSSH format, for known_hosts)
#   --authorized-key  the OpenSSH public key root may log in with
#   --hostname        the guest's host name (default: the folder's name)
#
# Prints "PACKAGE VERSION RELEASE" of the kernel on stdout. Exit status: 0 done, 2 usage,
# 3 no such package, 4 download or build failed (the message says which).
#
# The guest: root on the initramfs (tmpfs), no disk. /init mounts proc, sysfs, devtmpfs,
# devpts, bpffs, tracefs, debugfs and cgroup2, loads the modules (dependencies first), sets
# eth0 to 10.0.2.15/24 via 10.0.2.2 (QEMU user networking), starts dropbear on port 22
# (keys only) and writes "bpfleet-lab: sshd started" on the console. The userland (busybox,
# dropbear and its libraries) is Debian 12's for the guest's architecture; only the kernel
# differs between VMs. The initramfs is three concatenated cpio archives: the userland (one
# per architecture), the kernel's modules (one per kernel) and the VM's own keys and name.
set -euo pipefail
export LC_ALL=C

die() { # $1 status, $2... message
  local rc=$1
  shift
  printf 'lab-image: %s\n' "$*" >&2
  exit "$rc"
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fetch="$here/debian-fetch.sh"
cache="" arch="" kernel="" out="" pubkey="" hostname="" suites=()
while (($#)); do
  case "$1" in
    --cache) cache="${2:?}"; shift 2 ;;
    --arch) arch="${2:?}"; shift 2 ;;
    --kernel) kernel="${2:?}"; shift 2 ;;
    --out) out="${2:?}"; shift 2 ;;
    --authorized-key) pubkey="${2:?}"; shift 2 ;;
    --hostname) hostname="${2:?}"; shift 2 ;;
    --suite) suites+=(--suite "${2:?}"); shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die 2 "unknown option '$1' (see --help)" ;;
  esac
done
[[ -n "$cache" && -n "$arch" && -n "$kernel" && -n "$out" && -n "$pubkey" ]] ||
  die 2 "--cache, --arch, --kernel, --out and --authorized-key are required"
[[ -r "$pubkey" ]] || die 2 "cannot read the authorized key $pubkey"
[[ -n "$hostname" ]] || hostname=$(basename "$out")
for tool in cpio dpkg-deb readelf xz dropbearkey; do
  command -v "$tool" >/dev/null ||
    die 4 "$tool is missing (scripts/install-deps.sh installs cpio, dpkg, binutils, xz-utils, dropbear-bin)"
done
case "$arch" in
  amd64 | arm64 | armhf) ;;
  *) die 2 "unsupported guest architecture '$arch' (amd64, arm64, armhf)" ;;
esac

fetch() { "$fetch" --cache "$cache" --arch "$arch" ${suites[@]+"${suites[@]}"} "$@"; }
cpio_of() { # $1 folder -> newc archive on stdout, every file owned by root
  (cd "$1" && find . -mindepth 1 | sort | cpio -o -H newc -R 0:0 --quiet)
}

# --- the kernel and its modules (cached per package version) ---------------------------
found=$(fetch resolve "$kernel") || exit $?
read -r pkg version <<<"$found"
# Keyed by this script's own hash too: a changed module list or /init rebuilds.
self_hash=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
kdir="$cache/kernels/${pkg}_${version//:/%3a}-$self_hash"
mkdir -p "$cache/kernels"
exec 9>"$kdir.lock"
flock 9
if [[ ! -e "$kdir/complete" ]]; then
  deb=$(fetch download "$pkg") || exit $?
  rm -rf "$kdir" "$kdir.tmp"
  mkdir -p "$kdir.tmp/unpacked" "$kdir.tmp/mods/lib/modules"
  # Only /boot and the modules wanted below (and what they are known to need): the whole
  # package is hundreds of megabytes of modules.
  unpack_some() { # tar wildcards; fails when one matches nothing
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir.tmp/unpacked" --wildcards "$@"
  }
  unpack() { unpack_some "$@" || die 4 "cannot unpack $deb"; }
  # (Each wildcard must match something in every kernel: tar fails on one that does not.)
  unpack './boot/*' '*/modules.builtin' '*virtio*' '*failover*' '*/net/sched/*'
  moddir=$(compgen -G "$kdir.tmp/unpacked/lib/modules/*" ||
    compgen -G "$kdir.tmp/unpacked/usr/lib/modules/*") || die 4 "$pkg has no modules folder"
  moddir=$(head -n 1 <<<"$moddir")
  release=$(basename "$moddir")
  cp "$kdir.tmp/unpacked/boot/vmlinuz-$release" "$kdir.tmp/vmlinuz" ||
    die 4 "$pkg has no /boot/vmlinuz-$release"
  cp "$kdir.tmp/unpacked/boot/config-$release" "$kdir.tmp/config" ||
    die 4 "$pkg has no /boot/config-$release"

  # Module name -> file, from the files themselves (the package has no modules.dep).
  declare -A file_of=()
  while IFS= read -r f; do
    name=$(basename "$f")
    name=${name%.xz}
    name=${name%.ko}
    file_of[${name//-/_}]=$f
  done < <(find "$moddir" -name '*.ko' -o -name '*.ko.xz')
  declare -A loaded=()
  order=()
  add_module() { # $1 module name: its dependencies first, then itself
    local name=${1//-/_} f tmp deps dep
    [[ -z "${loaded[$name]:-}" ]] || return 0
    loaded[$name]=1
    f=${file_of[$name]:-}
    if [[ -z "$f" ]] && ! grep -q "/$name.ko\$" "$moddir/modules.builtin" 2>/dev/null; then
      # A dependency the first unpacking did not take.
      unpack_some "*/$name.ko" "*/$name.ko.xz" "*/${name//_/-}.ko" "*/${name//_/-}.ko.xz" \
        2>/dev/null || true
      f=$(find "$moddir" -name "$name.ko*" -o -name "${name//_/-}.ko*" | head -n 1)
    fi
    [[ -n "$f" ]] || return 0  # built in (or not in this kernel at all)
    tmp="$kdir.tmp/mods/lib/modules/$name.ko"
    if [[ "$f" == *.xz ]]; then xz -dc "$f" >"$tmp"; else cp "$f" "$tmp"; fi
    deps=$(readelf -p .modinfo "$tmp" 2>/dev/null | sed -n 's/.*\]  depends=//p' | head -n 1)
    for dep in ${deps//,/ }; do
      add_module "$dep"
    done
    order+=("$name.ko")
  }
  # virtio-pci for the network card and the entropy source (without which dropbear waits
  # seconds for the kernel's randomness under TCG), and the clsact qdisc and cls_bpf that
  # tc programs attach through, which a distribution would load on demand.
  for m in virtio_pci virtio_net virtio_rng sch_ingress cls_bpf; do
    add_module "$m"
  done
  printf '%s\n' ${order[@]+"${order[@]}"} >"$kdir.tmp/mods/lib/modules/load.list"
  cpio_of "$kdir.tmp/mods" >"$kdir.tmp/modules.cpio"
  echo "$pkg $version $release" >"$kdir.tmp/kernel.txt"
  rm -rf "$kdir.tmp/unpacked" "$kdir.tmp/mods"
  touch "$kdir.tmp/complete"
  mv "$kdir.tmp" "$kdir"
fi
exec 9>&-

# --- the userland (cached per architecture and package versions) -----------------------
udebs=$(fetch download busybox-static && fetch download --closure dropbear-bin) || exit $?
ukey=$( (sort <<<"$udebs" | xargs -n1 basename; echo "$self_hash") | sha256sum | cut -c1-16)
udir="$cache/userland/$arch-$ukey"
mkdir -p "$cache/userland"
exec 9>"$udir.lock"
flock 9
if [[ ! -e "$udir/complete" ]]; then
  rm -rf "$udir" "$udir.tmp"
  mkdir -p "$udir.tmp/unpacked" "$udir.tmp/root"
  while IFS= read -r deb; do
    dpkg-deb -x "$deb" "$udir.tmp/unpacked" || die 4 "cannot unpack $deb"
  done <<<"$udebs"
  u="$udir.tmp/unpacked" r="$udir.tmp/root"
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc/dropbear,dev,proc,sys,tmp,run,root/.ssh,lib,var}
  ln -s ../run "$r/var/run"
  cp "$u/bin/busybox" "$r/bin/busybox"
  ln -s busybox "$r/bin/sh"
  cp "$u/usr/sbin/dropbear" "$r/usr/sbin/dropbear"

  # dropbear's shared libraries and loader, found from the ELF itself.
  lib_dirs=()
  for d in "$u"/lib/*-linux-gnu* "$u"/usr/lib/*-linux-gnu* "$u/lib" "$u/usr/lib"; do
    [[ ! -d "$d" ]] || lib_dirs+=("$d")
  done
  declare -A copied=()
  copy_lib() { # $1 soname: into the same path under the root, then its own NEEDED
    local soname=$1 d src rel need
    [[ -z "${copied[$soname]:-}" ]] || return 0
    copied[$soname]=1
    for d in "${lib_dirs[@]}"; do
      [[ -e "$d/$soname" ]] || continue
      src=$(readlink -f "$d/$soname")
      rel=${d#"$u"}
      mkdir -p "$r$rel"
      cp "$src" "$r$rel/$soname"
      for need in $(readelf -d "$src" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        copy_lib "$need"
      done
      return 0
    done
    die 4 "no $soname for $arch among dropbear's dependencies"
  }
  for need in $(readelf -d "$u/usr/sbin/dropbear" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    copy_lib "$need"
  done
  interp=$(readelf -l "$u/usr/sbin/dropbear" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
  [[ -n "$interp" ]] || die 4 "dropbear for $arch names no program interpreter"
  mkdir -p "$r$(dirname "$interp")"
  [[ -e "$r$interp" ]] || cp "$(readlink -f "$u$interp")" "$r$interp"

  cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
EOF
  echo "root:x:0:" >"$r/etc/group"
  echo "/bin/sh" >"$r/etc/shells"
  cat >"$r/init" <<'EOF'
#!/bin/sh
# bpfleet lab guest: mounts, modules, network, sshd; then stays up until QEMU is stopped.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
/bin/busybox mount -t proc proc /proc && /bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t bpf bpf /sys/fs/bpf || echo "bpfleet-lab: no bpffs"
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || echo "bpfleet-lab: no tracefs"
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || echo "bpfleet-lab: no debugfs"
mount -t cgroup2 cgroup2 /sys/fs/cgroup || echo "bpfleet-lab: no cgroup2"
for m in $(cat /lib/modules/load.list); do
  insmod "/lib/modules/$m" || echo "bpfleet-lab: insmod $m failed"
done
hostname "$(cat /etc/hostname)"
ip link set lo up
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 &&
  ip route add default via 10.0.2.2 || echo "bpfleet-lab: no network (eth0)"
chmod 700 /root /root/.ssh && chmod 600 /root/.ssh/authorized_keys
dropbear -F -E -s -r /etc/dropbear/host_key -p 22 -P /run/dropbear.pid &
echo "bpfleet-lab: sshd started ($(uname -r) $(uname -m) btf=$([ -e /sys/kernel/btf/vmlinux ] && echo yes || echo no))"
while :; do sleep 3600; done
EOF
  chmod 755 "$r/init"
  cpio_of "$r" >"$udir.tmp/userland.cpio"
  rm -rf "$udir.tmp/unpacked" "$udir.tmp/root"
  touch "$udir.tmp/complete"
  mv "$udir.tmp" "$udir"
fi
exec 9>&-

# --- the VM's own part: host key, authorized key, name ---------------------------------
mkdir -p "$out"
if [[ ! -s "$out/host_key" ]]; then
  rm -f "$out/host_key"
  dropbearkey -t ed25519 -f "$out/host_key" >/dev/null 2>&1 || die 4 "dropbearkey failed"
fi
dropbearkey -y -f "$out/host_key" 2>/dev/null | grep -E '^ssh-' | cut -d' ' -f1,2 \
  >"$out/host_key.pub" || die 4 "cannot read the public half of $out/host_key"
vm="$out/vm.tmp"
rm -rf "$vm"
mkdir -p "$vm/etc/dropbear" "$vm/root/.ssh"
cp "$out/host_key" "$vm/etc/dropbear/host_key"
cp "$pubkey" "$vm/root/.ssh/authorized_keys"
echo "$hostname" >"$vm/etc/hostname"
read -r _ _ release <"$kdir/kernel.txt"
cat >"$vm/etc/os-release" <<EOF
PRETTY_NAME="bpfleet lab guest (Debian 12 userland, $pkg)"
NAME="bpfleet lab"
ID=bpfleet-lab
ID_LIKE=debian
VERSION_ID="$release"
EOF
chmod 700 "$vm/root" "$vm/root/.ssh"
chmod 600 "$vm/root/.ssh/authorized_keys" "$vm/etc/dropbear/host_key"
cat "$udir/userland.cpio" "$kdir/modules.cpio" <(cpio_of "$vm") >"$out/initrd.img.tmp"
rm -rf "$vm"
cp "$kdir/vmlinuz" "$out/vmlinuz.tmp"
cp "$kdir/config" "$out/config"
cp "$kdir/kernel.txt" "$out/kernel.txt"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
mv "$out/initrd.img.tmp" "$out/initrd.img"
cat "$kdir/kernel.txt"
