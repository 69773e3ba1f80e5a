"""`stance classify --engine ray` on a local Ray instance gives the local engine's output."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO, SEEDS

pytestmark = pytest.mark.slow


def test_ray_output_equals_local(tiny_model, tmp_path):
    pytest.importorskip("ray")
    src = tmp_path / "in.jsonl"
    with src.open("w") as handle:
        for i in range(40):
            handle.write(json.dumps({"id": f"d{i}", "text": SEEDS[i % len(SEEDS)].read_text()}) + "\n")
    env = {**os.environ, "STANCE_MODEL_DIR": str(tiny_model), "RAY_ADDRESS": "", "RAY_DISABLE_IMPORT_WARNING": "1"}
    outputs = {}
    for engine in ("local", "ray"):
        out = tmp_path / f"{engine}.jsonl"
        result = subprocess.run([sys.executable, "-m", "service.cli", "classify", str(src), "-o", str(out), "--engine", engine,
                                 "--ray-workers", "2"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        outputs[engine] = [json.loads(line) for line in out.read_text().splitlines()]
    local, ray = outputs["local"], outputs["ray"]
    assert [r["id"] for r in ray] == [r["id"] for r in local]
    for a, b in zip(local, ray):
        assert [u["label"] for u in a["units"]] == [u["label"] for u in b["units"]]
        assert [(u["start"], u["end"]) for u in a["units"]] == [(u["start"], u["end"]) for u in b["units"]]
        for ua, ub in zip(a["units"], b["units"]):
            if ua["scores"]:
                assert max(abs(ua["scores"][k] - ub["scores"][k]) for k in ua["scores"]) < 1e-4
