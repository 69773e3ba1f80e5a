"""This machine's fp32 matrix-multiply peak, and the FLOPs a BERT window costs.

The peak is the best of several libraries, each in a fresh process limited
to the same thread count as the engine, multiplying two 4096x4096 fp32
matrices: numpy as installed, numpy with OpenBLAS told to use its AVX-512
kernel when the CPU has AVX-512 (the wheel's OpenBLAS picks its AVX2
"Haswell" kernel on AMD Zen, which would halve the apparent peak and flatter
every efficiency figure), torch, and ONNX Runtime's own MatMul. Taking the
best of them makes the efficiency figure conservative.

Run alone: `python bench/peak.py` prints each library's GFLOP/s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from string import Template

MATRIX = 4096

_PROBES = {
    "numpy": """
import numpy as np
a = np.random.default_rng(0).random(($n, $n), dtype=np.float32); b = np.random.default_rng(1).random(($n, $n), dtype=np.float32)
run = lambda: a @ b
""",
    "torch": """
import torch
torch.set_num_threads($threads)
a = torch.rand($n, $n); b = torch.rand($n, $n)
run = lambda: torch.mm(a, b)
""",
    "onnxruntime": """
import numpy as np, onnxruntime as ort
from onnx import TensorProto, helper
graph = helper.make_graph(
    [helper.make_node("MatMul", ["a", "b"], ["c"])], "matmul",
    [helper.make_tensor_value_info(n, TensorProto.FLOAT, [$n, $n]) for n in ("a", "b")],
    [helper.make_tensor_value_info("c", TensorProto.FLOAT, [$n, $n])],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]); model.ir_version = 8
options = ort.SessionOptions(); options.intra_op_num_threads = $threads; options.inter_op_num_threads = 1
session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
feed = {"a": np.random.default_rng(0).random(($n, $n), dtype=np.float32), "b": np.random.default_rng(1).random(($n, $n), dtype=np.float32)}
run = lambda: session.run(None, feed)
""",
}

_TIMER = """
import json, time
run()
times = []
for _ in range($repeats):
    started = time.perf_counter(); run(); times.append(time.perf_counter() - started)
print(json.dumps(times))
"""


def has_avx512() -> bool:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            return any(line.startswith("flags") and " avx512f" in line for line in handle)
    except OSError:
        return False


def probe(library: str, threads: int, repeats: int = 5, env: dict | None = None) -> dict:
    code = Template(_PROBES[library] + _TIMER).substitute(n=MATRIX, threads=threads, repeats=repeats)
    thread_env = {name: str(threads) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    result = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **thread_env, **(env or {})}, capture_output=True, text=True
    )
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}"}
    times = json.loads(result.stdout.strip().splitlines()[-1])
    flops = 2 * MATRIX**3
    return {"gflops_best": flops / min(times) / 1e9, "gflops_median": flops / sorted(times)[len(times) // 2] / 1e9}


def measure_peak(threads: int) -> dict:
    """GFLOP/s of each library and the best of them, all with `threads` threads."""
    runs = {"numpy": probe("numpy", threads)}
    if has_avx512():
        runs["numpy (OpenBLAS AVX-512 kernel)"] = probe("numpy", threads, env={"OPENBLAS_CORETYPE": "SkylakeX"})
    runs["torch"] = probe("torch", threads)
    runs["onnxruntime MatMul"] = probe("onnxruntime", threads)
    ok = {name: r["gflops_best"] for name, r in runs.items() if "gflops_best" in r}
    best = max(ok, key=ok.get)
    return {"matrix": MATRIX, "threads": threads, "libraries": runs, "peak_gflops": ok[best], "peak_library": best}


def window_flops(config: dict, tokens: int, classes: int = 3) -> float:
    """FLOPs of one forward pass of a BERT-style encoder over one window of `tokens` tokens.

    Per token, each of L layers multiplies by the Q, K, V and output
    projections (4 H^2 multiply-adds) and the two feed-forward matrices
    (2 H I), and each multiply-add is 2 FLOPs: 2 L (4 H^2 + 2 H I). Attention
    adds Q K^T and the weighted sum of V, each n H multiply-adds per token per
    layer for a window of n tokens: 4 L n H. The pooler and classifier run
    once per window on the [CLS] token: 2 (H^2 + H C). Embedding lookups,
    layer norms, softmax, GELU and bias adds are O(n H) each and left out
    (under 1% here), so the count is a slight underestimate.
    """
    layers, hidden, ffn = config["num_hidden_layers"], config["hidden_size"], config["intermediate_size"]
    per_token = 2 * layers * (4 * hidden * hidden + 2 * hidden * ffn) + 4 * layers * tokens * hidden
    return tokens * per_token + 2 * (hidden * hidden + hidden * classes)


if __name__ == "__main__":
    print(json.dumps(measure_peak(os.cpu_count() or 1), indent=2))
