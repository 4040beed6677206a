#!/usr/bin/env bash
# A farm of OpenSSH sshd "hosts" on 127.0.0.1 for the SSH integration tests,
# bench/fanout and trying `bpfleet run -i` by hand. Every host is one port; an
# sshd listens on at most 16 addresses, so N hosts are ceil(N/16) sshd
# processes, each on up to 16 consecutive ports. Run as root (the hosts log in
# as root with a throwaway key).
#
#   scripts/sshd-farm.sh start [DIR] [--count N] [--base-port P] [--key-type T] [--log-level L] [--with-bashrc]
#   scripts/sshd-farm.sh stop [DIR]
#   scripts/sshd-farm.sh status [DIR]
#
# DIR defaults to build/test-sshd (what inventory/local-sshd.toml points at),
# N to 3, P to 2201, T (the client key: ed25519, ecdsa, rsa) to ed25519, L to
# DEBUG1. Sessions get SHLVL=1 (sshd SetEnv), which makes bash skip ~/.bashrc
# for commands run over ssh: a .bashrc that runs something slow (pyenv init)
# would otherwise cost every command, and every tool compared, about a second.
# --with-bashrc leaves that out. `start` writes into DIR:
#
#   id_T, id_T.pub       client key (kept across restarts)
#   ssh_host_ed25519_key host key (kept across restarts, so accept-new stays valid)
#   authorized_keys      the client key, for every user
#   known_hosts          the host key for every port ([127.0.0.1]:PORT)
#   sshd_config.K        config of sshd K (K = 1..ceil(N/16)); sshd.K.pid, sshd.K.log
#   inventory.toml       hosts host-001..host-N for bpfleet
#   hosts.txt            root@127.0.0.1:PORT per line, for parallel-ssh -h
#   ansible-hosts.ini    the same hosts for ansible -i
#
# `start` on a DIR whose farm is running stops it first. `stop` stops the sshd
# processes of DIR (and their sessions) and removes their pid files.
set -euo pipefail

readonly kSshd=/usr/sbin/sshd
readonly kPortsPerSshd=16
readonly kWaitSeconds=20

die() {
    echo "sshd-farm: $*" >&2
    exit 2
}

usage() {
    sed -n '8,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

repo_root=$(cd "$(dirname "$0")/.." && pwd)

cmd=${1:-}
[[ -n $cmd ]] || usage
shift
dir=$repo_root/build/test-sshd
if [[ $# -gt 0 && $1 != --* ]]; then
    dir=$1
    shift
fi
count=3
base_port=2201
key_type=ed25519
log_level=DEBUG1
with_bashrc=0
while [[ $# -gt 0 ]]; do
    case $1 in
    --count) count=${2:?--count needs a value}; shift 2 ;;
    --base-port) base_port=${2:?--base-port needs a value}; shift 2 ;;
    --key-type) key_type=${2:?--key-type needs a value}; shift 2 ;;
    --log-level) log_level=${2:?--log-level needs a value}; shift 2 ;;
    --with-bashrc) with_bashrc=1; shift ;;
    -h | --help) usage ;;
    *) die "unknown argument '$1'" ;;
    esac
done

[[ $count =~ ^[0-9]+$ && $count -ge 1 && $count -le 4000 ]] || die "--count must be 1..4000, not '$count'"
[[ $base_port =~ ^[0-9]+$ && $base_port -ge 1024 ]] || die "--base-port must be a number >= 1024, not '$base_port'"
((base_port + count - 1 <= 65535)) || die "ports $base_port..$((base_port + count - 1)) go past 65535"
case $key_type in ed25519 | ecdsa | rsa) ;; *) die "--key-type must be ed25519, ecdsa or rsa, not '$key_type'" ;; esac
case $log_level in QUIET | FATAL | ERROR | INFO | VERBOSE | DEBUG | DEBUG1 | DEBUG2 | DEBUG3) ;;
*) die "--log-level must be an sshd LogLevel, not '$log_level'" ;; esac

# The pid in FILE, if it is an sshd started with one of DIR's configs.
farm_pid() {
    local file=$1 pid
    [[ -f $file ]] || return 1
    pid=$(<"$file")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$dir/sshd_config." || return 1
    echo "$pid"
}

# True while PID is a process that has not exited (a zombie has: PID 1 here
# may take a while to reap the daemons it inherited).
alive() {
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $state && $state != Z && $state != X ]]
}

stop_farm() {
    local file pid i pids=() victims=()
    shopt -s nullglob
    for file in "$dir"/sshd.*.pid; do
        if pid=$(farm_pid "$file"); then
            pids+=("$pid")
            # Sessions too: once the listener is gone they would be orphans.
            victims+=("$pid" $(pgrep -P "$pid" || true))
            echo "sshd-farm: stopping sshd $pid ($(basename "$file" .pid))"
        fi
        rm -f "$file"
    done
    shopt -u nullglob
    [[ ${#victims[@]} -gt 0 ]] || return 0
    kill -TERM "${victims[@]}" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        for pid in "${victims[@]}"; do
            alive "$pid" && break
            pid=
        done
        [[ -z $pid ]] && return 0
        sleep 0.1
    done
    kill -KILL "${victims[@]}" 2>/dev/null || true
}

status_farm() {
    local file pid k running=0
    shopt -s nullglob
    for file in "$dir"/sshd.*.pid; do
        if pid=$(farm_pid "$file"); then
            k=${file##*/sshd.}
            k=${k%.pid}
            echo "sshd.$k: pid $pid, $(grep -c '^ListenAddress' "$dir/sshd_config.$k" 2>/dev/null || true) ports"
            running=$((running + 1))
        fi
    done
    shopt -u nullglob
    [[ $running -gt 0 ]] || { echo "sshd-farm: nothing running in $dir"; return 1; }
}

# The TCP ports something listens on, one per line (one ss call for all).
listening_ports() {
    ss -Hltn 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }' | sort -u
}

# The ports of base_port..base_port+count-1 that nobody listens on.
ports_not_listening() {
    comm -23 <(seq "$base_port" $((base_port + count - 1)) | sort) <(listening_ports) | sort -n
}

start_farm() {
    [[ $(id -u) -eq 0 ]] || die "run as root (sshd and root logins need it)"
    [[ -x $kSshd ]] || die "$kSshd missing: scripts/install-deps.sh installs openssh-server"

    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    stop_farm >/dev/null

    local port busy
    busy=$(comm -12 <(seq "$base_port" $((base_port + count - 1)) | sort) <(listening_ports) | sort -n | head -5)
    if [[ -n $busy ]]; then
        port=${busy%%$'\n'*}
        die "port(s) $(echo $busy) already in use on this machine: $(ss -Hltnp "sport = :$port" | head -1)"
    fi

    # Each sshd keeps a socket per session and MaxStartups pre-auth ones.
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    # Debian's sshd needs its privilege-separation directory (made by the
    # service unit, which does not run here).
    mkdir -p /run/sshd
    chmod 0755 /run/sshd

    local client_key=$dir/id_$key_type
    local bits=()
    [[ $key_type == rsa ]] && bits=(-b 3072)
    [[ -f $client_key ]] || ssh-keygen -q -t "$key_type" "${bits[@]}" -N '' -C "bpfleet-sshd-farm" -f "$client_key"
    local host_key=$dir/ssh_host_ed25519_key
    [[ -f $host_key ]] || ssh-keygen -q -t ed25519 -N '' -C "bpfleet-sshd-farm-host" -f "$host_key"
    cp "$client_key.pub" "$dir/authorized_keys"
    chmod 0600 "$dir/authorized_keys"

    local nsshd=$(((count + kPortsPerSshd - 1) / kPortsPerSshd))
    rm -f "$dir"/sshd_config.* "$dir"/sshd.*.log
    local k first last conf
    for ((k = 1; k <= nsshd; k++)); do
        first=$((base_port + (k - 1) * kPortsPerSshd))
        last=$((first + kPortsPerSshd - 1))
        ((last <= base_port + count - 1)) || last=$((base_port + count - 1))
        conf=$dir/sshd_config.$k
        {
            echo "# sshd $k of the farm in $dir: ports $first..$last"
            for ((port = first; port <= last; port++)); do
                echo "ListenAddress 127.0.0.1:$port"
            done
            cat <<EOF
HostKey $host_key
PidFile $dir/sshd.$k.pid
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxStartups 2000:30:4000
MaxSessions 64
LogLevel $log_level
AllowTcpForwarding yes
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
Subsystem sftp internal-sftp
EOF
            [[ $with_bashrc -eq 1 ]] || echo "SetEnv SHLVL=1"
        } >"$conf"
        "$kSshd" -t -f "$conf" || die "sshd rejects $conf (above)"
        # Daemonizes; writes PidFile once listening.
        "$kSshd" -f "$conf" -E "$dir/sshd.$k.log" ||
            die "sshd $k did not start: $(tail -5 "$dir/sshd.$k.log" 2>/dev/null)"
    done

    local deadline=$((SECONDS + kWaitSeconds)) missing
    while :; do
        missing=$(ports_not_listening)
        [[ -z $missing ]] && break
        if ((SECONDS >= deadline)); then
            echo "sshd-farm: after ${kWaitSeconds}s nothing listens on port(s) $(echo $missing | cut -d' ' -f1-20)" >&2
            tail -n 5 "$dir"/sshd.*.log >&2 || true
            stop_farm >&2
            exit 1
        fi
        sleep 0.1
    done

    # Client-side files.
    local host_pub
    host_pub=$(cut -d' ' -f1-2 "$host_key.pub")
    : >"$dir/known_hosts"
    : >"$dir/hosts.txt"
    {
        echo "# $count sshd hosts on 127.0.0.1:$base_port..$((base_port + count - 1)), written by scripts/sshd-farm.sh"
        echo "[defaults]"
        echo "user = \"root\""
        echo "identity_file = \"$client_key\""
        echo "host_key_policy = \"accept-new\""
        echo "tags = [\"loopback\"]"
    } >"$dir/inventory.toml"
    {
        echo "# $count sshd hosts, written by scripts/sshd-farm.sh"
        echo "[farm]"
    } >"$dir/ansible-hosts.ini"
    local i name
    for ((i = 1; i <= count; i++)); do
        port=$((base_port + i - 1))
        name=$(printf 'host-%03d' "$i")
        echo "[127.0.0.1]:$port $host_pub" >>"$dir/known_hosts"
        echo "root@127.0.0.1:$port" >>"$dir/hosts.txt"
        printf '\n[hosts.%s]\naddress = "127.0.0.1"\nport = %d\n' "$name" "$port" >>"$dir/inventory.toml"
        echo "$name ansible_host=127.0.0.1 ansible_port=$port ansible_user=root ansible_ssh_private_key_file=$client_key" \
            >>"$dir/ansible-hosts.ini"
    done
    cat >>"$dir/ansible-hosts.ini" <<EOF

[farm:vars]
ansible_python_interpreter=/usr/bin/python3
ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=$dir/known_hosts'
EOF

    echo "sshd-farm: $count hosts on 127.0.0.1:$base_port..$((base_port + count - 1)) ($nsshd sshd) in $dir"
    echo "  ssh -i $client_key -o UserKnownHostsFile=$dir/known_hosts -p $base_port root@127.0.0.1"
    echo "  bpfleet run -i $dir/inventory.toml -a OBJECT.bpf.o"
    echo "  parallel-ssh -h $dir/hosts.txt -x '-i $client_key -o UserKnownHostsFile=$dir/known_hosts' true"
    echo "  ansible -i $dir/ansible-hosts.ini farm -m ping"
    echo "  scripts/sshd-farm.sh stop $dir"
}

case $cmd in
start) start_farm ;;
stop)
    [[ -d $dir ]] || die "no such directory: $dir"
    dir=$(cd "$dir" && pwd)
    stop_farm
    ;;
status)
    [[ -d $dir ]] || die "no such directory: $dir"
    dir=$(cd "$dir" && pwd)
    status_farm
    ;;
*) usage ;;
esac
