#!/usr/bin/env python3
"""Print the markdown table of the last `cargo bench -p iam-bench` run.

Usage: python3 crates/bench/report.py [CRITERION_DIR]   (default: target/criterion)
"""
import json, os, sys

root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"

def est(group, engine, case):
    with open(os.path.join(root, group, engine, case, "new", "estimates.json")) as f:
        e = json.load(f)
    return e["median"]["point_estimate"], e["mean"]["point_estimate"]

def fmt(ns):
    if ns >= 1_000_000:
        return f"{ns/1_000_000:.2f} ms"
    return f"{ns/1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"

for suffix, title in (("", "distinct buckets (resource index narrows)"), ("-wildcard", "wildcard buckets (resource index defeated: full scan of s3 statements)")):
    print(f"**{title}**\n")
    print("| N | request | iamd p50 | iamd mean | cedar p50 | cedar mean | cedar / iamd (p50) |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for n in (10, 100, 1000):
        for case in ("allowed", "denied"):
            i50, imean = est(f"n{n}{suffix}", "iamd", case)
            c50, cmean = est(f"n{n}{suffix}", "cedar", case)
            print(f"| {n:,} | {case} | {fmt(i50)} | {fmt(imean)} | {fmt(c50)} | {fmt(cmean)} | {c50/i50:.0f}× |")
    print()
