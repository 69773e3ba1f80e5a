"""`stance classify`: every input format, rejected-record accounting, resume after SIGKILL."""

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, SEEDS

ARTICLE = "The council met on Monday to vote on the budget.\n\nThe mayor said the plan would cut waste and protect services."


def stance(*args, env=None, input=None, check=False):
    return subprocess.run(
        [sys.executable, "-m", "service.cli", "classify", *map(str, args)],
        cwd=REPO, env={**os.environ, **(env or {})}, input=input, capture_output=True, text=True, check=check,
    )


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


@pytest.fixture()
def model_env(tiny_model):
    return {"STANCE_MODEL_DIR": str(tiny_model)}


def test_jsonl_text_and_paragraphs_with_passthrough(tmp_path, model_env):
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "a", "text": ARTICLE, "outlet": "Herald"}) + "\n"
        + json.dumps({"id": "b", "paragraphs": ["Comments", "Police said two men were arrested."], "meta": {"k": 1}}) + "\n"
    )
    out = tmp_path / "out.jsonl"
    result = stance(src, "-o", out, env=model_env)
    assert result.returncode == 0, result.stderr
    rows = read_jsonl(out)
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[0]["outlet"] == "Herald" and rows[1]["meta"] == {"k": 1}
    assert rows[1]["units"][0]["skipped"] and rows[1]["units"][1]["label"]
    assert set(rows[0]["profile"]["shares"]) == {"reporting", "quote", "commentary"}
    assert "documents: read 2, written 2, rejected 0" in result.stderr


def test_csv_with_text_column_to_csv(tmp_path, model_env):
    src = tmp_path / "in.csv"
    with src.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "body", "outlet"])
        writer.writerow(["x1", ARTICLE, "Times"])
        writer.writerow(["x2", "Critics warned the law would backfire badly.", "Post"])
    out = tmp_path / "out.csv"
    result = stance(src, "--text-column", "body", "-o", out, env=model_env)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(out.open()))
    assert [r["id"] for r in rows] == ["x1", "x2"] and rows[0]["outlet"] == "Times"
    assert json.loads(rows[0]["units"])[0]["text"].startswith("The council")


def test_plain_text_files_folders_and_stdin(tmp_path, model_env):
    folder = tmp_path / "articles"
    folder.mkdir()
    for seed in SEEDS[:3]:
        (folder / seed.name).write_text(seed.read_text())
    out = tmp_path / "out.jsonl"
    result = stance(folder, "-o", out, env=model_env)
    assert result.returncode == 0, result.stderr
    assert [r["id"] for r in read_jsonl(out)] == [s.name for s in SEEDS[:3]]
    piped = stance("-", env=model_env, input=json.dumps({"id": "s", "text": ARTICLE}) + "\n")
    assert piped.returncode == 0 and json.loads(piped.stdout)["id"] == "s"
    assert "\r" not in piped.stderr  # no progress bar in a pipe


def test_malformed_records_are_rejected_counted_and_never_lost(tmp_path, model_env):
    lines = [
        json.dumps({"id": "ok1", "text": ARTICLE}),
        "{not json",
        json.dumps({"text": "no id here at all"}),
        json.dumps({"id": "both", "text": "a", "paragraphs": ["b"]}),
        json.dumps({"id": "empty", "text": "   "}),
        json.dumps(["a", "list"]),
        json.dumps({"id": "ok1", "text": "A duplicate id should be rejected, not written twice."}),
        json.dumps({"id": "ok2", "paragraphs": ["Police said two men were arrested."]}),
    ]
    src = tmp_path / "in.jsonl"
    src.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "bad-utf8", "text": "\xff\xfe"}\n')
    out = tmp_path / "out.jsonl"
    result = stance(src, "-o", out, env=model_env)
    assert result.returncode == 1  # some records rejected
    errors = read_jsonl(str(out) + ".errors.jsonl")
    written = read_jsonl(out)
    assert [r["id"] for r in written] == ["ok1", "ok2"]
    assert sorted(e["line"] for e in errors) == [2, 3, 4, 5, 6, 7, 9]
    assert all(e["reason"] for e in errors)
    assert "documents: read 9, written 2, rejected 7" in result.stderr


def test_missing_input_is_a_usage_error(tmp_path, model_env):
    result = stance(tmp_path / "nope.jsonl", env=model_env)
    assert result.returncode == 2 and "does not exist" in result.stderr


def make_input(path: Path, n: int) -> list[str]:
    seeds = [s.read_text() for s in SEEDS]
    ids = [f"doc-{i:05d}" for i in range(n)]
    with path.open("w") as handle:
        for i, doc_id in enumerate(ids):
            handle.write(json.dumps({"id": doc_id, "text": seeds[i % len(seeds)]}) + "\n")
    return ids


def run_and_kill(args, env, out: Path, after_rows: int, timeout=120) -> None:
    process = subprocess.Popen([sys.executable, "-m", "service.cli", "classify", *map(str, args)], cwd=REPO,
                               env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= after_rows:
            break
        time.sleep(0.02)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait()


@pytest.mark.slow
def test_resume_after_sigkill_at_random_points(tmp_path, model_env):
    src = tmp_path / "in.jsonl"
    ids = make_input(src, 400)
    out = tmp_path / "out.jsonl"
    rng = random.Random(11)
    kill_points = sorted(rng.sample(range(10, 380), 5))
    for point in kill_points:
        run_and_kill([src, "-o", out], model_env, out, point)
    final = stance(src, "-o", out, env=model_env)
    assert final.returncode == 0, final.stderr
    written = [r["id"] for r in read_jsonl(out)]
    assert sorted(written) == sorted(ids) and len(written) == len(set(written))
    assert f"documents: read {len(ids)}, written {len(ids)}, rejected 0" in final.stderr
