#!/usr/bin/env bash
# run-in-kernel.sh: run ONE command inside a real Debian kernel under QEMU (TCG, no KVM)
# and hand back its stdout, stderr and exit status as if it had run here.
#
# Usage:
#   run-in-kernel.sh (--kernel-package PKG|auto61|auto612 | --kernel VMLINUZ)
#                    [--cache DIR] [--file HOSTPATH[:GUESTPATH]]... [--timeout SEC]
#                    [--console FILE] -- COMMAND [ARGS...]
#
#   --kernel-package  a Debian kernel package, e.g. linux-image-6.1.0-56-cloud-amd64-unsigned;
#                     auto61 / auto612 pick the newest 6.1 / 6.12 cloud-amd64-unsigned one.
#                     Fetched with `apt-get download` into the cache, only /boot is unpacked.
#   --kernel          a bzImage on disk instead (no apt at all).
#   --cache           default ${XDG_CACHE_HOME:-$HOME/.cache}/bpfleet/lab
#   --file            copied into the initramfs; GUESTPATH defaults to /in/BASENAME (the
#                     last ':' splits the two). Modes are kept, so binaries stay executable.
#   --timeout         seconds before QEMU is killed (default 120): exit status 124.
#   --console         keep the guest's serial console log in FILE (boot messages, /init notes).
#
# Exit status: the guest command's own (126/127 when it can't be run there, 128+N when a
# signal killed it); 124 on timeout; 125 when the harness failed (usage, apt, QEMU, or the
# guest died without reporting: the console's tail is then printed to stderr).
#
# Guest: 512M, one CPU, no network, no modules (BPF, BTF, NVMe, the 8250 UART, devtmpfs and
# bpffs are built into Debian's cloud kernels; virtio is not). /init mounts proc, sysfs,
# devtmpfs, bpffs, tracefs (debugfs as a fallback), cgroup2 and a tmpfs /tmp, runs the
# command as root in / with stdin from /dev/null, then powers off. PATH: busybox applets.
#
# How the output comes back: never on the console (ttyS0), which carries whatever the
# kernel and /init print at any log level, and where a printk can land mid-line. Once the
# command has finished, /init writes one frame: a header line with a per-run random nonce
# and the exact byte counts of stdout and stderr, those bytes, then an end line. The frame
# goes to a sparse scratch NVMe disk (built into cloud kernels; ~4 MB/s under TCG where the
# UART manages ~100 KB/s, and verifier logs can be megabytes); if no NVMe device shows up,
# it goes to a second UART, ttyS1, set raw (no \n -> \r\n), that QEMU writes to a file of
# its own. The host takes exactly the counted bytes: byte-faithful (no \r to strip, binary
# safe), and a missing or truncated frame is an error instead of being passed on as output.
set -euo pipefail
export LC_ALL=C  # byte counts and byte-wise regexes

die() { printf 'run-in-kernel: %s\n' "$*" >&2; exit 125; }
note() { printf 'run-in-kernel: %s\n' "$*" >&2; }

pkg="" kernel="" timeout_s=120 console_keep="" files=()
cache="${XDG_CACHE_HOME:-$HOME/.cache}/bpfleet/lab"
while (($#)); do
  case "$1" in
    --kernel-package) pkg="${2:?}"; shift 2 ;;
    --kernel) kernel="${2:?}"; shift 2 ;;
    --cache) cache="${2:?}"; shift 2 ;;
    --file) files+=("${2:?}"); shift 2 ;;
    --timeout) timeout_s="${2:?}"; shift 2 ;;
    --console) console_keep="${2:?}"; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
(($#)) || die "no command given after --"
[[ -n "$pkg" || -n "$kernel" ]] || die "need --kernel-package or --kernel"
[[ "$timeout_s" =~ ^[1-9][0-9]*$ ]] || die "--timeout wants a positive integer"

# --- host tools (idempotent) ----------------------------------------------------------
need=()
for p in qemu-system-x86 busybox-static cpio; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || need+=("$p")
done
if ((${#need[@]})); then
  note "installing ${need[*]}"
  { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" ||
    { apt-get update && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${need[@]}"; }; } >&2 ||
    die "could not install ${need[*]}"
fi

# --- kernel ---------------------------------------------------------------------------
newest() { # $1: package name or regex; prints "NAME VERSION" of the newest candidate
  apt-cache policy "$1" 2>/dev/null | awk '/^[^ ].*:$/ {n = substr($0, 1, length($0) - 1)}
    /^  Candidate:/ && $2 != "(none)" {print n, $2}' | sort -k2,2V | tail -n1
}
if [[ -z "$kernel" ]]; then
  case "$pkg" in
    auto61) re='^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' ;;
    auto612) re='^linux-image-6\.12\.[0-9]+\+deb[0-9]+-cloud-amd64-unsigned$' ;;
    *) re="$pkg" ;;  # apt-cache takes an exact name before trying it as a regex
  esac
  found=$(newest "$re")
  if [[ -z "$found" || ("$re" == "$pkg" && "${found%% *}" != "$pkg") ]]; then
    apt-get update >&2 || die "apt-get update failed"  # lists missing or stale
    found=$(newest "$re")
  fi
  [[ -n "$found" && ("$re" != "$pkg" || "${found%% *}" == "$pkg") ]] ||
    die "apt has no candidate for $pkg"
  read -r pkg ver <<<"$found"
  kdir="$cache/${pkg}_$ver"
  mkdir -p "$cache" && exec 9>"$cache/.lock" && flock 9  # parallel runs share the cache
  if ! compgen -G "$kdir/boot/vmlinuz-*" >/dev/null; then
    mkdir -p "$kdir.tmp" && rm -rf "${kdir:?}.tmp/"*
    note "downloading $pkg $ver"
    (cd "$kdir.tmp" && apt-get -o APT::Sandbox::User=root download "$pkg=$ver" >&2) ||
      die "apt-get download $pkg failed"
    dpkg-deb --fsys-tarfile "$kdir.tmp"/*.deb | tar -x -C "$kdir.tmp" ./boot/ ||
      die "could not unpack $pkg"
    rm -f "$kdir.tmp"/*.deb && rm -rf "$kdir" && mv "$kdir.tmp" "$kdir"
  fi
  exec 9>&-
  kernel=$(compgen -G "$kdir/boot/vmlinuz-*" | head -n1)
  note "kernel $pkg $ver"
fi
[[ -r "$kernel" ]] || die "kernel image $kernel not readable"

# --- initramfs ------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/run-in-kernel.XXXXXX") qpid=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() { [[ -z "$qpid" ]] || kill "$qpid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,in,run}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"  # the other applets are linked by /init (faster than 400 ln)
for spec in ${files[@]+"${files[@]}"}; do
  if [[ "$spec" == *:* ]]; then src="${spec%:*}" dst="${spec##*:}"; else src="$spec" dst=""; fi
  [[ -n "$dst" ]] || dst="/in/$(basename "$src")"
  [[ "$dst" == /* ]] || dst="/in/$dst"
  [[ -e "$src" ]] || die "--file: no such file $src"
  mkdir -p "$root$(dirname "$dst")"
  cp -rL --preserve=mode "$src" "$root$dst"
done

q() { printf "'%s'" "${1//\'/\'\\\'\'}"; } # POSIX single-quoting for the guest's sh
cmd=""; for a in "$@"; do cmd+="$(q "$a") "; done
nonce=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
mark="BPFLEET-RESULT-$nonce"

cat >"$root/init" <<EOF
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/ TERM=dumb
/bin/busybox mount -t proc proc /proc && /bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mkdir -p /sys/fs/bpf && mount -t bpf bpf /sys/fs/bpf || echo "init: no bpffs"
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null ||
  mount -t debugfs debugfs /sys/kernel/debug || echo "init: no tracefs/debugfs"
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null || echo "init: no cgroup2"
echo "init: \$(uname -r) btf=\$([ -e /sys/kernel/btf/vmlinux ] && echo yes || echo no)"
cd /
($cmd) </dev/null >/run/out 2>/run/err  # subshell: exit/exec cannot end init
rc=\$?
{ echo "$mark rc=\$rc out=\$(wc -c </run/out) err=\$(wc -c </run/err)"
  cat /run/out /run/err; echo "END-$mark"; } >/run/frame
i=0; while [ ! -b /dev/nvme0n1 ] && [ \$i -lt 60 ]; do sleep 0.05; i=\$((i + 1)); done
if [ -b /dev/nvme0n1 ] && dd if=/run/frame of=/dev/nvme0n1 bs=1M conv=fsync 2>/dev/null; then
  echo "init: rc=\$rc, result on nvme0n1"
else
  stty -F /dev/ttyS1 raw -echo && cat /run/frame >/dev/ttyS1
  echo "init: rc=\$rc, result on ttyS1"
fi
sync; poweroff -f
EOF
chmod 755 "$root/init"
(cd "$root" && find . | cpio -o -H newc --quiet) >"$work/initrd.cpio" || die "cpio failed"

# --- boot -----------------------------------------------------------------------------
# ttyS0 = console (kept as a log, never parsed); NVMe disk or ttyS1 = the result frame only.
# `quiet` keeps warnings and errors on the console for diagnosis; they cannot reach the frame.
truncate -s 256M "$work/disk.img"
t0=$(date +%s.%N)
timeout -k 5 "$timeout_s" qemu-system-x86_64 -accel tcg -m 512M -smp 1 -nographic \
  -no-reboot -nic none -monitor none -serial "file:$work/console.log" -serial "file:$work/result" \
  -drive "file=$work/disk.img,if=none,id=out,format=raw" -device nvme,drive=out,serial=out \
  -kernel "$kernel" -initrd "$work/initrd.cpio" \
  -append "console=ttyS0 quiet panic=-1 rdinit=/init" </dev/null >"$work/qemu.log" 2>&1 &
qpid=$! qrc=0  # in the background, so that a signal to this script ends it too
wait "$qpid" || qrc=$?; qpid=""
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
[[ -z "$console_keep" ]] || cp "$work/console.log" "$console_keep"

fail() { # $1 status, $2 message: show why, with the console's tail
  note "$2 (after ${secs}s)"
  tail -n 30 "$work/qemu.log" "$work/console.log" | tr -d '\033\r' >&2 || true; exit "$1"
}
((qrc != 124)) || fail 124 "timeout: the guest had ${timeout_s}s (--timeout), QEMU killed"

# --- result frame ---------------------------------------------------------------------
res="" hdr=""
for f in "$work/disk.img" "$work/result"; do  # the frame starts at offset 0 of either
  hdr=$(head -c 512 "$f" | head -n1 | tr -d '\0') || continue
  [[ "$hdr" =~ ^$mark\ rc=([0-9]+)\ out=([0-9]+)\ err=([0-9]+)$ ]] && res=$f && break
done
[[ -n "$res" ]] || fail 125 "guest gave no result (qemu status $qrc)"
rc=${BASH_REMATCH[1]} out=${BASH_REMATCH[2]} err=${BASH_REMATCH[3]}
start=$((${#hdr} + 1))
part() { dd if="$res" iflag=skip_bytes,count_bytes skip="$1" count="$2" status=none; }
trailer=$(part $((start + out + err)) $((${#mark} + 4)))
[[ "$trailer" == "END-$mark" ]] || fail 125 "result truncated (header: $hdr)"
part "$start" "$out"
part $((start + out)) "$err" >&2
note "guest exit $rc after ${secs}s"
exit "$rc"
