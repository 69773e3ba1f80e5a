"""Time to ready and peak memory of `stance serve`, against loading the transformers pipeline.

Ready means /readyz answers 200: the model is loaded and has classified one
paragraph. Peak resident memory is the largest sum of RSS over the server's
process tree, sampled every 10 ms from launch to the end of a short load
(article and paragraph requests at 32 clients). The baseline is a fresh
process that imports torch and transformers, builds the pipeline on the same
model, classifies one paragraph ("ready"), then classifies the same
paragraphs the load sends; it is timed and sampled the same way.

    python bench/startup.py --model-dir models/stance-minilm
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import from the repo root, not from bench/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import common
from bench.load import encode_posts, load

TARGET_READY_S = 3.0
TARGET_RSS_MB = 500.0
HOST = "127.0.0.1"
LOAD = {"article": 60, "paragraph": 400}

BASELINE = """
import sys, time
import torch
from transformers import pipeline
torch.set_num_threads({threads})
pipe = pipeline("text-classification", model={model!r}, device=-1, top_k=None)
pipe(["The council met on Tuesday to discuss the budget."])
print("ready", flush=True)
texts = [line.rstrip("\\n") for line in open({texts!r}, encoding="utf-8")]
pipe(texts, batch_size=16)
"""


class PeakRSS:
    """Largest total RSS of a process and its descendants, sampled in a thread."""

    def __init__(self, pid: int, interval: float = 0.01):
        import psutil

        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                tree = [self.root, *self.root.children(recursive=True)]
                total = 0
                for proc in tree:
                    try:
                        total += proc.memory_info().rss
                    except psutil.NoSuchProcess:
                        pass
                self.peak = max(self.peak, total)
            except psutil.NoSuchProcess:
                return
            time.sleep(self.interval)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


def serve_once(model_dir: Path, with_load: bool, paragraphs: list[str], articles: list[str]) -> dict:
    port = common.free_port()
    env = {**os.environ, "STANCE_PORT": str(port), "STANCE_LOG_LEVEL": "warning"}
    started = time.perf_counter()
    process = subprocess.Popen(
        common.stance_command() + ["serve", "--no-train", "--model-dir", str(model_dir)],
        cwd=common.REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    sampler = PeakRSS(process.pid)
    try:
        common.wait_http(f"http://{HOST}:{port}/readyz", process, timeout=120, interval=0.01)
        ready = time.perf_counter() - started
        ready_rss = sampler.peak / 2**20
        if with_load:
            load(HOST, port, encode_posts(HOST, port, "/v1/classify", [{"text": a} for a in articles]), clients=32, total=LOAD["article"])
            load(HOST, port, encode_posts(HOST, port, "/v1/classify", [{"paragraphs": [t]} for t in paragraphs]), clients=32, total=LOAD["paragraph"])
    finally:
        peak = sampler.stop()
        common.stop(process)
    return {"ready_s": ready, "rss_at_ready_mb": ready_rss, "peak_rss_mb": peak}


def baseline_once(model_dir: Path, texts_file: Path) -> dict:
    code = BASELINE.format(threads=os.cpu_count() or 1, model=str(model_dir), texts=str(texts_file))
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code], cwd=common.REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    sampler = PeakRSS(process.pid)
    ready, ready_rss = None, None
    for line in process.stdout:
        if line.strip() == "ready":
            ready = time.perf_counter() - started
            ready_rss = sampler.peak / 2**20
    process.wait()
    peak = sampler.stop()
    if process.returncode != 0 or ready is None:
        raise SystemExit(f"error: the pipeline baseline exited with {process.returncode}")
    return {"ready_s": ready, "rss_at_ready_mb": ready_rss, "peak_rss_mb": peak}


def main(argv: list[str] | None = None) -> int:
    import tempfile

    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3, help="cold starts of each (the median is reported)")
    args = p.parse_args(argv)
    common.check_model_dir(args.model_dir)
    busy = common.refuse_if_busy(args)

    from service import segment

    paragraphs = common.workload()[: LOAD["paragraph"]]
    articles = list(common.seed_articles().values())
    loaded_texts = [u.text for i in range(LOAD["article"]) for u in segment.paragraphs(articles[i % len(articles)]) if u.is_prose] + paragraphs

    # Both read the same files once before timing, so that neither pays for a cold page cache.
    serve_once(args.model_dir, False, paragraphs, articles)
    serve_runs = [serve_once(args.model_dir, i == 0, paragraphs, articles) for i in range(args.repeats)]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
        handle.write("\n".join(t.replace("\n", " ") for t in loaded_texts) + "\n")
        texts_file = Path(handle.name)
    try:
        baseline_runs = [baseline_once(args.model_dir, texts_file) for _ in range(args.repeats)]
    finally:
        texts_file.unlink()

    serve = {
        "ready_s": common.median([r["ready_s"] for r in serve_runs]),
        "rss_at_ready_mb": common.median([r["rss_at_ready_mb"] for r in serve_runs]),
        "peak_rss_mb": serve_runs[0]["peak_rss_mb"],
    }
    base = {k: common.median([r[k] for r in baseline_runs]) for k in ("ready_s", "rss_at_ready_mb", "peak_rss_mb")}
    rows = [
        ["time to ready (s)", serve["ready_s"], base["ready_s"], serve["ready_s"] / base["ready_s"], f"< {TARGET_READY_S:g}", serve["ready_s"] < TARGET_READY_S],
        ["RSS at ready (MB)", serve["rss_at_ready_mb"], base["rss_at_ready_mb"], serve["rss_at_ready_mb"] / base["rss_at_ready_mb"], None, None],
        ["peak RSS under load (MB)", serve["peak_rss_mb"], base["peak_rss_mb"], serve["peak_rss_mb"] / base["peak_rss_mb"], f"< {TARGET_RSS_MB:g}", serve["peak_rss_mb"] < TARGET_RSS_MB],
    ]
    print(common.table(
        ["measure", "stance serve", "torch+transformers pipeline", "ratio", "target", "met"], rows,
        title=f"\nmedian of {args.repeats} cold starts; load = {LOAD['article']} article + {LOAD['paragraph']} paragraph requests at 32 clients ({len(loaded_texts)} paragraphs); {args.model_dir}",
    ))
    path = common.write_results("startup", {
        "model_dir": str(args.model_dir),
        "busy": busy,
        "machine": common.machine(),
        "load": LOAD,
        "serve": serve,
        "serve_runs": serve_runs,
        "baseline": base,
        "baseline_runs": baseline_runs,
        "targets": {
            "ready_s": TARGET_READY_S, "peak_rss_mb": TARGET_RSS_MB,
            "ready_met": serve["ready_s"] < TARGET_READY_S, "rss_met": serve["peak_rss_mb"] < TARGET_RSS_MB,
        },
    })
    print(f"results: {path.relative_to(common.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
