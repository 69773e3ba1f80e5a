"""What every benchmark shares: the workload, the machine, the table, the JSON.

The workload is built from the repository's own text, so that a run on any
checkout measures the same thing: the team-written and stress paragraphs of
the labelled data plus the seed articles segmented as the service does,
sampled with a fixed seed. Each benchmark measures its baseline in the same
process run, because absolute numbers on a shared 2-core machine drift by
tens of percent from one minute to the next; the ratios drift much less.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "bench" / "results"
SEEDS_DIR = REPO / "seeds"
PARAGRAPH_FILES = sorted((REPO / "training" / "data" / "team").glob("*.jsonl")) + [REPO / "training" / "data" / "stress" / "stress.jsonl"]
DEFAULT_MODEL_DIR = REPO / "models" / "stance-minilm"
SAMPLE_SEED = 20240611
# Long enough to be steady, short enough for the whole suite to finish in
# minutes; a benchmark takes the median of its repeats.
DEFAULT_PARAGRAPHS = 2000

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--model-dir", type=Path, default=DEFAULT_MODEL_DIR,
        help="trained model directory with onnx/model.onnx (default models/stance-minilm)",
    )
    p.add_argument("--allow-busy", action="store_true", help="run even while `stance train` is running (numbers are then not comparable)")
    return p


def check_model_dir(model_dir: Path) -> None:
    for needed in ("config.json", "tokenizer.json", "onnx/model.onnx"):
        if not (model_dir / needed).is_file():
            raise SystemExit(f"error: {model_dir} has no {needed}; train and export a model first (`stance train`, `stance export`)")


def competing_processes() -> list[str]:
    """Other processes that would skew timings: model training, above all."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "stance train" in cmdline or "training.train" in cmdline:
            found.append(f"{proc.info['pid']}: {cmdline[:120]}")
    return found


def background_cpu(seconds: float = 2.0) -> float:
    """Percent of all cores busy over a short idle sample, before a benchmark starts."""
    import psutil

    return psutil.cpu_percent(interval=seconds)


def refuse_if_busy(args: argparse.Namespace) -> dict:
    """Stop if training is running; record how busy the machine was otherwise."""
    training = competing_processes()
    if training and not args.allow_busy:
        raise SystemExit(
            "error: training is running on this machine, so timings would be meaningless:\n  "
            + "\n  ".join(training) + "\nwait for it to finish, or pass --allow-busy for a development run"
        )
    if training:
        print("warning: training is running; these numbers are for development only", file=sys.stderr)
    load = background_cpu()
    if load > 15:
        print(f"warning: the machine was {load:.0f}% busy before the benchmark started; numbers will be low", file=sys.stderr)
    return {"training_processes": training, "background_cpu_percent": load}


def seed_articles() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SEEDS_DIR.glob("*.txt"))}


def seed_paragraphs() -> list[str]:
    """The prose paragraphs of the seed articles, segmented as the service segments them."""
    from service import segment

    return [u.text for text in seed_articles().values() for u in segment.paragraphs(text) if u.is_prose]


def paragraph_pool() -> list[str]:
    pool = []
    for path in PARAGRAPH_FILES:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    pool += [p["text"] for p in json.loads(line)["paragraphs"]]
    return pool + seed_paragraphs()


def workload(n: int = DEFAULT_PARAGRAPHS, seed: int = SAMPLE_SEED) -> list[str]:
    """n paragraphs of the mixed lengths real articles have, the same on every run."""
    pool = paragraph_pool()
    rng = random.Random(seed)
    if n <= len(pool):
        return rng.sample(pool, n)
    return [rng.choice(pool) for _ in range(n)]


def machine() -> dict:
    import psutil

    cpu = platform.processor() or "unknown"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in ("onnxruntime", "tokenizers", "numpy", "torch", "transformers", "fastapi", "uvicorn"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # a missing optional package is reported, not fatal
            versions[name] = None
    try:
        revision = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    except OSError:
        revision = None
    return {
        "revision": revision,
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def median(values: list[float]) -> float:
    return statistics.median(values)


def table(headers: list[str], rows: list[list], title: str | None = None) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = []
    if title:
        lines.append(title)
    lines.append("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths))))
    lines.append("  ".join("-" * w for w in widths))
    for r in cells:
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value)


def write_results(name: str, results: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stance_command() -> list[str]:
    """The `stance` console script as installed, else the same entry point via -m."""
    script = Path(sys.executable).parent / "stance"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "service.cli"]


def wait_http(url: str, process: subprocess.Popen, timeout: float, interval: float = 0.02) -> float:
    """Poll url until it answers 200; return the time it took. Fails if the process dies."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode} before {url} answered")
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=1)
            conn.request("GET", parts.path)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(interval)
    raise RuntimeError(f"{url} did not answer 200 within {timeout}s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
