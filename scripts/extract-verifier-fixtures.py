#!/usr/bin/env python3
"""Turn bpfleet.check/v1 documents into classifier fixtures.

usage: extract-verifier-fixtures.py OUT_DIR CHECK.json...

For every program whose load failed, writes OUT_DIR/<object>--<program>.json
with what the classifier sees (errno, program type, verifier log, libbpf
messages) and the kernel it came from. The expected failure code is not
recorded here: tests/unit/bpf/classifier_test.cpp states it per case, so a
fixture never blesses the classifier's own answer.
"""
import json
import os
import sys


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    written = 0
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if doc.get("schema") != "bpfleet.check/v1" or doc.get("error"):
            continue
        obj = doc["object"]["name"].removesuffix(".o").removesuffix(".bpf")
        for prog in doc["programs"]:
            load = prog["load"]
            if load["verdict"] != "fail":
                continue
            fixture = {
                "kernel": doc["kernel"]["release"],
                "arch": doc["kernel"]["arch"],
                "object": obj,
                "program": prog["name"],
                "prog_type": prog["type"],
                "errno": load["errno"],
                "log": (load.get("log") or {}).get("text", ""),
                "libbpf_messages": load["libbpf_messages"],
            }
            name = f"{obj}--{prog['name']}.json"
            with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
                json.dump(fixture, f, indent=1)
                f.write("\n")
            written += 1
    print(f"{written} fixtures written to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
