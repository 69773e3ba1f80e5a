"""Run every benchmark in turn, each in its own process, and summarise the targets.

    python bench/run_all.py --model-dir models/stance-minilm

Each benchmark writes bench/results/<name>.json; this script then writes
bench/results/summary.json with the headline figures and whether each target
was met. It refuses to run while `stance train` is running (timings taken
beside a training job say nothing about the code); --allow-busy overrides.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import from the repo root, not from bench/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import common

BENCHMARKS = ("engine", "service", "batch", "startup")


def headline(name: str, r: dict) -> list[list]:
    if name == "engine":
        return [
            ["engine vs best-batched pipeline", f"{r['speedup_vs_best_pipeline']:.2f}x", ">= 1.5x", r["targets"]["speedup_met"]],
            ["engine efficiency (useful GFLOP/s / fp32 peak)", f"{100 * r['efficiency']:.1f}% of {r['peak']['peak_gflops']:.0f}", ">= 50%", r["targets"]["efficiency_met"]],
        ] + ([
            ["int8 engine (served by default) vs best-batched pipeline", f"{r['int8']['x_best_pipeline']:.2f}x", ">= 1.5x", r["int8"]["x_best_pipeline"] >= 1.5],
        ] if r.get("int8") else [])
    if name == "service":
        return [[label, f"{t['value']:.2f}", "", t["met"]] for label, t in r["targets"].items()]
    if name == "batch":
        return [["stance classify vs engine offline (wall clock)", f"{r['ratio_wall_vs_offline']:.2f}x ({r['paragraphs_per_s_wall']:.0f} para/s)", "", None]]
    if name == "startup":
        return [
            ["stance serve time to ready", f"{r['serve']['ready_s']:.2f} s (pipeline {r['baseline']['ready_s']:.2f} s)", "< 3 s", r["targets"]["ready_met"]],
            ["stance serve peak RSS under load", f"{r['serve']['peak_rss_mb']:.0f} MB (pipeline {r['baseline']['peak_rss_mb']:.0f} MB)", "< 500 MB", r["targets"]["rss_met"]],
        ]
    return []


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated subset to run")
    p.add_argument("--against-ref", default=None, help="passed to bench/engine.py: also time the engine as of this git revision")
    args = p.parse_args(argv)
    common.check_model_dir(args.model_dir)
    common.refuse_if_busy(args)
    extra = ["--allow-busy"] if args.allow_busy else []
    failed, seconds = [], {}
    for name in args.only.split(","):
        print(f"\n=== bench/{name}.py ===", flush=True)
        started = time.perf_counter()
        options = ["--against-ref", args.against_ref] if name == "engine" and args.against_ref else []
        code = subprocess.run([sys.executable, f"bench/{name}.py", "--model-dir", str(args.model_dir), *extra, *options], cwd=common.REPO).returncode
        seconds[name] = time.perf_counter() - started
        if code != 0:
            failed.append(name)
    rows = []
    for name in args.only.split(","):
        path = common.RESULTS_DIR / f"{name}.json"
        if name not in failed and path.is_file():
            rows += headline(name, json.loads(path.read_text()))
    print()
    print(common.table(["figure", "value", "target", "met"], rows, title="summary"))
    common.write_results("summary", {
        "model_dir": str(args.model_dir),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": common.machine(),
        "seconds": seconds,
        "failed": failed,
        "rows": [dict(zip(("figure", "value", "target", "met"), r)) for r in rows],
    })
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
