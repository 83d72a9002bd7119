"""Run every benchmark and write benchmarks/RESULTS.md: `python benchmarks/run_all.py [--peers BENCH_DIR]`.

Micro-benchmarks of the parts always; with --peers, also the side-by-side harness of
../shared/bench (copied to BENCH_DIR, which must be writable) for regwatch, the stdlib reference
client and urlwatch with 50 workers at N=1000, three repetitions each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from benchmarks import bench_classify, bench_digest, bench_idle, bench_parse, bench_store  # noqa: E402


def peers(bench_dir: Path) -> list[dict]:
    env = {**os.environ, "REPS": "3", "CONCURRENCY": "50", "LATENCY_MS": "50"}
    since = time.strftime("%Y-%m-%dT%H:%M:%S")
    runs = [(str(ROOT / "bench_adapter.sh"), "regwatch"), ("refclient", "refclient")]
    if (bench_dir / ".venvs" / "urlwatch" / "bin" / "urlwatch").exists():
        runs.append(("urlwatch", "urlwatch-workers50"))
    for tool, variant in runs:
        subprocess.run(["./run_tool.sh", tool, "1000"], cwd=bench_dir, check=True,
                       env={**env, "VARIANT": variant}, capture_output=True)
    rows = [json.loads(line) for line in (bench_dir / "results" / "raw.jsonl").read_text().splitlines()
            if line.strip()]
    table = []
    for variant in [v for _, v in runs]:
        reps = [r for r in rows if r.get("variant") == variant and r.get("time", "") >= since and "cold" in r]
        if not reps:
            continue

        def med(key: str, pass_name: str, reps: list = reps) -> float:
            return statistics.median(r[pass_name][key] for r in reps if r[pass_name].get(key) is not None)

        table.append({"tool": variant, "cold_s": med("wall_s", "cold"), "changed_s": med("wall_s", "changed"),
                      "peak_rss_mb": round(max(med("peak_rss_kb", "cold"), med("peak_rss_kb", "changed")) / 1024),
                      "cold_cpu_s": med("cpu_s", "cold"), "changed_cpu_s": med("cpu_s", "changed"),
                      "titles": f"{int(med('titles_found_decoded', 'changed'))}/"
                                f"{int(med('titles_expected', 'changed'))}",
                      "correct": all(r["changed"].get("changes_ok") and r["cold"].get("cold_ok") for r in reps)})
    return table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peers", type=Path, help="a writable copy of shared/bench")
    args = parser.parse_args()
    results: dict[str, float] = {}
    for module in (bench_parse, bench_store, bench_classify, bench_digest, bench_idle):
        results.update(module.run())
        print(results, file=sys.stderr)
    lines = [f"# Benchmarks — {time.strftime('%Y-%m-%d')}, {platform.node()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}", "", "| benchmark | result | target |", "|---|---|---|"]
    targets = {"parse_pbc_list_page_ms": "—", "diff_20_vs_1M_ms": "≤ 2 ms", "store_per_s_with_classify": "—",
               "store_per_s_store_only": "≥ 20,000/s", "classify_10k_titles_s": "< 2 s",
               "digest_1000_notices_s": "< 1 s", "idle_rss_mb_18_sources": "≤ 50 MB"}
    lines += [f"| {k} | {v} | {targets.get(k, '—')} |" for k, v in results.items()]
    if args.peers:
        lines += ["", "Peer harness, N=1000, latency 50 ms, concurrency 50, medians of 3:", "",
                  "| tool | cold s | changed s | cold CPU s | changed CPU s | peak RSS MB | titles | correct |",
                  "|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['tool']} | {r['cold_s']:.2f} | {r['changed_s']:.2f} | {r['cold_cpu_s']:.2f} | "
                  f"{r['changed_cpu_s']:.2f} | {r['peak_rss_mb']} | {r['titles']} | {r['correct']} |"
                  for r in peers(args.peers)]
    (ROOT / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
