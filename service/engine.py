"""Load a model directory and classify lists of strings.

Serving uses ONNX Runtime with the `tokenizers` library, so this module never
imports torch on that path; a directory without an ONNX export falls back to
transformers + torch. Units are tokenised once, cut into overlapping windows
when longer than the model's window (never silently truncated), sorted by
length and cut into batches that weigh padding against the cost of a call
(`plan_batches`), and their window logits are averaged. With the ONNX
runtime the batches of a call run side by side on replicas, one session
per core by default.
"""

from __future__ import annotations

import json
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service.labels import LABELS

ONNX_SUBDIR = "onnx"
ONNX_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
CALIBRATION_FILE = "calibration.json"
# Per padded token, a MiniLM forward pass on 2 cores is cheapest when a call
# holds a few hundred to a thousand tokens; beyond that the activations
# (the feed-forward layer's 4x-wide one, the attention scores) fall out of
# cache and each token costs up to 1.7 times as much (bench/README.md).
MAX_BATCH_TOKENS = 1024
# The fixed cost of one model call (~2 ms for ~400 kernels, against ~70 us a
# token: `bench/engine.py --shapes`) in tokens' worth of compute; it is what
# splitting a batch pays to save padding.
CALL_OVERHEAD_TOKENS = 32


class ModelLoadError(RuntimeError):
    """The model directory is missing, incomplete or inconsistent."""


@dataclass(frozen=True)
class Window:
    unit: int
    ids: list[int]


class _OnnxBackend:
    name = "onnx"

    def __init__(self, path: Path, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Pool threads spin only 20 us for the next kernel before sleeping. The
        # default, longer spin burns the core that the event loop or any other
        # process needs, and a preempted thread then stalls every kernel of
        # the call: with one of 2 cores busy it cost 40% of throughput, while
        # 20 us keeps all but ~5% of the idle-machine speed (bench/README.md).
        options.add_session_config_entry("session.intra_op.spin_duration_us", "20")
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for corrupt files
            raise ModelLoadError(f"cannot load ONNX model {path}: {exc}") from exc
        self.inputs = {i.name for i in self.session.get_inputs()}

    def logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        return self.session.run(None, feed)[0]


class _TorchBackend:
    name = "torch"

    def __init__(self, model_dir: Path, threads: int):
        import torch
        from transformers import AutoModelForSequenceClassification

        torch.set_num_threads(threads)
        try:
            self.model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
        except Exception as exc:  # transformers raises several error types for bad folders
            raise ModelLoadError(f"cannot load model weights from {model_dir}: {exc}") from exc
        self.torch = torch

    def logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        with self.torch.inference_mode():
            out = self.model(input_ids=self.torch.from_numpy(ids), attention_mask=self.torch.from_numpy(mask))
        return out.logits.float().numpy()


def plan_batches(lengths: list[int], max_rows: int, max_tokens: int, attention_span: float) -> list[range]:
    """Cut windows, sorted by length, into contiguous batches of least estimated cost.

    A batch costs a fixed call overhead plus its padded tokens, each token
    weighted by 1 + width / attention_span for attention's quadratic share.
    Fixed-size chunks would pad a mixed handful of requests (the service's
    usual call) to its longest member; the cheapest cut is found exactly by
    dynamic programming over the sorted order, with at most max_rows windows
    and max_tokens padded tokens per batch (one window may exceed the latter).
    """
    best = [0.0] + [float("inf")] * len(lengths)
    start_of = [0] * (len(lengths) + 1)
    for end in range(1, len(lengths) + 1):
        width = lengths[end - 1]
        row_cost = width * (1 + width / attention_span)
        most_rows = min(max_rows, end, max(1, max_tokens // width))
        for rows in range(1, most_rows + 1):
            cost = best[end - rows] + CALL_OVERHEAD_TOKENS + rows * row_cost
            if cost < best[end]:
                best[end], start_of[end] = cost, end - rows
    batches, end = [], len(lengths)
    while end > 0:
        batches.append(range(start_of[end], end))
        end = start_of[end]
    return batches[::-1]


def _special_id(tokenizer, *candidates: str) -> int:
    for token in candidates:
        token_id = tokenizer.token_to_id(token)
        if token_id is not None:
            return token_id
    raise ModelLoadError(f"tokenizer has none of the special tokens {candidates}")


class Engine:
    """Classifies strings into the three stance labels with calibrated probabilities."""

    def __init__(
        self,
        model_dir: str | Path,
        engine: str = "auto",
        batch_size: int = 32,
        window_tokens: int = 256,
        window_stride: int = 192,
        threads: int = 0,
        max_batch_tokens: int = MAX_BATCH_TOKENS,
        precision: str = "fp32",
        replicas: int = 0,
    ):
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir)
        config_path = self.model_dir / "config.json"
        tokenizer_path = self.model_dir / "tokenizer.json"
        for required in (config_path, tokenizer_path):
            if not required.is_file():
                raise ModelLoadError(
                    f"model directory {self.model_dir} has no {required.name}; train one with "
                    f"`stance train` or point STANCE_MODEL_DIR at a trained model"
                )
        try:
            self.config = json.loads(config_path.read_text())
        except json.JSONDecodeError as exc:
            raise ModelLoadError(f"{config_path} is not valid JSON: {exc}") from exc
        id2label = {int(k): v for k, v in self.config.get("id2label", {}).items()}
        self.labels = tuple(id2label[i] for i in sorted(id2label))
        if self.labels != LABELS:
            raise ModelLoadError(f"model labels {self.labels} do not match the service's {LABELS}")

        try:
            self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:  # tokenizers raises a bare Exception for a corrupt file
            raise ModelLoadError(f"cannot load tokenizer {tokenizer_path}: {exc}") from exc
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.cls_id = _special_id(self.tokenizer, "[CLS]", "<s>")
        self.sep_id = _special_id(self.tokenizer, "[SEP]", "</s>")
        self.pad_id = _special_id(self.tokenizer, "[PAD]", "<pad>")
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        # Attention's cost per token grows with the window; the dense layers' does not.
        self.attention_span = 2 * self.config.get("hidden_size", 384) + self.config.get("intermediate_size", 1536)
        self.window_tokens = min(window_tokens, int(self.config.get("max_position_embeddings", 512)))
        self.window_stride = min(window_stride, self.window_tokens - 2)
        self.temperature = self._temperature()

        threads = threads or os.cpu_count() or 1
        int8_path = self.model_dir / ONNX_SUBDIR / INT8_FILE
        if precision == "auto":
            # The int8 variant exists only where `stance export` found it as accurate and faster.
            precision = "int8" if int8_path.is_file() and engine != "torch" else "fp32"
        if precision == "int8" and engine == "torch":
            raise ModelLoadError("int8 precision needs the ONNX engine; use engine onnx or auto")
        onnx_path = int8_path if precision == "int8" else self.model_dir / ONNX_SUBDIR / ONNX_FILE
        if precision == "int8" and not onnx_path.is_file():
            raise ModelLoadError(
                f"no int8 variant at {onnx_path}: `stance export` keeps one only when it is faster and as accurate; "
                "use STANCE_PRECISION=fp32"
            )
        if engine == "onnx" or (engine == "auto" and onnx_path.is_file()):
            if not onnx_path.is_file():
                raise ModelLoadError(f"no ONNX export at {onnx_path}; run `stance export`")
            # Replicas: sessions of threads/replicas cores each that run
            # batches side by side. One session per core beat one session on
            # every core by 1.1-1.5x here: its kernels never wait at a
            # barrier for a thread that the event loop or another process
            # preempted, and the service's next batch starts while one runs.
            self.replicas = max(1, min(replicas or threads, threads))
            backends = [_OnnxBackend(onnx_path, threads // self.replicas) for _ in range(self.replicas)]
            if precision == "int8":
                for backend in backends:
                    backend.name = "onnx-int8"
        else:
            # torch's own thread pool is process-wide: one model, every core.
            self.replicas = 1
            backends = [_TorchBackend(self.model_dir, threads)]
        self.backend = backends[0]
        self._idle: queue.SimpleQueue = queue.SimpleQueue()
        for backend in backends:
            self._idle.put(backend)
        self._pool = ThreadPoolExecutor(max_workers=self.replicas, thread_name_prefix="stance-replica") if self.replicas > 1 else None
        self._count_lock = threading.Lock()
        self.tokens_processed = 0

    @classmethod
    def from_settings(cls, settings) -> "Engine":
        """The engine the service, the batch command and the Ray actor share."""
        return cls(
            settings.model_dir, settings.engine, settings.batch_size, settings.window_tokens, settings.window_stride,
            settings.threads, max_batch_tokens=settings.max_batch_tokens, precision=settings.precision,
            replicas=settings.replicas,
        )

    def _temperature(self) -> float:
        path = self.model_dir / CALIBRATION_FILE
        if not path.is_file():
            return 1.0
        temperature = float(json.loads(path.read_text())["temperature"])
        if not temperature > 0:
            raise ModelLoadError(f"{path}: temperature must be positive, got {temperature}")
        return temperature

    @property
    def backend_name(self) -> str:
        return self.backend.name

    def windows(self, texts: list[str]) -> list[Window]:
        body = self.window_tokens - 2
        out: list[Window] = []
        for unit, encoding in enumerate(self.tokenizer.encode_batch(texts, add_special_tokens=False)):
            ids = encoding.ids
            starts = range(0, max(len(ids) - body, 0) + 1, self.window_stride)
            starts = list(starts)
            if starts[-1] + body < len(ids):
                starts.append(len(ids) - body)
            for start in starts:
                out.append(Window(unit, [self.cls_id, *ids[start : start + body], self.sep_id]))
        return out

    def plan(self, sorted_lengths: list[int]) -> list[range]:
        """The batches one call runs: spans of the windows sorted by length."""
        return plan_batches(sorted_lengths, self.batch_size, self.max_batch_tokens, self.attention_span)

    def logits(self, texts: list[str]) -> np.ndarray:
        """Uncalibrated logits, one row per text; long texts average their windows."""
        if not texts:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        windows = self.windows(texts)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].ids))
        window_logits = np.zeros((len(windows), len(LABELS)), dtype=np.float32)
        lengths = [len(windows[i].ids) for i in order]

        def run(span: range) -> None:
            batch = order[span.start : span.stop]
            width = lengths[span.stop - 1]
            ids = np.full((len(batch), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                ids[row, : len(windows[i].ids)] = windows[i].ids
                mask[row, : len(windows[i].ids)] = 1
            backend = self._idle.get()  # waits while every replica is busy
            try:
                window_logits[batch] = backend.logits(ids, mask)
            finally:
                self._idle.put(backend)
            with self._count_lock:
                self.tokens_processed += int(mask.sum())

        spans = self.plan(lengths)
        if self._pool is None or len(spans) == 1:
            for span in spans:
                run(span)
        else:
            list(self._pool.map(run, spans))
        weights = np.array([len(w.ids) for w in windows], dtype=np.float32)
        units = np.array([w.unit for w in windows])
        totals = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        np.add.at(totals, units, window_logits * weights[:, None])
        return totals / np.bincount(units, weights=weights, minlength=len(texts))[:, None].astype(np.float32)

    def classify(self, texts: list[str]) -> np.ndarray:
        """Calibrated probabilities, one row per text, columns in LABELS order."""
        return softmax(self.logits(texts) / self.temperature)

    def info(self) -> dict:
        def read(name: str) -> dict:
            path = self.model_dir / name
            return json.loads(path.read_text()) if path.is_file() else {}

        meta = read("stance_meta.json")
        return {
            "name": meta.get("name", self.model_dir.name),
            "version": meta.get("version", "unversioned"),
            "base_model": meta.get("base_model", self.config.get("_name_or_path", "unknown")),
            "labels": list(self.labels),
            "engine": self.backend_name,
            "window_tokens": self.window_tokens,
            "temperature": self.temperature,
            "training_data": meta.get("training_data", {}),
            "test_scores": read("metrics.json").get("test", {}),
        }


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)
