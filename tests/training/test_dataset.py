from collections import Counter, defaultdict

import pytest

from service.labels import LABELS
from training import dataset


@pytest.fixture(scope="module")
def examples():
    return dataset.all_examples()


@pytest.fixture(scope="module")
def paragraphs(examples):
    return [e for e in examples if e["granularity"] == "paragraph"]


def test_no_document_in_two_splits(examples):
    splits = defaultdict(set)
    for e in examples:
        splits[e["doc"]].add(e["split"])
    assert all(len(s) == 1 for s in splits.values())


def test_split_is_deterministic_and_test_is_large_enough(examples):
    assert [e["split"] for e in examples] == [e["split"] for e in dataset.all_examples()]
    share = Counter(e["split"] for e in examples)
    assert share["test"] / len(examples) >= 0.15


def test_stress_set_seeds_and_present_day_news_are_only_in_test(examples):
    held = [e for e in examples if e["source"] in dataset.ALWAYS_TEST_SOURCES]
    assert {e["split"] for e in held} == {"test"}
    assert sum(1 for e in held if e["source"] == "stress" and e["granularity"] == "paragraph") >= 400
    assert sum(1 for e in held if e["source"] == "web-news") >= 300
    assert sum(1 for e in held if e["source"] in dataset.PRESENT_DAY_NEWS_SOURCES) >= 1200


def test_size_and_balance_limits(paragraphs):
    assert len(paragraphs) >= 6000
    by_class = Counter(e["label"] for e in paragraphs)
    for label in LABELS:
        assert by_class[label] >= 1500, label
        sources = Counter(e["source"] for e in paragraphs if e["label"] == label)
        big = {s: n for s, n in sources.items() if n >= 30}
        assert len(big) >= 3, (label, sources)
        top_source, top = sources.most_common(1)[0]
        assert top / by_class[label] <= 0.40, (label, top_source, top / by_class[label])
    reviews = sum(1 for e in paragraphs if e["label"] == "commentary" and e["source"] == "rt-review")
    assert reviews / by_class["commentary"] <= 0.15


def test_team_paragraphs_cover_topics_and_styles():
    docs = [d for path in sorted((dataset.DATA_DIR / "team").glob("*.jsonl")) for d in dataset.read_jsonl(path)]
    assert sum(len(d["paragraphs"]) for d in docs) >= 1500
    assert len({d["topic"] for d in docs}) >= 30
    styles = {d["style"] for d in docs}
    for style in ("wire", "local", "op-ed", "editorial", "letters", "blog", "analysis", "machine-translation", "rewrite"):
        assert style in styles, style


def test_sentences_and_seeds_are_labelled(examples):
    assert sum(1 for e in examples if e["granularity"] == "sentence") >= 1500
    seed_files = {e["doc"] for e in examples if e["source"] == "seeds"}
    assert len(seed_files) == 5


def test_datasetdict_has_the_three_splits(examples):
    built = dataset.build(examples)
    assert set(built) == {"train", "dev", "test"}
    assert built["train"].features["label"].names == list(LABELS)
    assert sum(len(v) for v in built.values()) == len(examples)
