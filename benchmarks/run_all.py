"""Run every benchmark and write benchmarks/RESULTS.md: `python benchmarks/run_all.py [--peers BENCH_DIR]`.

Micro-benchmarks of the parts always; with --peers, also the side-by-side harness of
../shared/bench (copied to BENCH_DIR, which must be writable) for regwatch, the stdlib reference
client and urlwatch with 50 workers (`--pages 1000 5000` for several sizes), interleaved repetitions
(`--reps`, default 5), ratios to the floor and to urlwatch first; and the pass inside `regwatch run`.
A ratio is the median of the repetitions' own ratios (each tool's pass against the floor's in the same
round, so a slow minute falls on both), with their range: on a shared machine one round's ratio can be
0.3 off another's, and a median alone would hide how near a target that puts it.
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

from benchmarks import (  # noqa: E402
    bench_after_passes,
    bench_classify,
    bench_cold_budget,
    bench_digest,
    bench_idle,
    bench_parse,
    bench_service_pass,
    bench_store,
)

REPS = 5
SERVICE_RUNS = 5  # one run of bench_service_pass moves by 0.1× with the minute


def peers(bench_dir: Path, pages: int, rounds: int = REPS) -> list[dict]:
    """The harness's passes over `pages` list pages for regwatch, the reference client (the floor) and
    urlwatch (when its venv is there), in interleaved repetitions — tool after tool, `rounds` times — so
    a slow minute on a shared machine falls on all of them; medians per tool, and each round's ratios."""
    env = {**os.environ, "REPS": "1", "CONCURRENCY": "50", "LATENCY_MS": "50",
           "REGWATCH_BIN": os.environ.get("REGWATCH_BIN") or str(Path(sys.executable).parent / "regwatch")}
    since = time.strftime("%Y-%m-%dT%H:%M:%S")
    runs = [(str(ROOT / "bench_adapter.sh"), "regwatch"), ("refclient", "refclient")]
    if (bench_dir / ".venvs" / "urlwatch" / "bin" / "urlwatch").exists():
        runs.append(("urlwatch", "urlwatch-workers50"))
    for rep in range(1, rounds + 1):
        for tool, variant in runs:
            subprocess.run(["./run_tool.sh", tool, str(pages)], cwd=bench_dir, check=True,
                           env={**env, "VARIANT": variant, "REP_START": str(rep)}, capture_output=True)
    rows = [json.loads(line) for line in (bench_dir / "results" / "raw.jsonl").read_text().splitlines()
            if line.strip()]
    failed = [r for r in rows if r.get("time", "") >= since and r.get("error")]
    if failed:  # a tool that did not run is not a missing row
        raise SystemExit(f"peer run failed: {failed[0]['variant']} N={failed[0]['N']}: {failed[0]['error']}"
                         f" (work dir {failed[0].get('workdir')})")
    table = []
    for variant in [v for _, v in runs]:
        reps = [r for r in rows if r.get("variant") == variant and r.get("time", "") >= since and "cold" in r
                and r.get("N") == pages]
        if not reps:
            continue

        def med(key: str, pass_name: str, reps: list = reps) -> float:
            return statistics.median(r[pass_name][key] for r in reps if r[pass_name].get(key) is not None)

        table.append({"tool": variant, "reps": sorted(reps, key=lambda r: r["rep"]),
                      "cold_s": med("wall_s", "cold"), "changed_s": med("wall_s", "changed"),
                      "peak_rss_mb": round(max(med("peak_rss_kb", "cold"), med("peak_rss_kb", "changed")) / 1024),
                      "cold_cpu_s": med("cpu_s", "cold"), "changed_cpu_s": med("cpu_s", "changed"),
                      "titles": f"{int(med('titles_found_decoded', 'changed'))}/"
                                f"{int(med('titles_expected', 'changed'))}",
                      "correct": all(r["changed"].get("changes_ok") and r["cold"].get("cold_ok") for r in reps)})
    return table


def ratio(row: dict, base: dict | None, pass_name: str) -> str:
    """The median of the rounds' ratios of `row`'s pass to `base`'s, and their range when they differ."""
    if not base:
        return "—"
    paired = {r["rep"]: r for r in base["reps"]}
    ratios = sorted(r[pass_name]["wall_s"] / paired[r["rep"]][pass_name]["wall_s"] for r in row["reps"]
                    if r["rep"] in paired)
    if not ratios:
        return "—"
    middle = f"{statistics.median(ratios):.2f}×"
    return middle if ratios[0] == ratios[-1] else f"{middle} ({ratios[0]:.2f}–{ratios[-1]:.2f})"


def peer_lines(table: list[dict], pages: int) -> list[str]:
    """Ratios first (to the floor, to urlwatch), then the absolute figures they come from."""
    floor = next((r for r in table if r["tool"] == "refclient"), None)
    urlwatch = next((r for r in table if r["tool"].startswith("urlwatch")), None)
    rounds = len(table[0]["reps"]) if table else 0
    lines = ["", f"Peer harness, N={pages}, latency 50 ms, concurrency 50, {rounds} interleaved repetitions: "
             "ratios are the median of each round's own (range in brackets), times the medians (targets for "
             "regwatch: cold ≤ 1.4× and changed ≤ 1.2× the floor):", "",
             "| tool | cold ÷ floor | changed ÷ floor | cold ÷ urlwatch | changed ÷ urlwatch | cold s | changed s "
             "| cold CPU s | changed CPU s | peak RSS MB | titles | correct |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['tool']} | {ratio(r, floor, 'cold')} | {ratio(r, floor, 'changed')} "
              f"| {ratio(r, urlwatch, 'cold')} | {ratio(r, urlwatch, 'changed')} "
              f"| {r['cold_s']:.2f} | {r['changed_s']:.2f} | {r['cold_cpu_s']:.2f} | {r['changed_cpu_s']:.2f} "
              f"| {r['peak_rss_mb']} | {r['titles']} | {r['correct']} |" for r in table]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peers", type=Path, help="a writable copy of shared/bench")
    parser.add_argument("--pages", type=int, nargs="+", default=[1000], help="list pages per peer run")
    parser.add_argument("--reps", type=int, default=REPS, help="interleaved rounds of the peer harness")
    args = parser.parse_args()
    results: dict[str, float] = {}
    for module in (bench_parse, bench_store, bench_classify, bench_digest, bench_idle):
        results.update(module.run())
        print(results, file=sys.stderr)
    lines = [f"# Benchmarks — {time.strftime('%Y-%m-%d')}, {platform.node()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}", "", "| benchmark | result | target |", "|---|---|---|"]
    targets = {"parse_pbc_list_page_ms": "—", "diff_20_vs_1M_ms": "≤ 2 ms", "store_per_s_with_classify": "—",
               "store_per_s_store_only": "≥ 20,000/s", "classify_10k_titles_s": "< 2 s",
               "digest_1000_notices_s": "< 1 s", "idle_rss_mb": "≤ 50 MB"}
    lines += [f"| {k} | {v} | {targets.get(k, '—')} |" for k, v in results.items()]
    if args.peers:
        for pages in args.pages:
            lines += peer_lines(peers(args.peers, pages, args.reps), pages)
        runs = [bench_service_pass.run(1000) for _ in range(SERVICE_RUNS)]

        def spread(kind: str, pass_name: str) -> str:
            values = sorted(run[kind][pass_name] for run in runs)
            return f"{statistics.median(values):g} ({values[0]:g}–{values[-1]:g})"

        lines += ["", f"Inside `regwatch run` (bench_service_pass.py, 1,000 sources, {SERVICE_RUNS} runs: medians "
                  "and ranges; target ≤ 1.1× the floor): "
                  f"cold {spread('ratio', 'cold')}× ({spread('service_s', 'cold')} s against "
                  f"{spread('floor_s', 'cold')} s), changed {spread('ratio', 'changed')}× "
                  f"({spread('service_s', 'changed')} s against {spread('floor_s', 'changed')} s); "
                  "every source falls due at one instant, one pass each tick; sources polled twice inside a "
                  f"round: {spread('repolls_in_round', 'cold')} cold, {spread('repolls_in_round', 'changed')} "
                  "changed (0 unless a round overran the interval)"]
        budget = bench_cold_budget.run(1000)
        lines += ["", "What the cold pass's CPU allows (bench_cold_budget.py, 1,000 pages, "
                  f"{budget['rounds']} interleaved rounds, medians): the floor {budget['floor_s']} s; "
                  f"regwatch {budget['cold_s']} s "
                  f"({budget['ratio']}×) on {budget['cpu_s']} s of CPU — its main process {budget['main_cpu_s']} s, "
                  f"its baseline helper {budget['helper_cpu_s']} s — beside the load server's "
                  f"{budget['server_cpu_s']} s. "
                  f"On {budget['cores']} cores no pass of that much CPU takes less than {budget['least_s']} s "
                  f"({budget['least_ratio']}× the floor), and its main process alone (one event loop, one core) "
                  f"not less than {budget['main_least_ratio']}×; the 1.4× target leaves regwatch "
                  f"{budget['target_cpu_s']} s of CPU on this machine. Its time: start-up {budget['startup_s']} s "
                  f"before the first poll began, the polls {budget['polls_s']} s, then {budget['end_s']} s to its exit"]
        after = bench_after_passes.run()
        lines += ["", "Memory given back (bench_after_passes.py, 1,000 sources): "
                  f"{after['idle_never_polled_rss_mb']} MB never polled; {after['busy_rss_mb']} MB after a cold and a "
                  "changed round, "
                  f"{after['idle_after_rounds_rss_mb']} MB once no pass has run for 12 s"]
    (ROOT / "RESULTS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
