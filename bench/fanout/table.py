#!/usr/bin/env python3
"""Medians of bench/fanout/run.sh's runs.tsv as a markdown table, then the targets.

    bench/fanout/table.py RUNS_TSV

One row per N, tool and run kind (cold, warm), over the valid runs only. Ratios are
tool / bpfleet of the same N and kind. Targets: bpfleet >= 5x faster than Ansible and
faster than parallel-ssh at N = 100, bpfleet peak RSS <= 100 MiB at N = 200, bpfleet warm
no slower than the `xargs -P N ssh` floor at N >= 50.
"""
import csv
import statistics
import sys

TOOLS = ("bpfleet", "baseline", "floor", "ansible", "pssh")
LABEL = {"bpfleet": "bpfleet", "baseline": "bpfleet (baseline build)", "ansible": "Ansible",
         "pssh": "parallel-ssh", "floor": "xargs -P N ssh (floor)"}
KINDS = ("cold", "warm")
RSS_TARGET_MIB = 100
ANSIBLE_TARGET = 5.0


def load(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def med(rows, key):
    values = [float(r[key]) for r in rows if r[key] not in ("", "-")]
    return statistics.median(values) if values else None


def fmt(value, spec):
    return "—" if value is None else format(value, spec)


def main():
    runs = load(sys.argv[1])
    ns = sorted({int(r["n"]) for r in runs})
    groups = {}
    for r in runs:
        groups.setdefault((int(r["n"]), r["tool"], r["mode"]), []).append(r)

    def valid(n, tool, kind):
        return [r for r in groups.get((n, tool, kind), []) if r["valid"] == "1"]

    def wall(n, tool, kind):
        return med(valid(n, tool, kind), "wall")

    def ratio(n, tool, kind):
        b, t = wall(n, "bpfleet", kind), wall(n, tool, kind)
        return None if b is None or t is None or b == 0 else t / b

    print("| N | tool | run | valid runs | wall (s) | × bpfleet | peak RSS (MiB) | CPU user+sys (s) "
          "| hosts' CPU (s) | notes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in ns:
        for tool in TOOLS:
            for kind in KINDS:
                every = groups.get((n, tool, kind), [])
                if not every:
                    continue
                ok = valid(n, tool, kind)
                rss = med(ok, "rss_kib")
                cpu = [float(r["user"]) + float(r["sys"]) for r in ok]
                notes = []
                copied = med(ok, "copied")
                if tool in ("bpfleet", "baseline") and copied is not None:
                    notes.append(f"agent uploaded by {copied:.0f}/{n} hosts")
                if tool == "ansible" and copied is not None:
                    notes.append(f"copy changed on {copied:.0f}/{n} hosts")
                extra = med(ok, "extra_cpu")
                if tool == "ansible" and extra is not None:
                    notes.append(f"+{extra:.1f} s CPU in ssh masters still open at the end")
                failed = sum(int(r["failed_hosts"]) for r in every if r["failed_hosts"] not in ("", "-"))
                if failed:
                    notes.append(f"{failed} failed host-runs over {len(every)} runs")
                r_ = ratio(n, tool, kind)
                print(f"| {n} | {LABEL[tool]} | {kind} | {len(ok)}/{len(every)} | {fmt(wall(n, tool, kind), '.2f')} "
                      f"| {'—' if tool == 'bpfleet' else fmt(r_, '.1f')} "
                      f"| {fmt(None if rss is None else rss / 1024, '.1f')} "
                      f"| {fmt(statistics.median(cpu) if cpu else None, '.2f')} "
                      f"| {fmt(med(ok, 'hosts_cpu'), '.1f')} | {'; '.join(notes)} |")

    loads = sorted(float(r["load1"]) for r in runs if r["load1"] not in ("", "-"))
    if loads:
        print()
        print(f"1-minute load average when a run started: median {statistics.median(loads):.1f}, "
              f"lowest {loads[0]:.1f}, highest {loads[-1]:.1f}.")
    print()
    print("Targets:")

    def ratios_at(n, tool):
        return [(kind, ratio(n, tool, kind)) for kind in KINDS if ratio(n, tool, kind) is not None]

    a = ratios_at(100, "ansible")
    if a:
        met = all(x >= ANSIBLE_TARGET for _, x in a)
        print(f"- N = 100, Ansible / bpfleet: {', '.join(f'{k} {x:.1f}×' for k, x in a)} "
              f"(target ≥ {ANSIBLE_TARGET:.0f}×): {'met' if met else 'NOT met'}")
    else:
        print("- N = 100, Ansible / bpfleet: not measured")
    p = ratios_at(100, "pssh")
    if p:
        met = all(x > 1.0 for _, x in p)
        print(f"- N = 100, parallel-ssh / bpfleet: {', '.join(f'{k} {x:.2f}×' for k, x in p)} "
              f"(target > 1×, bpfleet faster): {'met' if met else 'NOT met'}")
    else:
        print("- N = 100, parallel-ssh / bpfleet: not measured")
    for n in ns:
        f = ratios_at(n, "floor")
        if f and n >= 50:
            met = all(x >= 1.0 for k, x in f if k == "warm")
            print(f"- N = {n}, bpfleet / floor: {', '.join(f'{k} {1 / x:.2f}×' for k, x in f)} "
                  f"(target warm ≤ 1.0×): {'met' if met else 'NOT met'}")
    b = valid(200, "bpfleet", "cold") + valid(200, "bpfleet", "warm")
    if b:
        peak = max(float(r["rss_kib"]) for r in b) / 1024
        print(f"- N = 200, bpfleet peak RSS: {peak:.1f} MiB, the largest of {len(b)} runs "
              f"(target ≤ {RSS_TARGET_MIB} MiB): {'met' if peak <= RSS_TARGET_MIB else 'NOT met'}")
    else:
        print("- N = 200, bpfleet peak RSS: no valid run")
    bad = [r for r in runs if r["valid"] != "1"]
    if bad:
        print(f"- {len(bad)} invalid run(s), left out of the medians: "
              + ", ".join(f"{LABEL[r['tool']]} N={r['n']} {r['mode']} #{r['rep']} ({r['note']})" for r in bad))


if __name__ == "__main__":
    main()
