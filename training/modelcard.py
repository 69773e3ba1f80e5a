"""The model card (README.md) written into every model directory."""

from __future__ import annotations

import json
from pathlib import Path

from service.labels import DESCRIPTIONS, LABELS

COMPARISON_FILE = "comparison.json"


def _frozen(args: dict) -> str:
    """What of the base model training left as pre-trained, for the card."""
    if args.get("frozen_layers"):
        return f"; the embeddings and the first {args['frozen_layers']} transformer layers kept as pre-trained"
    return "; the word embeddings kept as pre-trained" if args.get("freeze_word_embeddings") else ""


def _row(name: str, result: dict) -> str:
    f1 = " | ".join(f"{result['per_class'][label]['f1']:.3f}" for label in LABELS)
    return f"| {name} | {result['examples']} | {result['macro_f1']:.3f} | {result['accuracy']:.3f} | {f1} | {result['ece']:.3f} |"


# The held-out sets that configurations are compared on (training/compare.py):
# key in metrics["sets"] -> column title.
COMPARED_SETS = {
    "test": "test macro-F1",
    "test_paragraphs_in_distribution": "in-distribution",
    "stress": "stress",
    "seeds": "seeds",
    "web_news": "web news",
    "present_day_news": "present-day news",
}


def comparison_table(rows: list[dict]) -> str:
    """Configurations side by side: accuracy against serving speed (training/compare.py)."""
    titles = ["model", "base", "epochs", "training min", "engine", "paragraphs/s", *COMPARED_SETS.values(), "TF-IDF test"]
    lines = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    for r in rows:
        cells = [f"`{r['model']}`", r["base_model"], r["epochs_run"], r["train_minutes"], r["engine"], r["paragraphs_per_s"]]
        cells += [r.get(f"{name}_macro_f1", "") for name in COMPARED_SETS]
        lines.append("| " + " | ".join(str(c) for c in [*cells, r["tfidf_test_macro_f1"]]) + " |")
    return "\n".join(lines)


def write(model_dir: Path, metrics: dict) -> None:
    meta = json.loads((model_dir / "stance_meta.json").read_text()) if (model_dir / "stance_meta.json").exists() else {}
    args = json.loads((model_dir / "training_args.json").read_text()) if (model_dir / "training_args.json").exists() else {}
    header = "| set | n | macro-F1 | accuracy | " + " | ".join(f"F1 {label}" for label in LABELS) + " | ECE |"
    rule = "|---|---|---|---|" + "---|" * len(LABELS) + "---|"
    model_rows = [_row(name, result) for name, result in metrics["sets"].items()]
    baseline_rows = [
        _row(f"{baseline} / {name}", result)
        for baseline, sets in metrics["baselines"].items()
        for name, result in sets.items()
        if name in ("test", "stress", "web_news", "present_day_news")
    ]
    data = meta.get("training_data", {})
    data_rows = [f"| {split} | {v['examples']} | " + " | ".join(str(v["by_label"][label]) for label in LABELS) + " |" for split, v in data.items()]
    comparison = ""
    if (model_dir / COMPARISON_FILE).exists():
        rows = json.loads((model_dir / COMPARISON_FILE).read_text())
        comparison = (
            "\n## Configurations compared\n\nScores on the same held-out sets; paragraphs/s timed on the same 300 test paragraphs, "
            "one model after another (`python -m training.compare`).\n\n" + comparison_table(rows) + "\n"
        )
    card = f"""---
language: en
license: apache-2.0
base_model: {meta.get('base_model', 'unknown')}
pipeline_tag: text-classification
---

# {meta.get('name', model_dir.name)}: editorial stance of news paragraphs

Labels each paragraph (or sentence) of a news article as one of:

""" + "\n".join(f"- `{label}`: {DESCRIPTIONS[label]}" for label in LABELS) + f"""

Base model: {meta.get('base_model', 'unknown')}, fine-tuned for sequence
classification; probabilities are temperature-calibrated on the dev split.
Version {meta.get('version', '?')}. Training took {metrics.get('train_seconds', '?')} s on
{args.get('threads') or 'all'} CPU threads; best dev macro-F1 {metrics.get('dev_macro_f1', '?')} at step
{args.get('best_step', '?')} of {args.get('steps', '?')}. Peak learning rate {args.get('learning_rate', '?')}, batches of
{args.get('batch_size', '?')}{_frozen(args)}.

## Scores

Held-out test split (documents never seen in training or model selection).
`stress` is written by a helper who wrote none of the training text;
`seeds` are the five seed articles; `web_news` is real present-day web
news (CNN, Time, Wired and others, 2013-2023) from outlets and years that no
training text comes from; `present_day_news` adds to it English web news of
2018-20 (Reuters, the Guardian, DW, Vice, Nature, ...), of 2025-26 (MIT
Technology Review, The Local Denmark, InfoWorld, LeadDev) and of 2015-26
(CNN, the New York Times, NBC News, Fox News, CBC, France 24, the Washington
Post, Salon, Ars Technica, ...): the closest sets here to the news the
product is used on.

{header}
{rule}
""" + "\n".join(model_rows) + f"""

Baselines trained on the same training split:

{header}
{rule}
""" + "\n".join(baseline_rows) + f"""

## Training data

| split | examples | """ + " | ".join(LABELS) + """ |
|---|---|""" + "---|" * len(LABELS) + "\n" + "\n".join(data_rows) + f"""

See `training/DATA.md` in the repository for sources, licences and the
labelling procedure.
{comparison}
## Intended use

Measuring how much of a news article is the outlet's own reporting, relayed
quotes and commentary; comparing outlets' coverage of one event. Scores are
per paragraph; aggregate over an article for a profile.

## Limits

- English only; other languages get labels but they mean little.
- Trained on US and UK web news of 2010-17, BBC 2004-05, Brown 1961, ABC
  2001, film reviews, debate transcripts and team-written present-day
  paragraphs; real present-day news from unseen outlets scores lower than
  the in-distribution test split (see `present_day_news` above), above all
  on commentary: vivid narrative reporting and quiet analysis inside news
  stories are where it errs most.
- Labels follow one annotation guide; borderline paragraphs (sourced facts
  vs relayed positions, neutral-sounding analysis) are where errors gather.
- A label is a reading aid, not a verdict on a writer's honesty.
"""
    (model_dir / "README.md").write_text(card)
