#!/usr/bin/env python3
"""Markdown tables of the criterion results of gramkit-bench.

Reads every ``<criterion dir>/**/new/estimates.json`` (with the
``benchmark.json`` beside it for the group, library and case names) and
prints one table per benchmark group: the case, each library's median time,
and the ratio gramkit / peer for every other library (below 1: gramkit is
faster).

The criterion directory is, in order: the first argument; else
``$CARGO_TARGET_DIR/criterion``; else ``target/criterion`` of the workspace
this script sits in. Standard library only.

    python3 bench/report.py                 # all groups
    python3 bench/report.py --group cholesky_f64
"""

import argparse
import json
import os
import re
import sys
from pathlib import Path

# Libraries whose name starts with this are gramkit (e.g. `gramkit`,
# `gramkit_into`); each gets a ratio column against every other library.
OURS = "gramkit"


def default_dir():
    env = os.environ.get("CARGO_TARGET_DIR")
    if env:
        return Path(env) / "criterion"
    return Path(__file__).resolve().parent.parent / "target" / "criterion"


def natural_key(s):
    """'f32_n16' after 'f32_n8', 1024 after 256."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def fmt_time(ns):
    """Three significant digits with a unit: 16.7 ns, 346 µs, 9.74 ms."""
    unit, scale = "ns", 1.0
    for u, sc in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= sc:
            unit, scale = u, sc
            break
    v = ns / scale
    digits = 0 if v >= 100 else 1 if v >= 10 else 2
    return f"{v:.{digits}f} {unit}"


def load(root):
    """{group: {case: {library: median_ns}}}"""
    groups = {}
    for est in sorted(root.glob("**/new/estimates.json")):
        meta_path = est.with_name("benchmark.json")
        try:
            est_data = json.loads(est.read_text())
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError) as e:
            print(f"warning: skipping {est}: {e}", file=sys.stderr)
            continue
        group = meta.get("group_id")
        library = meta.get("function_id")
        case = meta.get("value_str")
        if library is None:  # a bench_function outside a BenchmarkId
            library, case = group, ""
        median = est_data["median"]["point_estimate"]
        groups.setdefault(group, {}).setdefault(case or "", {})[library] = median
    return groups


def table(group, cases):
    libs = sorted({lib for per in cases.values() for lib in per})
    ours = [lib for lib in libs if lib.startswith(OURS)]
    peers = [lib for lib in libs if not lib.startswith(OURS)]
    pairs = [(o, p) for o in ours for p in peers]
    cols = ["case"] + ours + peers + [f"{o}/{p}" for o, p in pairs]
    lines = [f"### {group}", "", "| " + " | ".join(cols) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(cols) - 1)) + "|"]
    for case in sorted(cases, key=natural_key):
        per = cases[case]
        row = [case]
        for lib in ours + peers:
            row.append(fmt_time(per[lib]) if lib in per else "—")
        for o, p in pairs:
            if o in per and p in per and per[p] > 0:
                row.append(f"{per[o] / per[p]:.2f}x")
            else:
                row.append("—")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", nargs="?", type=Path, help="criterion output directory")
    ap.add_argument("--group", action="append", help="only this group (repeatable)")
    args = ap.parse_args()
    root = args.dir or default_dir()
    if not root.is_dir():
        sys.exit(f"no criterion output at {root}: run `cargo bench -p gramkit-bench` first")
    groups = load(root)
    if args.group:
        groups = {g: c for g, c in groups.items() if g in args.group}
    if not groups:
        sys.exit(f"no results under {root}")
    print(f"Median wall time per call (criterion, {root}); ratio < 1: gramkit faster.\n")
    print("\n\n".join(table(g, groups[g]) for g in sorted(groups)))


if __name__ == "__main__":
    main()
