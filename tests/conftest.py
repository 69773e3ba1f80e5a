"""Shared fixtures: one tiny model, trained once per test session.

The tiny model is fine-tuned from the real base model on a few dozen
team-written paragraphs, so every test exercises the real path (train, save,
export, load, serve) in seconds; its accuracy is not the point.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = sorted((REPO / "seeds").glob("*.txt"))

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def tiny_dataset(per_split: dict[str, int] | None = None):
    """A few dozen examples from the team-written data, split by document."""
    from training import dataset as data

    per_split = per_split or {"train": 48, "dev": 18, "test": 18}
    examples = data.team_examples("team", "team")
    docs = sorted({e["doc"] for e in examples})
    assignment = {doc: ("train", "dev", "test", "train", "train")[i % 5] for i, doc in enumerate(docs)}
    chosen, counts = [], {k: 0 for k in per_split}
    for example in examples:
        split = assignment[example["doc"]]
        if counts[split] < per_split[split]:
            chosen.append({**example, "split": split})
            counts[split] += 1
    return data.build(chosen)


@pytest.fixture(scope="session")
def tiny_dataset_dict():
    return tiny_dataset()


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, tiny_dataset_dict) -> Path:
    from training import export, train

    out = tmp_path_factory.mktemp("models") / "tiny-stance"
    args = train.TrainArgs(output_dir=out, epochs=2, batch_size=8, evals_per_epoch=1, progress=False, seed=3)
    train.train(args, dataset=tiny_dataset_dict)
    export.export_onnx(out)
    return out


@pytest.fixture(scope="session")
def settings(tiny_model):
    from service.settings import Settings

    return Settings(model_dir=tiny_model)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """`stance serve` as a real process on a loopback port."""

    def __init__(self, model_dir: Path, env: dict[str, str] | None = None, log_path: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "STANCE_MODEL_DIR": str(model_dir), "STANCE_PORT": str(self.port), **(env or {})}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, wait_ready: bool = True, timeout: float = 60) -> "ServerProcess":
        log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--no-train"], cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                response = httpx.get(self.url + ("/readyz" if wait_ready else "/healthz"), timeout=1)
                if response.status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not become ready")

    def stop(self) -> int:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else 0


@pytest.fixture(scope="session")
def live_server(tiny_model, tmp_path_factory):
    server = ServerProcess(tiny_model, log_path=tmp_path_factory.mktemp("logs") / "server.log").start()
    yield server
    server.stop()


def have(command: str) -> bool:
    return shutil.which(command) is not None
