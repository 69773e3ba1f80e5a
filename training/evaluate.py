"""Evaluate a model directory and two baselines on the held-out sets.

Reports per-class precision/recall/F1, macro-F1, accuracy, the confusion
matrix (text and PNG) and expected calibration error, for the stance model,
the majority class and TF-IDF + logistic regression trained on the same data.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from service.engine import Engine
from service.labels import LABEL2ID, LABELS

ECE_BINS = 15


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (confidence > lo) & (confidence <= hi)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def scores(probs: np.ndarray, labels: np.ndarray) -> dict:
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    predicted = probs.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=list(range(len(LABELS))), zero_division=0
    )
    return {
        "examples": int(len(labels)),
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "macro_f1": round(float(f1.mean()), 4),
        "ece": round(expected_calibration_error(probs, labels), 4),
        "per_class": {
            label: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4), "support": int(s)}
            for label, p, r, f, s in zip(LABELS, precision, recall, f1, support)
        },
        "confusion": confusion_matrix(labels, predicted, labels=list(range(len(LABELS)))).tolist(),
    }


def format_scores(name: str, result: dict) -> str:
    lines = [
        f"{name}: n={result['examples']} macro-F1={result['macro_f1']:.4f} accuracy={result['accuracy']:.4f} ECE={result['ece']:.4f}",
        "  class        precision  recall  f1      support",
    ]
    for label, s in result["per_class"].items():
        lines.append(f"  {label:<12} {s['precision']:.4f}     {s['recall']:.4f}  {s['f1']:.4f}  {s['support']}")
    lines.append("  confusion (rows gold, columns predicted: " + ", ".join(LABELS) + ")")
    lines += ["    " + " ".join(f"{n:6d}" for n in row) for row in result["confusion"]]
    return "\n".join(lines)


def plot_confusion(result: dict, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.array(result["confusion"])
    fig, ax = plt.subplots(figsize=(4.6, 4))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(LABELS)), LABELS)
    ax.set_yticks(range(len(LABELS)), LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(f"{title}\nmacro-F1 {result['macro_f1']:.3f}", fontsize=10)
    for (i, j), n in np.ndenumerate(matrix):
        ax.text(j, i, str(n), ha="center", va="center", color="white" if n > matrix.max() / 2 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


class TfidfBaseline:
    """TF-IDF word and character n-grams + logistic regression."""

    def __init__(self, texts: list[str], labels: list[int]):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        features = make_union(
            TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True, max_features=200_000),
        )
        self.pipeline = make_pipeline(features, LogisticRegression(C=4.0, max_iter=2000))
        self.pipeline.fit(texts, labels)

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.pipeline.predict_proba(texts)


class MajorityBaseline:
    def __init__(self, labels: list[int]):
        self.label = int(np.bincount(labels, minlength=len(LABELS)).argmax())

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        probs = np.zeros((len(texts), len(LABELS)))
        probs[:, self.label] = 1.0
        return probs


def evaluation_sets(dataset) -> dict[str, tuple[list[str], np.ndarray]]:
    """The held-out sets reported: whole test split, and its parts."""
    from training.dataset import ALWAYS_TEST_SOURCES, PRESENT_DAY_NEWS_SOURCES

    test = dataset["test"]
    sets = {"test": (list(test["text"]), np.array(list(test["label"])))}
    parts = {
        "test_paragraphs_in_distribution": lambda r: r["granularity"] == "paragraph" and r["source"] not in ALWAYS_TEST_SOURCES,
        "stress": lambda r: r["source"] == "stress",
        "seeds": lambda r: r["source"] == "seeds",
        "web_news": lambda r: r["source"] == "web-news",
        "present_day_news": lambda r: r["source"] in PRESENT_DAY_NEWS_SOURCES,
        "test_sentences": lambda r: r["granularity"] == "sentence",
    }
    for name, keep in parts.items():
        subset = test.filter(keep)
        if len(subset):
            sets[name] = (list(subset["text"]), np.array(list(subset["label"])))
    return sets


def distinct_texts(sets: dict[str, tuple[list[str], np.ndarray]]) -> tuple[list[str], dict[str, int]]:
    """The named sets overlap (stress, seeds, web news and sentences are parts
    of test): each distinct text once, and its row for every set's lookup."""
    unique = list(dict.fromkeys(t for texts, _ in sets.values() for t in texts))
    return unique, {text: row for row, text in enumerate(unique)}


def load_labelled_jsonl(path: Path) -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("label") not in LABEL2ID:
                raise ValueError(f"{path}:{line_no}: label must be one of {LABELS}, got {row.get('label')!r}")
            texts.append(row["text"])
            labels.append(LABEL2ID[row["label"]])
    return texts, np.array(labels)


def evaluate_all(model_dir: Path, dataset, extra: dict | None = None, engine: str = "auto") -> dict:
    """Scores of the model and both baselines on every evaluation set."""
    sets = evaluation_sets(dataset)
    sets.update(extra or {})
    model = Engine(model_dir, engine=engine)
    train = dataset["train"]
    baselines = {
        "majority": MajorityBaseline(list(train["label"])),
        "tfidf_logreg": TfidfBaseline(list(train["text"]), list(train["label"])),
    }
    report: dict = {"model": {}, "baselines": {name: {} for name in baselines}}
    # Model and baselines each score every distinct text once; the named sets index into that.
    unique, row_of = distinct_texts(sets)
    model_probs = model.classify(unique)
    baseline_probs = {name: baseline.predict_proba(unique) for name, baseline in baselines.items()}
    for name, (texts, labels) in sets.items():
        rows = [row_of[t] for t in texts]
        report["model"][name] = scores(model_probs[rows], labels)
        for baseline_name, probs in baseline_probs.items():
            report["baselines"][baseline_name][name] = scores(probs[rows], labels)
    # Per source of the test split: where the model's lead over the bag of
    # words is large (real text) and where it is small (team-written text).
    test_texts, test_labels = sets["test"]
    test_rows = np.array([row_of[t] for t in test_texts])
    sources = np.array(list(dataset["test"]["source"]))
    report["by_source"] = {}
    for source in sorted(set(sources)):
        rows, labels = test_rows[sources == source], test_labels[sources == source]
        report["by_source"][source] = {
            "examples": len(rows),
            "model": scores(model_probs[rows], labels)["macro_f1"],
            "tfidf_logreg": scores(baseline_probs["tfidf_logreg"][rows], labels)["macro_f1"],
        }
    report["engine"] = model.backend_name
    return report


def write_model_report(model_dir: Path, dataset, train_seconds: float | None = None) -> dict:
    from training import modelcard

    report = evaluate_all(model_dir, dataset)
    metrics = {"test": report["model"]["test"], "sets": report["model"], "baselines": report["baselines"]}
    args_path = model_dir / "training_args.json"
    if args_path.exists():
        metrics["dev_macro_f1"] = json.loads(args_path.read_text())["best_dev_macro_f1"]
    if train_seconds is not None:
        metrics["train_seconds"] = round(train_seconds, 1)
    (model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    plot_confusion(report["model"]["test"], f"{model_dir.name} on test", model_dir / "confusion_test.png")
    modelcard.write(model_dir, metrics)
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stance evaluate", description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=Path("models/stance-minilm"))
    parser.add_argument("--data", type=Path, action="append", default=[], help="Extra labelled JSONL ({text, label} rows).")
    parser.add_argument("--engine", choices=("auto", "onnx", "torch"), default="auto")
    parser.add_argument("--out", type=Path, default=None, help="Write the full report as JSON here.")
    args = parser.parse_args(argv)

    from training import dataset as data

    extra = {}
    for path in args.data:
        try:
            extra[path.name] = load_labelled_jsonl(path)
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    dataset = data.build(data.all_examples())
    report = evaluate_all(args.model_dir, dataset, extra, engine=args.engine)
    for name, result in report["model"].items():
        print(format_scores(f"model [{report['engine']}] / {name}", result))
        for baseline, results in report["baselines"].items():
            r = results[name]
            print(f"  baseline {baseline}: macro-F1={r['macro_f1']:.4f} accuracy={r['accuracy']:.4f}")
        print()
    print("test split by source: macro-F1 of the model and of TF-IDF + logistic regression")
    for source, row in report["by_source"].items():
        print(f"  {source:<10} n={row['examples']:<5} model={row['model']:.4f} tfidf={row['tfidf_logreg']:.4f} lead={row['model'] - row['tfidf_logreg']:+.4f}")
    print()
    png = (args.out.parent if args.out else args.model_dir) / "confusion_test.png"
    plot_confusion(report["model"]["test"], f"{args.model_dir.name} on test", png)
    print(f"confusion matrix image: {png}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    return 0
