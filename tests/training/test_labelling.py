"""The labelling workflow: later reading rounds propose only unread documents, the same ones every time."""

import json
from collections import Counter

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


def test_reread_is_blind_and_settled_by_the_majority_of_three(tmp_path):
    # A stored reading of two Lee documents, as `ingest` writes it.
    labelling.propose_more("lee", 2, tmp_path / "round", batches=1)
    ids = _proposed_ids(tmp_path / "round")[:4]
    first = tmp_path / "first.tsv"
    first.write_text("".join(f"{unit}\treporting\n" for unit in ids))
    data_dir = tmp_path / "data"
    labelling.ingest([first], data_dir=data_dir)
    # Second reading: differs on units 1, 2 and 3; the third reader sides with it on 1, with the first on 2, with neither on 3.
    second_dir, third_dir = tmp_path / "second", tmp_path / "third"
    second_dir.mkdir()
    third_dir.mkdir()
    (second_dir / "reread-00.tsv").write_text(f"{ids[0]}\treporting\n{ids[1]}\tquote\n{ids[2]}\tquote\n{ids[3]}\tquote\n")
    assert labelling.disagreements_for_third_reading(sorted(second_dir.glob("*.tsv")), tmp_path / "to-read", data_dir=data_dir, batches=1) == 3
    assert "(context)" in (tmp_path / "to-read" / "third-00.txt").read_text()
    assert sorted(_proposed_ids(tmp_path / "to-read")) == sorted(ids[1:])
    (third_dir / "third-00.tsv").write_text(f"{ids[1]}\tquote\n{ids[2]}\treporting\n{ids[3]}\tcommentary\n")
    record = tmp_path / "record.jsonl"
    counts = labelling.settle_reread(sorted(second_dir.glob("*.tsv")), sorted(third_dir.glob("*.tsv")), record, data_dir=data_dir)
    assert counts == {"agreed": 1, "changed to the second and third reading": 1, "kept, third reading sides with the first": 1, "kept, three different readings": 1}
    stored = {f"{r['source']}|{r['doc']}|{r['index']}": r for r in map(json.loads, (data_dir / "labels" / "lee.jsonl").read_text().splitlines())}
    assert [stored[unit]["label"] for unit in ids] == ["reporting", "quote", "reporting", "reporting"]
    assert stored[ids[1]]["by"] == "train-reread-majority"
    assert len(record.read_text().splitlines()) == 4


def test_settle_reread_command_records_the_reader_it_is_given(tmp_path, monkeypatch):
    # The command's --by reaches the changed labels' `by` (stop 15 settled the present-day pages as present-day-majority).
    calls = []
    monkeypatch.setattr(labelling, "settle_reread", lambda second, third, record, by: calls.append((record, by)) or Counter(agreed=1))
    labelling.main(["settle-reread", str(tmp_path), str(tmp_path), "--record", str(tmp_path / "r.jsonl"), "--by", "present-day-majority"])
    labelling.main(["settle-reread", str(tmp_path), str(tmp_path), "--record", str(tmp_path / "r.jsonl")])
    assert calls == [(tmp_path / "r.jsonl", "present-day-majority"), (tmp_path / "r.jsonl", "train-reread-majority")]
