"""Paragraphs per second of `stance classify` on a JSONL file, beside the engine offline.

The input is the seed articles repeated until they hold 10,000 prose
paragraphs, one article per JSONL row. The command runs as a user runs it, a
fresh process, so its wall time includes start-up (imports, model load); the
fixed cost is measured on a one-article file and reported apart. The
baseline is the engine's offline rate on the same paragraphs in this process.

    python bench/batch.py --model-dir models/stance-minilm
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import from the repo root, not from bench/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import common

PARAGRAPHS = 10_000


def classify(model_dir: Path, source: Path, output: Path) -> float:
    output.unlink(missing_ok=True)
    Path(str(output) + ".errors.jsonl").unlink(missing_ok=True)
    started = time.perf_counter()
    result = subprocess.run(
        common.stance_command() + ["classify", str(source), "-o", str(output), "--model-dir", str(model_dir), "--no-progress"],
        cwd=common.REPO, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"error: stance classify exited with {result.returncode}: {result.stderr.strip()}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--paragraphs", type=int, default=PARAGRAPHS)
    args = p.parse_args(argv)
    common.check_model_dir(args.model_dir)
    busy = common.refuse_if_busy(args)

    from service import segment

    articles = common.seed_articles()
    prose = {name: [u.text for u in segment.paragraphs(text) if u.is_prose] for name, text in articles.items()}
    rows, texts = [], []
    while len(texts) < args.paragraphs:
        for name, text in articles.items():
            rows.append({"id": f"{name}-{len(rows)}", "text": text})
            texts += prose[name]
    with tempfile.TemporaryDirectory(prefix="stance-bench-") as tmp:
        source, one, output = Path(tmp) / "articles.jsonl", Path(tmp) / "one.jsonl", Path(tmp) / "out.jsonl"
        source.write_text("".join(json.dumps(r) + "\n" for r in rows))
        one.write_text(json.dumps(rows[0]) + "\n")

        fixed = common.median([classify(args.model_dir, one, output) for _ in range(3)])
        total = classify(args.model_dir, source, output)
        written = sum(1 for line in output.read_text().splitlines() if line.strip())
        labelled = sum(sum(1 for u in json.loads(line)["units"] if u["label"]) for line in output.read_text().splitlines())
        if written != len(rows) or labelled != len(texts):
            raise SystemExit(f"error: wrote {written} of {len(rows)} rows and {labelled} of {len(texts)} labelled paragraphs")

    from service.engine import Engine
    from service.settings import Settings

    engine = Engine.from_settings(Settings(model_dir=args.model_dir))  # what `stance serve` runs
    engine.classify(texts[:64])
    offline_seconds = common.median(common.timed(lambda: engine.classify(texts), 3))
    offline = len(texts) / offline_seconds
    wall = len(texts) / total
    steady = len(texts) / max(total - fixed, 1e-9)

    print(common.table(
        ["run", "seconds", "paragraphs/s", "x engine offline"],
        [
            ["engine offline (in process, one call)", offline_seconds, offline, 1.0],
            ["stance classify, wall clock", total, wall, wall / offline],
            ["stance classify, minus start-up", total - fixed, steady, steady / offline],
            ["stance classify start-up (one article)", fixed, None, None],
        ],
        title=f"\n{len(rows)} articles, {len(texts)} prose paragraphs (the seeds repeated), {args.model_dir}",
    ))
    path = common.write_results("batch", {
        "model_dir": str(args.model_dir),
        "busy": busy,
        "machine": common.machine(),
        "articles": len(rows),
        "paragraphs": len(texts),
        "classify_seconds": total,
        "startup_seconds": fixed,
        "paragraphs_per_s_wall": wall,
        "paragraphs_per_s_steady": steady,
        "engine_offline_paragraphs_per_s": offline,
        "ratio_wall_vs_offline": wall / offline,
        "ratio_steady_vs_offline": steady / offline,
    })
    print(f"results: {path.relative_to(common.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
