"""Compare trained configurations and record the comparison in the default model's card.

    python -m training.compare models/stance-minilm /tmp/model-mpnet --into models/stance-minilm

Reads each directory's metrics.json and training_args.json, times the
engine each would serve with on the same 300 test paragraphs (one after
another, so the machine's drift hits all alike), and writes comparison.json
into the chosen directory, whose model card then shows the table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from service.engine import Engine
from training import modelcard

TIMED_PARAGRAPHS = 300


def describe(model_dir: Path, texts: list[str]) -> dict:
    metrics = json.loads((model_dir / "metrics.json").read_text())
    args = json.loads((model_dir / "training_args.json").read_text())
    meta = json.loads((model_dir / "stance_meta.json").read_text())
    engine = Engine(model_dir)
    engine.classify(texts[:16])
    started = time.perf_counter()
    engine.classify(texts)
    rate = len(texts) / (time.perf_counter() - started)
    sets = metrics["sets"]
    return {
        "model": str(model_dir),
        "base_model": meta["base_model"],
        "epochs_run": round(args["history"][-1]["epoch"], 2) if args.get("history") else None,
        "steps": args["steps"],
        "train_minutes": round(args["train_seconds"] / 60, 1),
        "engine": engine.backend_name,
        "paragraphs_per_s": round(rate, 1),
        **{f"{name}_macro_f1": sets[name]["macro_f1"] for name in modelcard.COMPARED_SETS if name in sets},
        "tfidf_test_macro_f1": metrics["baselines"]["tfidf_logreg"]["test"]["macro_f1"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.compare", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dirs", type=Path, nargs="+")
    parser.add_argument("--into", type=Path, required=True, help="model directory whose card gets the comparison")
    args = parser.parse_args(argv)

    from training import dataset as data

    test = data.build(data.all_examples())["test"].filter(lambda r: r["granularity"] == "paragraph")
    texts = list(test.shuffle(seed=7)["text"][:TIMED_PARAGRAPHS])
    rows = [describe(d, texts) for d in args.model_dirs]
    (args.into / modelcard.COMPARISON_FILE).write_text(json.dumps(rows, indent=2))
    modelcard.write(args.into, json.loads((args.into / "metrics.json").read_text()))
    print(modelcard.comparison_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
