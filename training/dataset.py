"""Build the labelled data set: train / dev / test split by document.

Sources of examples:
- third-party paragraphs and sentences, labelled by reference
  (`data/labels/*.jsonl`, `data/sentences.jsonl`) and read back from the
  installed packages by `training.corpora`, hash-checked;
- paragraphs written by the team (`data/team/*.jsonl`, with their text);
- the stress set (`data/stress/*.jsonl`), written by a helper who wrote no
  training text: always in the test split;
- real web news of 2013-2026 (web-news, trafilatura, extractor,
  mediacloud, readability), labelled by reference like the other
  third-party text: always in the test split;
- the seed articles (`data/seeds.jsonl`): always in the test split.

`python -m training.dataset` rebuilds the DatasetDict and prints the counts
per class x source x split.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from service.labels import LABEL2ID, LABELS
from training import corpora

DATA_DIR = Path(__file__).resolve().parent / "data"
SPLIT_SEED = "stance-split-v1"
TEST_PERCENT = 15
DEV_PERCENT = 10
SPLITS = ("train", "dev", "test")
# Real web news of 2013-2026 from pages and years no training text comes from: the
# closest thing here to the news the product is judged on. Test only.
PRESENT_DAY_NEWS_SOURCES = ("web-news", "trafilatura", "extractor", "mediacloud", "readability")
# Test only: the stress set, the seed articles and the present-day news.
ALWAYS_TEST_SOURCES = ("stress", "seeds", *PRESENT_DAY_NEWS_SOURCES)


class DataError(ValueError):
    """A label file is malformed or inconsistent."""


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}:{line_no}: not valid JSON: {exc}") from exc
    return rows


def _example(text: str, label: str, source: str, doc: str, granularity: str, origin: str) -> dict:
    if label not in LABEL2ID:
        raise DataError(f"{origin}: unknown label {label!r}; expected one of {LABELS}")
    return {"text": text, "label": label, "source": source, "doc": f"{source}:{doc}", "granularity": granularity}


def third_party_examples(data_dir: Path = DATA_DIR) -> list[dict]:
    refs = [row for path in sorted((data_dir / "labels").glob("*.jsonl")) for row in read_jsonl(path)]
    refs = [r for r in refs if r["label"] != "skip"]
    return [
        _example(p.text, ref["label"], p.source, p.doc, "paragraph", f"{p.source}/{p.doc}/{p.index}")
        for ref, p in corpora.resolve(refs)
    ]


def team_examples(folder: str, source: str, data_dir: Path = DATA_DIR) -> list[dict]:
    out = []
    for path in sorted((data_dir / folder).glob("*.jsonl")):
        for doc in read_jsonl(path):
            for i, paragraph in enumerate(doc["paragraphs"]):
                out.append(
                    _example(paragraph["text"], paragraph["label"], source, doc["doc_id"], "paragraph", f"{path.name}/{doc['doc_id']}/{i}")
                )
    return out


def seed_examples(data_dir: Path = DATA_DIR) -> list[dict]:
    path = data_dir / "seeds.jsonl"
    if not path.exists():
        return []
    return [
        _example(row["text"], row["label"], "seeds", row["file"], "paragraph", f"seeds/{row['file']}/{row['index']}")
        for row in read_jsonl(path)
        if row["label"] != "skip"
    ]


def sentence_examples(data_dir: Path = DATA_DIR) -> list[dict]:
    """Sentence labels: third-party ones by reference (paragraph + sentence
    number under the corpus's fixed splitter), team ones with their text."""
    path = data_dir / "sentences.jsonl"
    if not path.exists():
        return []
    rows = [r for r in read_jsonl(path) if r["label"] != "skip"]
    by_ref = [r for r in rows if "text" not in r]
    paragraphs = {ref["source"] + "|" + ref["doc"] + "|" + str(ref["index"]): p for ref, p in corpora.resolve(
        [{"source": r["source"], "doc": r["doc"], "index": r["index"], "sha": r["paragraph_sha"]} for r in by_ref]
    )}
    out = []
    for r in rows:
        if "text" in r:
            text = r["text"]
        else:
            paragraph = paragraphs[r["source"] + "|" + r["doc"] + "|" + str(r["index"])]
            text = corpora.split_simple_sentences(paragraph.text)[r["sentence"]]
            if corpora.text_hash(text) != r["sha"]:
                raise corpora.CorpusError(f"source '{r['source']}': sentence {r['sentence']} of {r['doc']!r} changed")
        out.append(_example(text, r["label"], r["source"], r["doc"], "sentence", f"sentences/{r['source']}/{r['doc']}"))
    return out


def split_of(source: str, doc: str) -> str:
    """Deterministic split by document: a document never straddles splits."""
    if source in ALWAYS_TEST_SOURCES:
        return "test"
    bucket = int(hashlib.sha256(f"{SPLIT_SEED}:{doc}".encode()).hexdigest(), 16) % 100
    if bucket < TEST_PERCENT:
        return "test"
    if bucket < TEST_PERCENT + DEV_PERCENT:
        return "dev"
    return "train"


def all_examples(data_dir: Path = DATA_DIR) -> list[dict]:
    examples = third_party_examples(data_dir) + team_examples("team", "team", data_dir)
    examples += team_examples("stress", "stress", data_dir) + seed_examples(data_dir) + sentence_examples(data_dir)
    for example in examples:
        example["split"] = split_of(example["source"], example["doc"])
    return examples


def build(examples: list[dict]):
    """The DatasetDict of train / dev / test with integer labels."""
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    features = Features(
        {
            "text": Value("string"),
            "label": ClassLabel(names=list(LABELS)),
            "source": Value("string"),
            "doc": Value("string"),
            "granularity": Value("string"),
        }
    )
    by_split: dict[str, list[dict]] = defaultdict(list)
    for example in examples:
        row = {k: example[k] for k in features}
        row["label"] = LABEL2ID[example["label"]]
        by_split[example["split"]].append(row)
    return DatasetDict(
        {split: Dataset.from_list(by_split[split], features=features) for split in SPLITS}
    )


def counts(examples: Iterable[dict], granularity: str = "paragraph") -> dict[tuple[str, str, str], int]:
    return Counter((e["split"], e["source"], e["label"]) for e in examples if e["granularity"] == granularity)


def format_counts(examples: list[dict], granularity: str = "paragraph") -> str:
    table = counts(examples, granularity)
    sources = sorted({s for _, s, _ in table})
    lines = [f"{granularity} counts (class x source x split)", "| split | source | " + " | ".join(LABELS) + " | total |", "|---|---|" + "---|" * (len(LABELS) + 1)]
    for split in (*SPLITS, "all"):
        for source in (*sources, "all"):
            row = [
                sum(n for (sp, so, la), n in table.items() if (split == "all" or sp == split) and (source == "all" or so == source) and la == label)
                for label in LABELS
            ]
            if sum(row):
                lines.append(f"| {split} | {source} | " + " | ".join(map(str, row)) + f" | {sum(row)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild the labelled data set from the installed packages.")
    parser.add_argument("--out", type=Path, default=Path("build/dataset"), help="Where to save the DatasetDict.")
    args = parser.parse_args(argv)
    try:
        examples = all_examples()
        dataset = build(examples)
    except (corpora.CorpusError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    dataset.save_to_disk(str(args.out))
    print(format_counts(examples, "paragraph"))
    print()
    print(format_counts(examples, "sentence"))
    print(f"\nsaved {', '.join(f'{k}={len(v)}' for k, v in dataset.items())} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
