"""Requests per second and latency of `stance serve` against a plain FastAPI + pipeline app.

The benchmark starts each server itself on a loopback port, one at a time,
and drives it with a closed-loop load generator (bench/load.py) at 1, 8 and
32 concurrent clients, for single-paragraph requests and for whole-article
requests (the seed articles). Request counts are bounded, so every level
stops by itself. The engine's offline rate on the same paragraphs, measured
in this run, is the ceiling the service is held against.

    python bench/service.py --model-dir models/stance-minilm
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import from the repo root, not from bench/
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import common
from bench.load import encode_posts, load

HOST = "127.0.0.1"
CLIENTS = (1, 8, 32)
# Requests per level: enough for a steady p99 at the service's speed, few
# enough that the slower baseline finishes in a minute or two.
SINGLE_REQUESTS = {1: 300, 8: 1000, 32: 3200}
ARTICLE_REQUESTS = {1: 40, 8: 160, 32: 320}
BASELINE_SHARE = 0.25
LEVEL_DEADLINE_S = 180
TARGET_VS_OFFLINE = 0.85
TARGET_VS_PLAIN = 4.0
TARGET_P50_MS = 20.0


def start(command: list[str], env: dict, url: str, log_path: Path) -> subprocess.Popen:
    log = open(log_path, "wb")
    process = subprocess.Popen(command, cwd=common.REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        common.wait_http(url + "/readyz", process, timeout=180)
    except RuntimeError:
        common.stop(process)
        raise SystemExit(f"error: {' '.join(command)} did not become ready; see {log_path}")
    return process


def check_answer(port: int, body: dict, expected_units: int) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.request("POST", "/v1/classify", json.dumps(body), {"content-type": "application/json"})
    response = conn.getresponse()
    answer = json.loads(response.read())
    conn.close()
    labelled = [u for u in answer.get("units", []) if u.get("label")]
    if response.status != 200 or len(labelled) != expected_units:
        raise SystemExit(f"error: server on port {port} answered {response.status} with {len(labelled)} labelled units, expected {expected_units}")


def drive(port: int, workloads: dict, share: float) -> list[dict]:
    rows = []
    for kind, (bodies, units_per_request, counts) in workloads.items():
        requests = encode_posts(HOST, port, "/v1/classify", bodies)
        load(HOST, port, requests, clients=4, total=16)  # warm-up: connections, caches, first batches
        for clients in CLIENTS:
            total = max(int(counts[clients] * share), 4 * clients)
            result = load(HOST, port, requests, clients=clients, total=total, deadline_s=LEVEL_DEADLINE_S)
            row = {"kind": kind, **result.summary(units_per_request)}
            rows.append(row)
            print(f"  {kind} x{clients}: {row['requests_per_s']:.1f} req/s, p50 {row['p50_ms']:.1f} ms", file=sys.stderr)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = common.parser(__doc__.splitlines()[0])
    p.add_argument("--plain-batch-size", type=int, default=8, help="pipeline batch size inside the plain app (8 won bench/engine.py's sweep here)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every request count (0.2 for a quick check)")
    args = p.parse_args(argv)
    common.check_model_dir(args.model_dir)
    busy = common.refuse_if_busy(args)
    logs = Path(tempfile.mkdtemp(prefix="stance-bench-service-"))  # server output, named in any error

    from service import segment

    paragraphs = common.workload()
    articles = list(common.seed_articles().values())
    article_units = [sum(1 for u in segment.paragraphs(a) if u.is_prose) for a in articles]
    units_per_article = sum(article_units) / len(article_units)
    workloads = {
        "paragraph": ([{"paragraphs": [t]} for t in paragraphs], 1.0, SINGLE_REQUESTS),
        "article": ([{"text": a} for a in articles], units_per_article, ARTICLE_REQUESTS),
    }

    # The ceiling: the engine offline, in this process, on the same
    # paragraphs; timed before and after the service runs, since the
    # machine's speed drifts by 10% or more over the minutes between.
    from service.engine import Engine
    from service.settings import Settings

    engine = Engine.from_settings(Settings(model_dir=args.model_dir))  # what `stance serve` runs
    engine.classify(paragraphs[:64])
    article_paragraphs = [u.text for _ in range(40) for a in articles for u in segment.paragraphs(a) if u.is_prose]
    offline_texts = {"paragraph": paragraphs, "article": article_paragraphs}
    offline_runs = {kind: [] for kind in offline_texts}

    def time_offline() -> None:
        for kind, texts in offline_texts.items():
            offline_runs[kind] += [len(texts) / s for s in common.timed(lambda: engine.classify(texts), 2)]

    time_offline()
    print(f"engine offline: {common.median(offline_runs['paragraph']):.1f} paragraphs/s (paragraphs), "
          f"{common.median(offline_runs['article']):.1f} (seed articles)", file=sys.stderr)

    scaled = {k: (b, u, {c: max(1, int(n * args.scale)) for c, n in counts.items()}) for k, (b, u, counts) in workloads.items()}
    results = {}
    for name, command, env, share in (
        ("stance", common.stance_command() + ["serve", "--no-train", "--model-dir", str(args.model_dir)], {"STANCE_LOG_LEVEL": "warning"}, 1.0),
        ("plain", [sys.executable, "bench/plain_app.py", "--model-dir", str(args.model_dir), "--batch-size", str(args.plain_batch_size)], {}, BASELINE_SHARE),
    ):
        port = common.free_port()
        if name == "stance":
            env = {**env, "STANCE_PORT": str(port)}
        else:
            command = command + ["--port", str(port)]
        print(f"{name}: starting on port {port}", file=sys.stderr)
        process = start(command, env, f"http://{HOST}:{port}", logs / f"service-{name}.log")
        try:
            check_answer(port, workloads["paragraph"][0][0], 1)
            check_answer(port, workloads["article"][0][0], article_units[0])
            results[name] = drive(port, scaled, share)
        finally:
            common.stop(process)
        if name == "stance":
            time_offline()

    offline = {kind: common.median(runs) for kind, runs in offline_runs.items()}

    def row_of(app: str, kind: str, clients: int) -> dict:
        return next(r for r in results[app] if r["kind"] == kind and r["clients"] == clients)

    rows = []
    for kind in workloads:
        for clients in CLIENTS:
            for app in ("stance", "plain"):
                r = row_of(app, kind, clients)
                vs_plain = r["requests_per_s"] / row_of("plain", kind, clients)["requests_per_s"] if app == "stance" else None
                rows.append([
                    "stance serve" if app == "stance" else "plain pipeline app", kind, clients, r["ok"], r["requests_per_s"],
                    r["paragraphs_per_s"], r["paragraphs_per_s"] / offline[kind], vs_plain, r["p50_ms"], r["p95_ms"], r["p99_ms"],
                    sum(r["errors"].values()) + (1 if r["timed_out"] else 0),
                ])
    print(common.table(
        ["app", "request", "clients", "ok", "req/s", "para/s", "x offline", "x plain", "p50 ms", "p95 ms", "p99 ms", "errors"], rows,
        title=f"\nloopback, client and server share {os.cpu_count()} cores; offline engine {offline['paragraph']:.1f} paragraphs/s (single paragraphs), {offline['article']:.1f} (seed articles)",
    ))
    checks = {
        f"paragraph requests, 32 clients >= {TARGET_VS_OFFLINE}x offline engine": row_of("stance", "paragraph", 32)["paragraphs_per_s"] / offline["paragraph"],
        f"article requests, 32 clients >= {TARGET_VS_OFFLINE}x offline engine": row_of("stance", "article", 32)["paragraphs_per_s"] / offline["article"],
        f"paragraph requests, 32 clients >= {TARGET_VS_PLAIN}x plain app": row_of("stance", "paragraph", 32)["requests_per_s"] / row_of("plain", "paragraph", 32)["requests_per_s"],
        f"article requests, 32 clients >= {TARGET_VS_PLAIN}x plain app": row_of("stance", "article", 32)["requests_per_s"] / row_of("plain", "article", 32)["requests_per_s"],
        f"paragraph p50 at 1 client < {TARGET_P50_MS:.0f} ms": row_of("stance", "paragraph", 1)["p50_ms"],
    }
    targets = {}
    print()
    for label, value in checks.items():
        met = value < TARGET_P50_MS if "p50" in label else value >= (TARGET_VS_OFFLINE if "offline" in label else TARGET_VS_PLAIN)
        targets[label] = {"value": value, "met": met}
        print(f"target {label}: {'met' if met else 'MISSED'} ({value:.2f})")

    path = common.write_results("service", {
        "model_dir": str(args.model_dir),
        "busy": busy,
        "machine": common.machine(),
        "offline_engine_paragraphs_per_s": offline,
        "offline_engine_runs": offline_runs,
        "paragraphs_per_article": units_per_article,
        "plain_batch_size": args.plain_batch_size,
        "baseline_request_share": BASELINE_SHARE,
        "runs": results,
        "targets": targets,
    })
    print(f"results: {path.relative_to(common.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
