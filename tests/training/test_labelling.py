"""The labelling workflow: later reading rounds propose only unread documents, the same ones every time."""

import json

from training import labelling
from training.dataset import DATA_DIR


def _proposed_ids(folder):
    return [line.split("]")[0][1:] for path in sorted(folder.glob("*.txt")) for line in path.read_text().splitlines() if line.startswith("[")]


def test_propose_more_is_deterministic_and_skips_labelled_documents(tmp_path):
    first = labelling.propose_more("lee", 12, tmp_path / "a", batches=2)
    second = labelling.propose_more("lee", 12, tmp_path / "b", batches=2)
    ids = _proposed_ids(tmp_path / "a")
    assert first == second == len(ids) > 12
    assert ids == _proposed_ids(tmp_path / "b")
    labelled = {json.loads(line)["doc"] for line in (DATA_DIR / "labels" / "lee.jsonl").read_text().splitlines()}
    assert not {unit.split("|")[1] for unit in ids} & labelled


def test_ingest_stores_labels_by_reference_only(tmp_path):
    labelling.propose_more("lee", 2, tmp_path / "round", batches=1)
    ids = _proposed_ids(tmp_path / "round")
    tsv = tmp_path / "reader.tsv"
    tsv.write_text("".join(f"{unit}\treporting\n" for unit in ids))
    data_dir = tmp_path / "data"
    counts = labelling.ingest([tsv], data_dir=data_dir)
    assert sum(counts.values()) == len(ids)
    rows = [json.loads(line) for line in (data_dir / "labels" / "lee.jsonl").read_text().splitlines()]
    assert all(set(row) == {"source", "doc", "index", "sha", "label", "by"} for row in rows)
