"""Paragraphs per second of the serving engine against the transformers pipeline.

Both run the same fine-tuned model on the same paragraphs with the same
thread count. The pipeline runs at its default batch size and at the best
of a sweep (measured on a subset); the engine runs with its defaults, as
`stance serve` does, on all paragraphs in one call (the batch command's
case) and on calls of 8-32 random paragraphs (the micro-batcher's case
under load). Efficiency is the engine's useful GFLOP/s (real tokens only;
the count is in bench/peak.py) over this machine's measured fp32 matmul peak.

    python bench/engine.py --model-dir models/stance-minilm
    python bench/engine.py --model-dir models/stance-minilm --against-ref 58ae0b3 --shapes

--against-ref times service/engine.py as of a git revision beside the
current one; --shapes prints the cost per token of each batch shape, the
measurement behind the engine's token budget per batch.
"""

from __future__ import annotations

import importlib.util
import os
import random
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import from the repo root, not from bench/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import numpy as np

from bench import common
from bench.peak import measure_peak, window_flops

TARGET_SPEEDUP = 1.5
TARGET_EFFICIENCY = 0.5


def engine_work(engine, texts: list[str]) -> dict:
    """Tokens and FLOPs of one engine call, from the batches the engine plans for it."""
    windows = engine.windows(texts)
    lengths = sorted(len(w.ids) for w in windows)
    if hasattr(engine, "plan"):
        spans = engine.plan(lengths)
    else:  # an engine from before batch planning: fixed chunks of the sorted order
        spans = [range(b, min(b + engine.batch_size, len(lengths))) for b in range(0, len(lengths), engine.batch_size)]
    useful = sum(window_flops(engine.config, n) for n in lengths)
    executed = sum(len(span) * window_flops(engine.config, lengths[span.stop - 1]) for span in spans)
    padded_tokens = sum(len(span) * lengths[span.stop - 1] for span in spans)
    return {
        "windows": len(windows),
        "batches": len(spans),
        "tokens": sum(lengths),
        "padded_tokens": padded_tokens,
        "mean_window_tokens": sum(lengths) / len(lengths),
        "max_window_tokens": lengths[-1],
        "useful_gflop": useful / 1e9,
        "executed_gflop": executed / 1e9,
    }


def pipeline_padding(tokenizer, texts: list[str], batch_size: int) -> float:
    """Share of the pipeline's tokens that are padding: it pads each batch, in input order, to its longest text."""
    lengths = [len(ids) for ids in tokenizer(texts)["input_ids"]]
    padded = sum(len(lengths[b : b + batch_size]) * max(lengths[b : b + batch_size]) for b in range(0, len(lengths), batch_size))
    return 1 - sum(lengths) / padded


def mixed_calls(texts: list[str], count: int = 60, seed: int = common.SAMPLE_SEED) -> list[list[str]]:
    """Calls like those the micro-batcher makes under load: 8 to 32 random paragraphs each."""
    rng = random.Random(seed)
    return [rng.sample(texts, rng.randint(8, 32)) for _ in range(count)]


def engine_at_ref(ref: str):
    """The Engine class of service/engine.py as it was at a git revision, for a before/after run."""
    source = subprocess.run(["git", "show", f"{ref}:service/engine.py"], cwd=common.REPO, capture_output=True, text=True, check=True).stdout
    name = "engine_at_" + "".join(c if c.isalnum() else "_" for c in ref)
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    exec(compile(source, f"{ref}:service/engine.py", "exec"), module.__dict__)
    return module.Engine


def shape_costs(engine, rows_list=(1, 4, 16, 32, 64), widths=(16, 64, 128, 256)) -> list[list]:
    """Microseconds per padded token of one model call, by batch shape."""
    out = []
    for rows in rows_list:
        row = [rows]
        for width in widths:
            ids = np.full((rows, width), engine.pad_id + 1000, dtype=np.int64)
            mask = np.ones_like(ids)
            engine.backend.logits(ids, mask)
            runs = max(3, int(2000 / (rows * width)))
            seconds = min(common.timed(lambda: engine.backend.logits(ids, mask), runs))
            row.append(1e6 * seconds / (rows * width))
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--paragraphs", type=int, default=common.DEFAULT_PARAGRAPHS)
    p.add_argument("--repeats", type=int, default=3, help="timed engine runs (the median is reported)")
    p.add_argument("--sweep", default="1,8,16,32,64", help="pipeline batch sizes to try on the subset")
    p.add_argument("--sweep-paragraphs", type=int, default=320, help="size of the subset for the sweep")
    p.add_argument("--against-ref", default=None, help="also time service/engine.py as of this git revision (before/after)")
    p.add_argument("--shapes", action="store_true", help="also print the cost per token of each batch shape")
    args = p.parse_args(argv)
    common.check_model_dir(args.model_dir)
    busy = common.refuse_if_busy(args)

    from service.engine import INT8_FILE, ONNX_SUBDIR, Engine

    texts = common.workload(args.paragraphs)
    calls = mixed_calls(texts)
    call_units = sum(len(c) for c in calls)
    threads = os.cpu_count() or 1

    # The engine, as `stance serve` builds it; with --against-ref, the old one
    # beside it, the two timed in turn so that drift hits both alike.
    engines = {"current": Engine(args.model_dir, engine="onnx")}
    if args.against_ref:
        engines[args.against_ref] = engine_at_ref(args.against_ref)(args.model_dir, engine="onnx")
    if (Path(args.model_dir) / ONNX_SUBDIR / INT8_FILE).is_file():
        # The int8 variant that `stance export` kept (STANCE_PRECISION=int8): reported beside fp32, never as the default.
        engines["int8"] = Engine(args.model_dir, engine="onnx", precision="int8")
    offline_seconds = {name: [] for name in engines}
    calls_seconds = {name: [] for name in engines}
    for e in engines.values():
        e.classify(texts[:64])
    for _ in range(args.repeats):
        for name, e in engines.items():
            offline_seconds[name] += common.timed(lambda: e.classify(texts), 1)
            calls_seconds[name] += common.timed(lambda: [e.classify(c) for c in calls], 1)
    engine = engines["current"]
    engine_probs = engine.classify(texts)
    if args.against_ref:
        differences = float(np.abs(engines[args.against_ref].classify(texts) - engine_probs).max())
    tokenize_seconds = common.median(common.timed(lambda: engine.windows(texts), args.repeats))
    work = engine_work(engine, texts)
    engine_rate = len(texts) / common.median(offline_seconds["current"])
    calls_rate = call_units / common.median(calls_seconds["current"])
    print(f"engine: {engine_rate:.1f} paragraphs/s (runs {', '.join(f'{s:.2f}' for s in offline_seconds['current'])} s)", file=sys.stderr)

    # The baseline: transformers' pipeline on the same model directory.
    import torch
    from transformers import pipeline

    torch.set_num_threads(threads)
    pipe = pipeline("text-classification", model=str(args.model_dir), device=-1)
    default_batch = pipe._batch_size or 1  # what __call__ uses when not told; None means 1
    subset = texts[: args.sweep_paragraphs]
    pipe(subset[:16])
    sweep = {}
    for batch_size in (int(b) for b in args.sweep.split(",")):
        pipe(subset[: 2 * batch_size], batch_size=batch_size)
        seconds = common.timed(lambda: pipe(subset, batch_size=batch_size), 1)[0]
        sweep[batch_size] = len(subset) / seconds
        print(f"pipeline sweep: batch {batch_size}: {sweep[batch_size]:.1f} paragraphs/s", file=sys.stderr)
    best_batch = max(sweep, key=sweep.get)
    started = time.perf_counter()
    pipe(texts)
    default_rate = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    pipe_out = pipe(texts, batch_size=best_batch)
    best_rate = len(texts) / (time.perf_counter() - started)
    pipe_labels = [r["label"] for r in pipe_out]
    agreement = float(np.mean([engine.labels[i] == label for i, label in zip(engine_probs.argmax(1), pipe_labels)]))

    # Drift check: the engine again, after the baseline, on the same texts.
    engine_after = common.timed(lambda: engine.classify(texts), 1)[0]

    peak = measure_peak(threads)
    engine_seconds_median = common.median(offline_seconds["current"])
    useful_gflops = work["useful_gflop"] / engine_seconds_median
    executed_gflops = work["executed_gflop"] / engine_seconds_median
    efficiency = useful_gflops / peak["peak_gflops"]
    speedup = engine_rate / best_rate

    title = f"\n{len(texts)} paragraphs, {threads} threads, {args.model_dir}"
    rows = [
        ["stance engine (onnx)", f"batch <= {engine.batch_size} rows / {engine.max_batch_tokens} tokens, length-sorted", engine_rate, engine_rate / best_rate],
        ["transformers pipeline", f"batch {default_batch} (default)", default_rate, default_rate / best_rate],
        ["transformers pipeline", f"batch {best_batch} (best of sweep)", best_rate, 1.0],
    ]
    if "int8" in engines:
        int8_rate = len(texts) / common.median(offline_seconds["int8"])
        int8_agreement = float(np.mean(engines["int8"].classify(texts).argmax(1) == engine_probs.argmax(1)))
        rows.insert(1, ["stance engine (onnx int8)", f"STANCE_PRECISION=int8; same label as fp32 on {int8_agreement:.1%}", int8_rate, int8_rate / best_rate])
    print(common.table(["runtime", "setting", "paragraphs/s", "x best pipeline"], rows, title=title))
    print(f"target engine >= {TARGET_SPEEDUP}x best pipeline: {'met' if speedup >= TARGET_SPEEDUP else 'MISSED'} ({speedup:.2f}x)")
    print()
    engine_rows = []
    for name in engines:
        offline = len(texts) / common.median(offline_seconds[name])
        mixed = call_units / common.median(calls_seconds[name])
        engine_rows.append([f"engine {name}", offline, mixed, mixed / offline])
    print(common.table(
        ["engine", f"offline ({len(texts)} in one call)", f"mixed calls ({len(calls)} calls of 8-32)", "mixed / offline"], engine_rows,
        title="paragraphs/s offline and in calls like the micro-batcher's under load",
    ))
    if args.against_ref:
        print(f"largest probability difference, current vs {args.against_ref}: {differences:.2e}")
    print()
    print(common.table(
        ["pipeline batch size (sweep)", "paragraphs/s", "padding share"],
        [[b, r, pipeline_padding(pipe.tokenizer, subset, b)] for b, r in sweep.items()],
        title=f"sweep on the first {len(subset)} paragraphs",
    ))
    print()
    lib_rows = [[name, r.get("gflops_best"), r.get("error", "")] for name, r in peak["libraries"].items()]
    print(common.table(["fp32 matmul 4096^2", "GFLOP/s (best of 5)", "note"], lib_rows, title=f"machine peak ({threads} threads)"))
    print()
    print(common.table(["engine efficiency", "value"], [
        ["useful GFLOP per run (real tokens)", work["useful_gflop"]],
        ["executed GFLOP per run (with padding)", work["executed_gflop"]],
        ["batches per run", work["batches"]],
        ["padding share of tokens", 1 - work["tokens"] / work["padded_tokens"]],
        ["mean / max window tokens", f"{work['mean_window_tokens']:.1f} / {work['max_window_tokens']}"],
        ["useful GFLOP/s", useful_gflops],
        ["executed GFLOP/s", executed_gflops],
        [f"peak GFLOP/s ({peak['peak_library']})", peak["peak_gflops"]],
        ["efficiency (useful / peak)", f"{100 * efficiency:.1f}%"],
        ["tokenizer share of engine time", f"{100 * tokenize_seconds / engine_seconds_median:.1f}%"],
        ["engine rate after the pipeline runs (drift)", len(texts) / engine_after],
        ["argmax agreement engine vs pipeline", agreement],
    ]))
    print(f"target efficiency >= {100 * TARGET_EFFICIENCY:.0f}%: {'met' if efficiency >= TARGET_EFFICIENCY else 'MISSED'}")
    shapes = None
    if args.shapes:
        widths = (16, 64, 128, 256)
        shapes = shape_costs(engine, widths=widths)
        print()
        print(common.table(["rows \\ width"] + [str(w) for w in widths], shapes, title="microseconds per padded token of one model call"))

    path = common.write_results("engine", {
        "model_dir": str(args.model_dir),
        "paragraphs": len(texts),
        "threads": threads,
        "busy": busy,
        "machine": common.machine(),
        "engine": {
            "batch_size": engine.batch_size,
            "max_batch_tokens": engine.max_batch_tokens,
            "paragraphs_per_s": engine_rate,
            "run_seconds": offline_seconds["current"],
            "run_seconds_after_baseline": engine_after,
            "mixed_calls": len(calls),
            "mixed_call_paragraphs_per_s": calls_rate,
            "tokenize_seconds": tokenize_seconds,
            **work,
        },
        "against_ref": {
            "ref": args.against_ref,
            "paragraphs_per_s": len(texts) / common.median(offline_seconds[args.against_ref]),
            "mixed_call_paragraphs_per_s": call_units / common.median(calls_seconds[args.against_ref]),
            "max_probability_difference": differences,
        } if args.against_ref else None,
        "int8": {
            "paragraphs_per_s": len(texts) / common.median(offline_seconds["int8"]),
            "x_best_pipeline": len(texts) / common.median(offline_seconds["int8"]) / best_rate,
            "same_label_as_fp32": int8_agreement,
        } if "int8" in engines else None,
        "pipeline": {
            "default_batch_size": default_batch,
            "default_paragraphs_per_s": default_rate,
            "sweep_paragraphs": len(subset),
            "sweep_paragraphs_per_s": sweep,
            "best_batch_size": best_batch,
            "best_paragraphs_per_s": best_rate,
            "torch_threads": torch.get_num_threads(),
        },
        "argmax_agreement": agreement,
        "speedup_vs_best_pipeline": speedup,
        "speedup_vs_default_pipeline": engine_rate / default_rate,
        "peak": peak,
        "useful_gflops": useful_gflops,
        "executed_gflops": executed_gflops,
        "efficiency": efficiency,
        "shape_costs_us_per_token": shapes,
        "targets": {
            "speedup": TARGET_SPEEDUP, "efficiency": TARGET_EFFICIENCY,
            "speedup_met": speedup >= TARGET_SPEEDUP, "efficiency_met": efficiency >= TARGET_EFFICIENCY,
        },
    })
    print(f"results: {path.relative_to(common.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
