#!/usr/bin/env bash
# debian-fetch.sh: fetch Debian packages of any architecture and suite through a private
# apt configuration, without touching the machine's own sources, lists or dpkg database.
#
# Usage:
#   debian-fetch.sh --cache DIR --arch ARCH [--suite SUITE]... COMMAND ARGS...
#
#   resolve NAME|REGEX         print "PACKAGE VERSION" of the newest package named NAME, or
#                              whose whole name matches the extended regex REGEX
#   download [--closure] PKG...  print the paths of the packages' .deb files (cached); with
#                              --closure also those of every package they depend on
#   extract --into ROOT [--closure] PKG...  unpack the packages into ROOT (dpkg-deb -x)
#
#   --cache   where the apt state and the .deb files are kept (DIR/apt/..., DIR/debs/ARCH/)
#   --arch    a Debian architecture: amd64, arm64, armhf, ...
#   --suite   bookworm (the default), bookworm-security, bullseye, ... (repeatable)
#   --mirror  the archive (default $BPFLEET_DEBIAN_MIRROR, else http://deb.debian.org/debian;
#             *-security suites use the same URL with -security appended)
#
# The package lists are fetched once and refreshed when a day old or when a package is not
# found; apt checks every .deb against the signed lists (debian-archive-keyring). Each
# architecture and set of suites has its own lists, so an index that fails to download for
# one architecture cannot get in the way of another. Parallel runs share the cache (flock).
#
# Exit status: 0 done, 2 usage, 3 no such package, 4 apt failed (download, lists).
set -euo pipefail
export LC_ALL=C

die() { # $1 status, $2... message
  local rc=$1
  shift
  printf 'debian-fetch: %s\n' "$*" >&2
  exit "$rc"
}

cache="" arch="" suites=() mirror="${BPFLEET_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
while (($#)); do
  case "$1" in
    --cache) cache="${2:?}"; shift 2 ;;
    --arch) arch="${2:?}"; shift 2 ;;
    --suite) suites+=("${2:?}"); shift 2 ;;
    --mirror) mirror="${2:?}"; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    -*) die 2 "unknown option '$1' (see --help)" ;;
    *) break ;;
  esac
done
[[ -n "$cache" ]] || die 2 "--cache is required"
[[ "$arch" =~ ^[a-z0-9]+$ ]] || die 2 "--arch wants a Debian architecture (amd64, arm64, armhf)"
((${#suites[@]})) || suites=(bookworm)
(($#)) || die 2 "no command (resolve, download, extract)"
command=$1
shift

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r "$keyring" ]] || die 4 "$keyring is missing (Debian package debian-archive-keyring)"

mapfile -t sorted < <(printf '%s\n' "${suites[@]}" | sort -u)
apt_dir="$cache/apt/$arch-$(IFS=+; echo "${sorted[*]}")"
debs="$cache/debs/$arch"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/empty.d" "$debs"
touch "$apt_dir/status"
exec 8>"$apt_dir.lock"
flock 8
{
  for s in "${sorted[@]}"; do
    url=$mirror
    [[ "$s" != *-security ]] || url="${mirror%/}-security"
    echo "deb [arch=$arch signed-by=$keyring] $url $s main"
  done
} >"$apt_dir/sources.list.new"
cmp -s "$apt_dir/sources.list.new" "$apt_dir/sources.list" 2>/dev/null ||
  mv "$apt_dir/sources.list.new" "$apt_dir/sources.list"
rm -f "$apt_dir/sources.list.new"

apt_opts=(
  -o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o "Dir::Etc::sourceparts=$apt_dir/empty.d"
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::State::status=$apt_dir/status"
  -o "Dir::Cache=$apt_dir/cache" -o Dir::Cache::pkgcache=pkgcache.bin
  -o Dir::Cache::srcpkgcache=srcpkgcache.bin -o "Dir::Etc::preferencesparts=$apt_dir/empty.d"
  -o "Dir::Etc::preferences=$apt_dir/preferences"
  -o "APT::Architecture=$arch" -o "APT::Architectures=$arch"
  -o Acquire::Languages=none -o "APT::Sandbox::User=$(id -un)"
  -o Debug::NoLocking=1
)
apt_get() { apt-get -q "${apt_opts[@]}" "$@"; }
apt_cache() { apt-cache "${apt_opts[@]}" "$@"; }

update() {
  printf 'debian-fetch: updating the package lists for %s (%s)\n' "$arch" "${sorted[*]}" >&2
  # apt-get update only warns (and succeeds) when an archive cannot be reached.
  if ! apt_get update >"$apt_dir/update.log" 2>&1 ||
    grep -qE '^(E: |W: Failed to fetch)' "$apt_dir/update.log"; then
    if [[ -e "$apt_dir/updated" ]]; then
      # Offline (or the archive is in trouble): the lists of the last update still name
      # packages whose .deb files may well be cached.
      printf 'debian-fetch: apt-get update for %s failed; using the lists of %s (%s)\n' \
        "$arch" "$(date -r "$apt_dir/updated" '+%F %T')" "$apt_dir/update.log" >&2
      return 0
    fi
    die 4 "apt-get update for $arch (${sorted[*]}) failed: $(grep -E '^(E|W):' \
      "$apt_dir/update.log" | head -n 2 | tr '\n' ' ')(log: $apt_dir/update.log)"
  fi
  touch "$apt_dir/updated"
}
if [[ ! -e "$apt_dir/updated" || -n "$(find "$apt_dir/updated" -mmin +1440)" ]]; then
  update
fi

newest() { # $1 exact name or regex -> "NAME VERSION", empty when none
  local name="" version
  if [[ "$1" =~ ^[a-z0-9][a-z0-9.+-]*$ ]] && apt_cache show "$1" >/dev/null 2>&1; then
    name=$1
  else
    name=$(apt_cache pkgnames | grep -E "^($1)\$" | sort -V | tail -n 1) || true
  fi
  [[ -n "$name" ]] || return 0
  version=$(apt_cache policy "$name" | awk '/^  Candidate:/ {print $2}')
  [[ -z "$version" || "$version" == "(none)" ]] || echo "$name $version"
}
resolve() { # like newest, refreshing stale lists once; status 3 when there is no such package
  local found
  found=$(newest "$1")
  if [[ -z "$found" ]]; then
    update
    found=$(newest "$1")
  fi
  [[ -n "$found" ]] || die 3 "no package '$1' for $arch in ${sorted[*]}"
  echo "$found"
}

closure() { # package names -> them and everything they depend on
  apt_cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "$@" | grep -E '^[a-z0-9]' | sort -u
}

download() { # [--closure] PKG... -> .deb paths
  local with_closure=0 names=() pkg found ver file
  [[ "${1:-}" != --closure ]] || { with_closure=1; shift; }
  for pkg in "$@"; do
    found=$(resolve "$pkg")
    names+=("${found%% *}")
  done
  if ((with_closure)); then
    mapfile -t names < <(closure "${names[@]}")
    ((${#names[@]})) || die 4 "apt-cache depends found nothing for $*"
  fi
  for pkg in "${names[@]}"; do
    ver=$(apt_cache policy "$pkg" | awk '/^  Candidate:/ {print $2}')
    [[ -n "$ver" && "$ver" != "(none)" ]] || die 3 "no package '$pkg' for $arch in ${sorted[*]}"
    file="$debs/${pkg}_${ver//:/%3a}_$arch.deb"
    [[ -f "$file" ]] || file="$debs/${pkg}_${ver//:/%3a}_all.deb"
    if [[ ! -f "$file" ]]; then
      printf 'debian-fetch: downloading %s %s (%s)\n' "$pkg" "$ver" "$arch" >&2
      if ! (cd "$debs" && apt_get download "$pkg=$ver" >"$apt_dir/download.log" 2>&1); then
        # The archive may have moved on since the lists were fetched.
        update
        (cd "$debs" && apt_get download "$pkg=$ver" >"$apt_dir/download.log" 2>&1) ||
          die 4 "apt-get download $pkg=$ver ($arch) failed: $(grep -E '^(E|W):' \
            "$apt_dir/download.log" | head -n 2 | tr '\n' ' ')"
      fi
      file=$(compgen -G "$debs/${pkg}_${ver//:/%3a}_*.deb" | head -n 1) ||
        die 4 "apt-get download $pkg=$ver left no .deb in $debs"
    fi
    echo "$file"
  done
}

case "$command" in
  resolve)
    (($# == 1)) || die 2 "resolve takes one name or regex"
    resolve "$1"
    ;;
  download)
    (($#)) || die 2 "download: no package given"
    download "$@"
    ;;
  extract)
    [[ "${1:-}" == --into && -n "${2:-}" ]] || die 2 "extract wants --into ROOT"
    root=$2
    shift 2
    (($#)) || die 2 "extract: no package given"
    mkdir -p "$root"
    list="$apt_dir/extract.$$"
    download "$@" >"$list" || { rc=$?; rm -f "$list"; exit "$rc"; }
    mapfile -t files <"$list"
    rm -f "$list"
    for f in "${files[@]}"; do
      dpkg-deb -x "$f" "$root" || die 4 "cannot unpack $f"
    done
    ;;
  *) die 2 "unknown command '$command' (resolve, download, extract)" ;;
esac
