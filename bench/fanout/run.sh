#!/usr/bin/env bash
# Fan-out benchmark (not a timed test): N OpenSSH sshd "hosts" on 127.0.0.1
# (scripts/sshd-farm.sh), every host checking the same small object
# (tests/bpf/pass.bpf.o) three ways, side by side:
#   bpfleet       bpfleet run -i INVENTORY --forks N (uploads the agent, reuses it)
#   Ansible       ansible-playbook -f N, pipelining: copy agent + object, run the check
#   parallel-ssh  parallel-scp -p N agent + object, then parallel-ssh -p N the check
#   floor         the plain loop: `xargs -P N` one `ssh HOST AGENT check --object OBJ` per
#                 host (cold: one `scp` of agent + object per host first), one SSH
#                 session and one command per host: the least any tool can do
# each cold (the tool's remote folder emptied first) and warm (files already
# there), REPS runs of each, interleaved; a run counts only if every host
# passed. Prints a markdown table of medians (wall time, ratio to bpfleet, peak
# RSS and user+sys CPU of the controller side from GNU time, CPU of the hosts'
# side from the farm's sshd) and the targets: bpfleet >= 5x faster than Ansible
# and faster than parallel-ssh at N = 100, bpfleet peak RSS <= 100 MiB at N = 200.
#   bench/fanout/run.sh [REPS] [NS...]          (defaults: 5, 20 100 200)
# Environment:
#   BPFLEET_BUILD_DIR     build tree (build/default)
#   FANOUT_BASE_PORT      first port of the farm (3001); N ports from there
#   FANOUT_ANSIBLE_REPS   Ansible's runs: R for every N, or N:R,... per N (REPS)
#   FANOUT_TOOLS          which tools ("bpfleet ansible pssh floor"; also "baseline")
#   FANOUT_BASELINE_BUILD another build tree of bpfleet (e.g. of an older commit): the
#                         tool "baseline" runs its bpfleet and agent exactly as "bpfleet"
#                         runs this one's, interleaved, so that a change is measured
#                         against what it changed in the same run (added to FANOUT_TOOLS
#                         when set)
#   FANOUT_OUT            where results, logs and failed runs go (build/bench-fanout/DATE)
#   FANOUT_RESUME=1       go on with FANOUT_OUT's runs.tsv and binaries: repetitions
#                         already complete there are kept, partial ones run again
#   FANOUT_RUN_TIMEOUT    seconds before one run is stopped and counted invalid (1800)
#   FANOUT_BPFLEET_REV    what the results say bpfleet was built from (git HEAD of its sources)
#   FANOUT_CONNECT_TIMEOUT  bpfleet's connect_timeout for the farm's hosts (30 s; the
#                         default 10 s bounds connect, handshake and login together,
#                         and here N hosts' logins queue behind N agents on the same
#                         2 cores; OpenSSH's ConnectTimeout, which Ansible sets, bounds
#                         only the TCP connect and banner, and parallel-ssh sets none)
# Needs root (the farm logs in as root), a built tree, openssh-server,
# ansible-core, pssh and GNU time (scripts/install-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

die() {
    echo "bench: $*" >&2
    exit 2
}

reps=${1:-5}
[[ $# -gt 0 ]] && shift
ns=("$@")
[[ ${#ns[@]} -gt 0 ]] || ns=(20 100 200)
[[ $reps =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive number, not '$reps'"
for n in "${ns[@]}"; do
    [[ $n =~ ^[1-9][0-9]*$ && $n -le 4000 ]] || die "N must be 1..4000, not '$n'"
done
read -r -a tools <<<"${FANOUT_TOOLS:-bpfleet ansible pssh floor}"
baseline_build=${FANOUT_BASELINE_BUILD:-}
if [[ -n $baseline_build && " ${tools[*]} " != *" baseline "* ]]; then
    tools+=(baseline)
fi
for t in "${tools[@]}"; do
    case $t in bpfleet | ansible | pssh | floor | baseline) ;; *) die "FANOUT_TOOLS: unknown tool '$t' (bpfleet, ansible, pssh, floor, baseline)" ;; esac
done
if [[ " ${tools[*]} " == *" baseline "* ]]; then
    [[ -n $baseline_build ]] || die "the tool 'baseline' needs FANOUT_BASELINE_BUILD=DIR (a build tree)"
    for f in "$baseline_build/controller/bpfleet" "$baseline_build/agent/bpfleet-agent.stripped"; do
        [[ -e $f ]] || die "FANOUT_BASELINE_BUILD: $f missing"
    done
fi
build=${BPFLEET_BUILD_DIR:-build/default}
base_port=${FANOUT_BASE_PORT:-3001}
run_timeout=${FANOUT_RUN_TIMEOUT:-1800}
connect_timeout=${FANOUT_CONNECT_TIMEOUT:-30}
[[ $connect_timeout =~ ^[1-9][0-9]*$ ]] || die "FANOUT_CONNECT_TIMEOUT must be a positive number of seconds, not '$connect_timeout'"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${FANOUT_OUT:-build/bench-fanout/$stamp}

# Ansible's runs at N: FANOUT_ANSIBLE_REPS is R or N:R,N:R (others: REPS).
ansible_reps() {
    local spec=${FANOUT_ANSIBLE_REPS:-} item
    [[ -z $spec ]] && { echo "$reps"; return; }
    [[ $spec =~ ^[0-9]+$ ]] && { echo "$spec"; return; }
    for item in ${spec//,/ }; do
        [[ ${item%%:*} == "$1" ]] && { echo "${item#*:}"; return; }
    done
    echo "$reps"
}

# Prerequisites.
[[ $(id -u) -eq 0 ]] || die "run as root: the sshd farm and its root logins need it"
for f in "$build/controller/bpfleet" "$build/agent/bpfleet-agent.stripped" "$build/tests/bpf/pass.bpf.o"; do
    [[ -e $f ]] || die "$f missing: build the tree first (cmake --preset default && cmake --build --preset default)"
done
[[ -x /usr/sbin/sshd ]] || die "/usr/sbin/sshd missing (scripts/install-deps.sh installs openssh-server)"
for p in ssh scp ansible-playbook parallel-ssh parallel-scp python3 timeout ss; do
    command -v "$p" >/dev/null || die "$p missing (scripts/install-deps.sh installs ansible-core, pssh, openssh-client)"
done
/usr/bin/time --version 2>&1 | grep -q GNU || die "GNU time (/usr/bin/time) missing (scripts/install-deps.sh installs time)"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
max_n=$(printf '%s\n' "${ns[@]}" | sort -n | tail -1)
(($(ulimit -n) >= 8 * max_n + 256)) ||
    die "open files limit $(ulimit -n) is too low for N = $max_n (raise the hard limit: ulimit -Hn)"

mkdir -p "$out"
out=$(cd "$out" && pwd)
farm=$out/farm
remote_bpfleet=/tmp/bpfleet-bench-agent
remote_ansible=/tmp/bpfleet-bench-ansible
remote_pssh=/tmp/bpfleet-bench-pssh
remote_floor=/tmp/bpfleet-bench-floor
remote_baseline=/tmp/bpfleet-bench-baseline

# A copy of the binaries, so that a rebuild during the run changes nothing.
# Ansible and parallel-ssh get the very file bpfleet uploads.
resume=${FANOUT_RESUME:-0}
if [[ $resume == 1 ]]; then
    [[ -n ${FANOUT_OUT:-} && -f $out/runs.tsv && -x $out/bin/bpfleet ]] ||
        die "FANOUT_RESUME=1 needs FANOUT_OUT set to an earlier run's folder (runs.tsv, bin/bpfleet)"
else
    mkdir -p "$out/bin" "$out/stage"
    cp "$build/controller/bpfleet" "$out/bin/bpfleet"
    install -m 0700 "$build/agent/bpfleet-agent.stripped" "$out/stage/bpfleet-agent"
    install -m 0700 "$build/tests/bpf/pass.bpf.o" "$out/stage/pass.bpf.o"
    if [[ -n $baseline_build ]]; then
        cp "$baseline_build/controller/bpfleet" "$out/bin/bpfleet-baseline"
        install -m 0700 "$baseline_build/agent/bpfleet-agent.stripped" "$out/stage/baseline-agent"
    fi
fi
bpfleet=$out/bin/bpfleet
agent=$out/stage/bpfleet-agent
baseline_bpfleet=$out/bin/bpfleet-baseline
baseline_agent=$out/stage/baseline-agent
object=$out/stage/pass.bpf.o

cat >"$out/ansible.cfg" <<EOF
[defaults]
host_key_checking = False
gathering = explicit
retry_files_enabled = False
interpreter_python = /usr/bin/python3

[ssh_connection]
pipelining = True
EOF

cp_dirs=()  # Ansible's ControlPath folders, one per run
job=        # the GNU time of the run in flight
cleanup() {
    local rc=$? d tp
    trap - EXIT INT TERM
    if [[ -n $job ]] && kill -0 "$job" 2>/dev/null; then
        # timeout(1) under GNU time leads its own process group: end it all.
        tp=$(pgrep -P "$job" || true)
        [[ -n $tp ]] && kill -TERM -- "-$tp" 2>/dev/null
        wait "$job" 2>/dev/null || true
    fi
    for d in "${cp_dirs[@]}"; do
        [[ -d $d ]] && close_masters "$d" >/dev/null
        rm -rf "$d"
    done
    [[ -d $farm ]] && scripts/sshd-farm.sh stop "$farm" >/dev/null 2>&1
    rm -rf "$remote_bpfleet" "$remote_ansible" "$remote_pssh" "$remote_floor" "$remote_baseline"
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "bench: stopped by SIGINT (FANOUT_RESUME=1 FANOUT_OUT=$out goes on)" >&2; exit 130' INT
trap 'echo "bench: stopped by SIGTERM (FANOUT_RESUME=1 FANOUT_OUT=$out goes on)" >&2; exit 143' TERM

# CPU seconds of the hosts' side: what the farm's sshd listeners have reaped
# (every session's sshd, and through it the shell, agent or Python it ran).
# Only sessions that have ended count: read it after wait_idle.
hz=$(getconf CLK_TCK)
hosts_cpu() {
    local f stat total=0
    for f in "$farm"/sshd.*.pid; do
        [[ -f $f ]] || continue
        stat=$(cat "/proc/$(<"$f")/stat" 2>/dev/null) || continue
        stat=${stat##*) }
        total=$(awk -v t="$total" -v hz="$hz" '{ printf "%.2f\n", t + ($14 + $15) / hz }' <<<"$stat")
    done
    echo "$total"
}

# The 1-minute load average: other work on the machine shows up here.
load1() { cut -d' ' -f1 /proc/loadavg; }

# CPU seconds a process has used so far (utime + stime).
proc_cpu() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    stat=${stat##*) }
    awk -v hz="$hz" '{ printf "%.2f\n", ($12 + $13) / hz }' <<<"$stat"
}

# Ansible's ssh ControlPersist masters detach from ansible-playbook, so GNU
# time never sees their CPU (the encryption of every byte). Sum it, then end
# them: each run starts from no connection, as bpfleet's and pssh's do.
close_masters() {
    local sock pid total=0
    for sock in "$1"/*; do
        [[ -S $sock ]] || continue
        pid=$(ssh -o ControlPath="$sock" -O check bench 2>&1 | sed -n 's/.*(pid=\([0-9]*\)).*/\1/p')
        [[ -n $pid ]] && total=$(awk -v a="$total" -v b="$(proc_cpu "$pid")" 'BEGIN { print a + b }')
        ssh -o ControlPath="$sock" -O exit bench >/dev/null 2>&1 || true
    done
    echo "$total"
}

# Waits (up to 60 s) until the farm's sshd have no session left from the last run.
wait_idle() {
    farm_check
    local f pids=() i
    for f in "$farm"/sshd.*.pid; do
        [[ -f $f ]] && pids+=("$(<"$f")")
    done
    for ((i = 0; i < 600; i++)); do
        local busy=0 p
        for p in "${pids[@]}"; do
            [[ -n $(pgrep -P "$p" || true) ]] && { busy=1; break; }
        done
        ((busy == 0)) && break
        sleep 0.1
    done
    sleep 0.5
}

# Dies if one of the farm's sshd is gone: nothing after that would be valid.
farm_check() {
    local want=$(((n + 15) / 16)) have=0 f
    for f in "$farm"/sshd.*.pid; do
        [[ -f $f ]] && kill -0 "$(<"$f")" 2>/dev/null && have=$((have + 1))
    done
    ((have == want)) || die "only $have of the farm's $want sshd are running (stopped from outside?); results so far: $tsv"
}

empty_dir() {
    rm -rf "$1"
    mkdir -m 0700 "$1"
}

# Runs "$@" under GNU time and timeout(1) in the background (so that a signal
# reaches the trap at once); sets rc and TIMES to "wall maxrss_kib user sys".
timed() {
    local tf=$1
    shift
    /usr/bin/time -f '%e %M %U %S' -o "$tf" timeout -s TERM -k 30 "$run_timeout" "$@" &
    job=$!
    rc=0
    wait "$job" || rc=$?
    job=
    times=$(tail -n 1 "$tf")
    [[ $times =~ ^[0-9.]+\ [0-9]+\ [0-9.]+\ [0-9.]+$ ]] || times="0 0 0 0"
}

tsv=$out/runs.tsv
invalid=$out/invalid.md
if [[ $resume != 1 ]]; then
    printf 'n\ttool\tmode\trep\tvalid\twall\trss_kib\tuser\tsys\thosts_cpu\textra_cpu\tcopied\tfailed_hosts\tload1\tnote\n' >"$tsv"
    : >"$invalid"
fi

# Resuming: true if repetition I at N is complete in runs.tsv; if it is only
# partly there, its rows go (a warm run needs the cold run just before it).
rep_done() { # n i
    local want=0 have t
    for t in "${tools[@]}"; do
        [[ $t == ansible ]] && (($2 > $(ansible_reps "$1"))) && continue
        want=$((want + 2))
    done
    have=$(awk -F'\t' -v n="$1" -v i="$2" '$1 == n && $4 == i' "$tsv" | wc -l)
    ((have == want)) && return 0
    awk -F'\t' -v n="$1" -v i="$2" '!($1 == n && $4 == i)' "$tsv" >"$tsv.tmp" && mv "$tsv.tmp" "$tsv"
    return 1
}

load=      # the load average when the run started
record() { # n tool mode rep valid hosts_cpu extra_cpu copied failed_hosts note
    local wall rss user sys
    read -r wall rss user sys <<<"$times"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
        "$1" "$2" "$3" "$4" "$5" "$wall" "$rss" "$user" "$sys" "$6" "$7" "$8" "$9" "$load" "${10}" >>"$tsv"
    printf '  %-8s %-4s #%s: %6.2f s, %6.1f MiB, cpu %6.2f s, hosts cpu %6.1f s, load %s%s\n' "$2" "$3" "$4" "$wall" \
        "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$(awk -v a="$user" -v b="$sys" 'BEGIN { print a + b }')" \
        "$6" "$load" "$([[ $5 == 1 ]] && echo "${10:+, ${10}}" || echo ", INVALID: ${10}")"
}

# Appends what an invalid run did to invalid.md: the command, its stderr, a summary.
report_invalid() { # title command stderr_file summary
    {
        echo "### $1"
        echo
        echo '```'
        echo "$2"
        echo '```'
        echo
        echo "stderr (last 30 lines):"
        echo
        echo '```'
        tail -n 30 "$3" 2>/dev/null || true
        echo '```'
        echo
        echo "$4"
        echo
    } >>"$invalid"
}

run_baseline() { # n mode rep
    run_bpfleet "$@" baseline "$baseline_bpfleet" "$baseline_agent" "$remote_baseline"
}

run_bpfleet() { # n mode rep [tool binary agent remote-dir]
    local n=$1 mode=$2 rep=$3 m0 m1 check note valid
    local tool=${4:-bpfleet} exe=${5:-$bpfleet} agent_file=${6:-$agent} remote=${7:-$remote_bpfleet}
    local o=$out/runs/n$1/$tool-$2-$3
    [[ $mode == cold ]] && empty_dir "$remote"
    wait_idle
    load=$(load1)
    local cmd=("$exe" run -i "$farm/inventory.toml" -a "$object" -o "$o" --forks "$n"
        --known-hosts "$farm/known_hosts" --remote-dir "$remote" --agent "$agent_file" -q)
    m0=$(hosts_cpu)
    timed "$o.time" "${cmd[@]}" >"$o.stdout" 2>"$o.stderr"
    wait_idle
    m1=$(hosts_cpu)
    # ok|uploaded|hosts_ok|summary: the report must say every host is ok.
    check=$(python3 - "$o/report.json" "$n" <<'PY' 2>&1 || true
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as e:
    print(f"0|0|0|no report.json ({e})"); sys.exit()
s = r.get("summary", {})
up = sum(1 for h in r.get("hosts", []) if (h.get("agent") or {}).get("uploaded"))
bad = sorted({f"{h.get('status')}/{h.get('stage')}" for h in r.get("hosts", []) if h.get("status") != "ok"})
ok = s.get("hosts_ok") == int(sys.argv[2]) and s.get("fail", 1) == 0 and s.get("error", 1) == 0
print(f"{int(ok)}|{up}|{s.get('hosts_ok', 0)}|summary {json.dumps(s)}; not ok: {', '.join(bad) or 'none'}")
PY
    )
    local uploaded hosts_ok summary
    IFS='|' read -r valid uploaded hosts_ok summary <<<"$check"
    if [[ $rc -ne 0 || $valid != 1 ]]; then
        valid=0
        note="exit $rc, hosts_ok ${hosts_ok:-?}/$n"
        report_invalid "$tool, N = $n, $mode run $rep: exit $rc, hosts_ok ${hosts_ok:-?}/$n" \
            "$(printf '%q ' "${cmd[@]}")" "$o.stderr" "report.json: $summary"
        echo "bench: INVALID $tool run (N = $n, $mode #$rep): exit $rc, hosts_ok ${hosts_ok:-?}/$n; see $invalid" >&2
    else
        note=
        rm -rf "$o/hosts" # keep report.json and journal; 200 host folders per run add up
    fi
    record "$n" "$tool" "$mode" "$rep" "$valid" "$(awk -v a="$m1" -v b="$m0" 'BEGIN { print a - b }')" - \
        "${uploaded:-0}" "$((n - ${hosts_ok:-0}))" "$note"
}

run_ansible() { # n mode rep
    local n=$1 mode=$2 rep=$3 o=$out/runs/n$1/ansible-$2-$3 m0 m1 cpdir extra
    if [[ $mode == cold ]]; then empty_dir "$remote_ansible"; else mkdir -p -m 0700 "$remote_ansible"; fi
    wait_idle
    load=$(load1)
    cpdir=$(mktemp -d /tmp/fanout-cp.XXXXXX) # short: a ControlPath is a socket name
    cp_dirs+=("$cpdir")
    local cmd=(ansible-playbook -i "$farm/ansible-hosts.ini" -f "$n" "$repo/bench/fanout/playbook.yml"
        -e "agent_src=$agent" -e "object_src=$object" -e "remote_dir=$remote_ansible")
    m0=$(hosts_cpu)
    ANSIBLE_CONFIG=$out/ansible.cfg ANSIBLE_SSH_CONTROL_PATH_DIR=$cpdir ANSIBLE_NOCOLOR=1 \
        timed "$o.time" "${cmd[@]}" >"$o.stdout" 2>"$o.stderr"
    extra=$(close_masters "$cpdir")
    rm -rf "$cpdir"
    wait_idle
    m1=$(hosts_cpu)
    # PLAY RECAP: "host-001 : ok=3 changed=2 unreachable=0 failed=0 ..."
    local good changed
    good=$(grep -cE '^host-[0-9]+ +: ok=3 .*unreachable=0 +failed=0' "$o.stdout" || true)
    changed=$(grep -cE '^host-[0-9]+ +: ok=3 +changed=[1-9]' "$o.stdout" || true)
    local valid=1 note=
    if [[ $rc -ne 0 || $good -ne $n ]]; then
        valid=0
        note="exit $rc, $good/$n hosts ok"
        report_invalid "Ansible, N = $n, $mode run $rep: exit $rc, $good/$n hosts ok" \
            "ANSIBLE_CONFIG=$out/ansible.cfg $(printf '%q ' "${cmd[@]}")" "$o.stdout" \
            "recap: $(grep -E '^host-[0-9]+ +:' "$o.stdout" | grep -vE 'unreachable=0 +failed=0' | head -5 | tr -s ' ')"
        echo "bench: INVALID Ansible run (N = $n, $mode #$rep): $note; see $o.stdout" >&2
    fi
    record "$n" ansible "$mode" "$rep" "$valid" "$(awk -v a="$m1" -v b="$m0" 'BEGIN { print a - b }')" "$extra" \
        "$changed" "$((n - good))" "$note"
}

run_pssh() { # n mode rep
    local n=$1 mode=$2 rep=$3 o=$out/runs/n$1/pssh-$2-$3 m0 m1
    if [[ $mode == cold ]]; then empty_dir "$remote_pssh"; else mkdir -p -m 0700 "$remote_pssh"; fi
    wait_idle
    load=$(load1)
    mkdir -p "$o"
    local x="-i $farm/id_ed25519 -o UserKnownHostsFile=$farm/known_hosts"
    local script='parallel-scp -h "$1" -p "$2" -x "$3" -o "$4/scp.out" -e "$4/scp.err" "$5" "$6" "$7/" >"$4/scp.log" 2>&1; s=$?
parallel-ssh -h "$1" -p "$2" -x "$3" -o "$4/ssh.out" -e "$4/ssh.err" "$7/bpfleet-agent check --object $7/pass.bpf.o" >"$4/ssh.log" 2>&1
exit $((s | $?))'
    m0=$(hosts_cpu)
    timed "$o.time" bash -c "$script" pssh "$farm/hosts.txt" "$n" "$x" "$o" "$agent" "$object" "$remote_pssh" \
        >"$o.stdout" 2>"$o.stderr"
    wait_idle
    m1=$(hosts_cpu)
    local scp_ok ssh_ok
    scp_ok=$(grep -c '\[SUCCESS\]' "$o/scp.log" || true)
    ssh_ok=$(grep -c '\[SUCCESS\]' "$o/ssh.log" || true)
    local valid=1 note="" failed=$((n - (scp_ok < ssh_ok ? scp_ok : ssh_ok)))
    if [[ $rc -ne 0 || $scp_ok -ne $n || $ssh_ok -ne $n ]]; then
        valid=0
        note="exit $rc, scp $scp_ok/$n ok, check $ssh_ok/$n ok"
        report_invalid "parallel-ssh, N = $n, $mode run $rep: $note" \
            "parallel-scp -h $farm/hosts.txt -p $n -x '$x' $agent $object $remote_pssh/ && parallel-ssh -h $farm/hosts.txt -p $n -x '$x' '$remote_pssh/bpfleet-agent check --object $remote_pssh/pass.bpf.o'" \
            "$o/ssh.log" "scp failures: $(grep -m3 FAILURE "$o/scp.log" | tr '\n' ' ')"
        echo "bench: INVALID parallel-ssh run (N = $n, $mode #$rep): $note; see $o" >&2
    else
        rm -rf "$o/scp.out" "$o/scp.err" "$o/ssh.out" "$o/ssh.err"
    fi
    record "$n" pssh "$mode" "$rep" "$valid" "$(awk -v a="$m1" -v b="$m0" 'BEGIN { print a - b }')" - \
        "$n" "$failed" "$note"
}

run_floor() { # n mode rep
    local n=$1 mode=$2 rep=$3 o=$out/runs/n$1/floor-$2-$3 m0 m1
    if [[ $mode == cold ]]; then empty_dir "$remote_floor"; else mkdir -p -m 0700 "$remote_floor"; fi
    sed 's/.*://' "$farm/hosts.txt" | (cd "$remote_floor" && xargs mkdir -p)
    wait_idle
    load=$(load1)
    mkdir -p "$o"
    # One line per host from hosts.txt (root@127.0.0.1:PORT); each host's
    # output in its own file, "ok" or "FAIL" on the run's stdout. Every farm
    # host is this machine: each gets a folder of its own (named by its port,
    # made here as a real host would have it), or one host's scp would
    # overwrite the agent another is running (exit 126, "Text file busy").
    local script='h=${1%:*} p=${1##*:} o=$2 a=$3 b=$4 r=$5 mode=$6
x=(-i "$FLOOR_KEY" -o UserKnownHostsFile="$FLOOR_KNOWN" -o BatchMode=yes)
if [[ $mode == cold ]]; then scp -q -P "$p" "${x[@]}" "$a" "$b" "$h:$r/$p/" || { echo "FAIL $1 scp"; exit 0; }; fi
if ssh -p "$p" "${x[@]}" "$h" "$r/$p/bpfleet-agent check --object $r/$p/pass.bpf.o" >"$o/$p.out" 2>&1; then echo "ok $1"; else echo "FAIL $1 $?"; fi'
    m0=$(hosts_cpu)
    FLOOR_KEY=$farm/id_ed25519 FLOOR_KNOWN=$farm/known_hosts \
        timed "$o.time" xargs -a "$farm/hosts.txt" -P "$n" -I{} bash -c "$script" floor {} "$o" "$agent" "$object" "$remote_floor" "$mode" \
        >"$o.stdout" 2>"$o.stderr"
    wait_idle
    m1=$(hosts_cpu)
    local good valid=1 note=
    good=$(grep -c '^ok ' "$o.stdout" || true)
    if [[ $rc -ne 0 || $good -ne $n ]]; then
        valid=0
        note="exit $rc, $good/$n hosts ok"
        report_invalid "floor, N = $n, $mode run $rep: $note" "xargs -P $n ssh HOST ..." "$o.stdout" \
            "$(grep -m3 FAIL "$o.stdout" | tr '\n' ' ')"
        echo "bench: INVALID floor run (N = $n, $mode #$rep): $note; see $o" >&2
    else
        rm -rf "$o"
    fi
    record "$n" floor "$mode" "$rep" "$valid" "$(awk -v a="$m1" -v b="$m0" 'BEGIN { print a - b }')" - \
        "$([[ $mode == cold ]] && echo "$n" || echo 0)" "$((n - good))" "$note"
}

has_tool() { [[ " ${tools[*]} " == *" $1 "* ]]; }

# Machine facts, for the results file.
pkg() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo '?'; }
if [[ $resume == 1 && -f $out/facts.md ]]; then
    # The machine and binaries of the first start, and every resume.
    facts=$(<"$out/facts.md")
    facts+=$'\n'"- resumed $(date -u '+%H:%M UTC'): repetitions complete before are kept, partial ones ran again"
else
    facts=$(
        src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt" 2>/dev/null)
        if [[ -n ${FANOUT_BPFLEET_REV:-} ]]; then
            rev=$FANOUT_BPFLEET_REV
        elif rev=$(git -C "${src:-.}" rev-parse --short HEAD 2>/dev/null); then
            git -C "$src" diff --quiet HEAD -- controller src agent || rev+=", with uncommitted changes"
        else
            rev="not a git checkout"
        fi
        echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); bpfleet built $(date -u -r "$build/controller/bpfleet" '+%H:%M UTC') from ${src:-?} ($rev)"
        echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
        echo "- versions: openssh $(pkg openssh-server), libssh $(pkg libssh-4) (bpfleet), ansible-core $(pkg ansible-core), pssh $(pkg pssh), python3 $(pkg python3)"
        if [[ -n $baseline_build ]]; then
            bsrc=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$baseline_build/CMakeCache.txt" 2>/dev/null)
            echo "- baseline: bpfleet from $baseline_build ($(git -C "${bsrc:-.}" rev-parse --short HEAD 2>/dev/null || echo '?')), agent $(stat -c %s "$baseline_agent") bytes stripped"
        fi
        echo "- agent: $(stat -c %s "$agent") bytes stripped, object pass.bpf.o $(stat -c %s "$object") bytes (3 programs)"
        echo "- runs: $reps per tool and kind$(has_tool ansible && [[ -n ${FANOUT_ANSIBLE_REPS:-} ]] && echo " (Ansible: $FANOUT_ANSIBLE_REPS)")"
        echo "- bpfleet: connect_timeout = $connect_timeout s for the farm's hosts (FANOUT_CONNECT_TIMEOUT), --forks N"
    )
fi
echo "$facts" >"$out/facts.md"
echo "$facts"
echo "bench: results in $out"

# One untimed run of every tool against one host: page cache, Python's
# bytecode cache, and a check that each tool works here at all.
scripts/sshd-farm.sh start "$farm" --count 1 --base-port "$base_port" --log-level INFO >/dev/null
mkdir -p "$out/runs/n1"
main_tsv=$tsv
tsv=$out/warmup.tsv
cp "$main_tsv" "$tsv"
echo "warm-up, 1 host:"
for t in "${tools[@]}"; do
    "run_$t" 1 cold 0
done
tsv=$main_tsv

for n in "${ns[@]}"; do
    scripts/sshd-farm.sh start "$farm" --count "$n" --base-port "$base_port" --log-level INFO >/dev/null
    sed -i "/^\[defaults\]\$/a connect_timeout = $connect_timeout" "$farm/inventory.toml"
    mkdir -p "$out/runs/n$n"
    echo "N = $n: $(grep -c '^\[hosts\.' "$farm/inventory.toml") hosts on 127.0.0.1:$base_port..$((base_port + n - 1))"
    ar=$(ansible_reps "$n")
    for ((i = 1; i <= reps; i++)); do
        if [[ $resume == 1 ]] && rep_done "$n" "$i"; then
            echo "  repetition $i: already in $tsv"
            continue
        fi
        for mode in cold warm; do
            if has_tool bpfleet; then run_bpfleet "$n" "$mode" "$i"; fi
            if has_tool ansible && ((i <= ar)); then run_ansible "$n" "$mode" "$i"; fi
            if has_tool pssh; then run_pssh "$n" "$mode" "$i"; fi
            if has_tool floor; then run_floor "$n" "$mode" "$i"; fi
            if has_tool baseline; then run_baseline "$n" "$mode" "$i"; fi
        done
    done
done
scripts/sshd-farm.sh stop "$farm" >/dev/null

{
    echo "# Fan-out benchmark, $(date -u '+%Y-%m-%d')"
    echo
    echo "\`bench/fanout/run.sh $reps ${ns[*]}\`"
    echo
    echo "$facts"
    echo
    python3 "$repo/bench/fanout/table.py" "$tsv"
    if [[ -s $invalid ]]; then
        echo
        echo "## Invalid runs"
        echo
        cat "$invalid"
    fi
} >"$out/results.md"
echo
cat "$out/results.md"
echo
echo "bench: wrote $out/results.md (raw runs: $tsv)"
