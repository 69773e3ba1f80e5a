"""Files in, files out: `stance classify INPUT... [-o OUTPUT]`.

Reads JSONL, CSV, plain text, folders of them, or stdin; writes JSONL or CSV,
one row per input document with the same unit fields and profile as the API.
Streams in chunks, so memory stays flat. Nothing is lost: a malformed record
goes to the errors file with its line number and reason; an interrupted run,
rerun with the same command, resumes after the last complete output row, and
a duplicate id is rejected rather than written twice.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from service import analyze
from service.settings import Settings

INPUT_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".txt": "txt"}
CHUNK_DOCUMENTS = 32
EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


class UsageError(ValueError):
    """The command line cannot be carried out (missing file, bad option)."""


@dataclass
class Record:
    origin: str
    line: int
    id: str | None = None
    text: str | None = None
    paragraphs: list[str] | None = None
    extra: dict = field(default_factory=dict)
    error: str | None = None

    @property
    def key(self) -> str:
        return f"{self.origin}:{self.line}"


def expand_inputs(inputs: list[str]) -> list[str]:
    """Files in the order given; folders contribute their readable files, sorted."""
    out: list[str] = []
    for item in inputs:
        if item == "-":
            out.append(item)
            continue
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
            if not found:
                raise UsageError(f"folder {item} holds no .jsonl, .csv or .txt files")
            out += [str(p) for p in found]
        elif path.is_file():
            out.append(item)
        else:
            raise UsageError(f"input {item} does not exist")
    return out


def _format_of(name: str, stdin_format: str) -> str:
    if name == "-":
        return stdin_format
    return INPUT_SUFFIXES.get(Path(name).suffix.lower(), "txt")


def _from_object(origin: str, line: int, obj, id_field: str) -> Record:
    if not isinstance(obj, dict):
        return Record(origin, line, error=f"expected a JSON object, got {type(obj).__name__}")
    extra = {k: v for k, v in obj.items() if k not in (id_field, "text", "paragraphs")}
    raw_id = obj.get(id_field)
    if raw_id is None or isinstance(raw_id, (dict, list, bool)) or str(raw_id) == "":
        return Record(origin, line, extra=extra, error=f"missing or invalid '{id_field}'")
    record = Record(origin, line, id=str(raw_id), extra=extra)
    has_text, has_paragraphs = "text" in obj, "paragraphs" in obj
    if has_text == has_paragraphs:
        record.error = "give exactly one of 'text' or 'paragraphs'"
    elif has_text and not isinstance(obj["text"], str):
        record.error = "'text' must be a string"
    elif has_paragraphs and (not isinstance(obj["paragraphs"], list) or not all(isinstance(p, str) for p in obj["paragraphs"])):
        record.error = "'paragraphs' must be a list of strings"
    else:
        record.text, record.paragraphs = obj.get("text"), obj.get("paragraphs")
    return record


def _has_bad_bytes(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _decoded_lines(raw) -> Iterator[str]:
    # Decoding line by line keeps one bad byte from costing the rest of the
    # file; surrogateescape marks it so that the record can be rejected.
    for line in raw:
        yield line.decode("utf-8", errors="surrogateescape")


def read_records(name: str, fmt: str, text_column: str, id_column: str) -> Iterator[Record]:
    origin = "stdin" if name == "-" else name
    raw = sys.stdin.buffer if name == "-" else open(name, "rb")
    with raw:
        if fmt == "txt":
            text = raw.read().decode("utf-8", errors="surrogateescape")
            if _has_bad_bytes(text):
                yield Record(origin, 1, error="not valid UTF-8")
            else:
                yield Record(origin, 1, id=Path(name).name if name != "-" else "stdin", text=text)
            return
        if fmt == "jsonl":
            for line_no, line in enumerate(_decoded_lines(raw), 1):
                if not line.strip():
                    continue
                if _has_bad_bytes(line):
                    yield Record(origin, line_no, error="not valid UTF-8")
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield Record(origin, line_no, error=f"malformed JSON: {exc.msg} at column {exc.colno}")
                    continue
                yield _from_object(origin, line_no, obj, "id")
            return
        reader = csv.DictReader(_decoded_lines(raw))
        try:
            fields = reader.fieldnames or []
        except csv.Error as exc:
            yield Record(origin, 1, error=f"unreadable CSV header: {exc}")
            return
        if text_column not in fields:
            yield Record(origin, 1, error=f"CSV has no text column '{text_column}' (columns: {', '.join(fields)}); use --text-column")
            return
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Record(origin, reader.line_num, error=f"unreadable CSV row: {exc}")
                return
            line = reader.line_num
            if None in row:
                yield Record(origin, line, error="row has more fields than the header")
                continue
            if any(_has_bad_bytes(v or "") for v in row.values()):
                yield Record(origin, line, error="not valid UTF-8")
                continue
            obj = dict(row)
            obj["text"] = obj.pop(text_column)
            if id_column not in fields:
                obj[id_column] = f"{Path(origin).name}:{line}"
            yield _from_object(origin, line, obj, id_column)


class Output:
    """Append-only output and errors files, resumable after any interruption."""

    def __init__(self, path: str | None, fmt: str, errors_path: str | None):
        self.path, self.fmt = path, fmt
        self.errors_path = errors_path
        self.done_ids: set[str] = set()
        self.rejected_keys: set[str] = set()
        self.resumed_written = self.resumed_rejected = 0
        self.csv_fields: list[str] | None = None
        if path and path != "-":
            self._recover()
            self.handle = open(path, "a", encoding="utf-8", newline="")
        else:
            self.handle = sys.stdout
        self.errors = open(errors_path, "a", encoding="utf-8") if errors_path else None

    def _recover(self) -> None:
        for path in (self.path, self.errors_path):
            if path and os.path.exists(path):
                _truncate_partial_line(path)
        if os.path.exists(self.path):
            with open(self.path, encoding="utf-8", newline="") as handle:
                if self.fmt == "csv":
                    reader = csv.DictReader(handle)
                    self.csv_fields = reader.fieldnames
                    self.done_ids = {row["id"] for row in reader}
                else:
                    self.done_ids = {json.loads(line)["id"] for line in handle if line.strip()}
            self.resumed_written = len(self.done_ids)
        if self.errors_path and os.path.exists(self.errors_path):
            with open(self.errors_path, encoding="utf-8") as handle:
                self.rejected_keys = {f"{e['source']}:{e['line']}" for e in map(json.loads, handle) if e}
            self.resumed_rejected = len(self.rejected_keys)

    def write(self, record: Record, result: dict) -> None:
        row = {"id": record.id, **record.extra, **result}
        if self.fmt == "csv":
            flat = {
                "id": record.id,
                **{k: _csv_value(v) for k, v in record.extra.items()},
                "granularity": result["granularity"],
                "dominant": result["profile"]["dominant"],
                "opinion_heavy": result["profile"]["opinion_heavy"],
                **{f"share_{k}": v for k, v in result["profile"]["shares"].items()},
                "profile": json.dumps(result["profile"], ensure_ascii=False),
                "units": json.dumps(result["units"], ensure_ascii=False),
            }
            if self.csv_fields is None:
                self.csv_fields = list(flat)
                csv.writer(self.handle, lineterminator="\n").writerow(self.csv_fields)
            csv.DictWriter(self.handle, self.csv_fields, lineterminator="\n", extrasaction="ignore").writerow(flat)
        else:
            self.handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.done_ids.add(record.id)

    def reject(self, record: Record, reason: str) -> None:
        entry = {"source": record.origin, "line": record.line, "id": record.id, "reason": reason}
        if self.errors:
            self.errors.write(json.dumps(entry, ensure_ascii=False) + "\n")
        else:
            print(f"rejected {record.origin}:{record.line}: {reason}", file=sys.stderr)
        self.rejected_keys.add(record.key)

    def flush(self) -> None:
        self.handle.flush()
        if self.errors:
            self.errors.flush()

    def close(self) -> None:
        self.flush()
        if self.handle is not sys.stdout:
            self.handle.close()
        if self.errors:
            self.errors.close()


def _csv_value(value):
    # Keep each CSV record on one physical line, so that an interrupted file
    # can be cut back to its last complete record.
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if "\n" in value or "\r" in value else value
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value


def _truncate_partial_line(path: str) -> None:
    with open(path, "rb+") as handle:
        data = handle.read()
        if data and not data.endswith(b"\n"):
            handle.truncate(data.rfind(b"\n") + 1)


@dataclass
class Summary:
    read: int = 0
    written: int = 0
    rejected: int = 0
    resumed: int = 0

    def line(self) -> str:
        return (
            f"documents: read {self.read}, written {self.written}, rejected {self.rejected} "
            f"({self.resumed} of them done by an earlier run)"
        )


Classifier = Callable[[list[str]], np.ndarray]


def run(
    records: Iterator[Record],
    classify: Classifier,
    output: Output,
    settings: Settings,
    granularity: str,
    progress=None,
) -> Summary:
    summary = Summary(resumed=output.resumed_written + output.resumed_rejected)
    pending: list[tuple[Record, list[analyze.PreparedUnit]]] = []
    seen: set[str] = set()

    def flush_pending() -> None:
        texts = [t for _, units in pending for t in analyze.prose_texts(units)]
        probs = classify(texts) if texts else np.zeros((0, 3))
        offset = 0
        for record, units in pending:
            n = len(analyze.prose_texts(units))
            output.write(record, analyze.assemble(units, probs[offset : offset + n], granularity, settings.opinion_threshold))
            offset += n
            summary.written += 1
        output.flush()
        if progress is not None:
            progress.update(len(pending))
        pending.clear()

    for record in records:
        summary.read += 1
        if record.key in output.rejected_keys:
            summary.rejected += 1
            _tick(progress)
            continue
        error = record.error
        if error is None and record.id in seen:
            error = f"duplicate id {record.id!r}: an earlier record has it"
        elif error is None and record.id in output.done_ids:
            # Written by an interrupted earlier run of the same command.
            seen.add(record.id)
            summary.written += 1
            _tick(progress)
            continue
        units = None
        if error is None:
            try:
                units = analyze.prepare(settings, record.text, record.paragraphs, granularity)
            except (analyze.InputError, analyze.LimitError) as exc:
                error = str(exc)
        if error is not None:
            output.reject(record, error)
            output.flush()
            summary.rejected += 1
            _tick(progress)
            continue
        seen.add(record.id)
        pending.append((record, units))
        if len(pending) >= CHUNK_DOCUMENTS:
            flush_pending()
    if pending:
        flush_pending()
    return summary


def _tick(progress) -> None:
    if progress is not None:
        progress.update(1)


def add_parser(sub) -> None:
    p = sub.add_parser("classify", help="classify files of documents (JSONL, CSV, TXT, folders, stdin)")
    p.add_argument("inputs", nargs="+", help="files, folders, or - for stdin")
    p.add_argument("-o", "--output", default="-", help="output file (.jsonl or .csv); - for stdout")
    p.add_argument("--format", choices=("jsonl", "csv"), default=None, help="output format (default from -o suffix, else jsonl)")
    p.add_argument("--errors", default=None, help="rejected records file (default OUTPUT.errors.jsonl; stderr for stdout)")
    p.add_argument("--stdin-format", choices=("jsonl", "csv", "txt"), default="jsonl", help="format of - input")
    p.add_argument("--text-column", default="text", help="CSV column holding the article text")
    p.add_argument("--id-column", default="id", help="CSV/JSONL field holding the document id")
    p.add_argument("--granularity", choices=analyze.GRANULARITIES, default="paragraph")
    p.add_argument("--model-dir", default=None, help="model directory (STANCE_MODEL_DIR)")
    p.add_argument("--engine", choices=("local", "ray"), default="local", help="run on this machine or on a Ray cluster")
    p.add_argument("--ray-address", default=None, help="Ray cluster address (default: RAY_ADDRESS or a local instance)")
    p.add_argument("--ray-workers", type=int, default=1, help="model actors on the Ray cluster")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar (default: on a terminal)")
    p.set_defaults(func=main)


def _count_records(names: list[str]) -> int | None:
    if "-" in names:
        return None
    total = 0
    for name in names:
        if _format_of(name, "jsonl") == "txt":
            total += 1
        else:
            with open(name, "rb") as handle:
                total += sum(1 for line in handle if line.strip())
            if _format_of(name, "jsonl") == "csv":
                total -= 1
    return max(total, 0)


def main(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from service.cli import _settings

    settings = _settings(model_dir=args.model_dir)
    try:
        names = expand_inputs(args.inputs)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    fmt = args.format or ("csv" if args.output.lower().endswith(".csv") else "jsonl")
    errors_path = args.errors or (None if args.output == "-" else args.output + ".errors.jsonl")

    def records() -> Iterator[Record]:
        for name in names:
            yield from read_records(name, _format_of(name, args.stdin_format), args.text_column, args.id_column)

    if args.engine == "ray":
        from service.ray_engine import ray_classifier

        classify = ray_classifier(settings, args.ray_address, args.ray_workers)
    else:
        from service.engine import Engine, ModelLoadError

        try:
            engine = Engine.from_settings(settings)
        except ModelLoadError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        classify = engine.classify

    output = Output(args.output, fmt, errors_path)
    show = sys.stderr.isatty() if args.progress is None else args.progress
    progress = tqdm(total=_count_records(names), unit="doc", desc="classifying", disable=not show, file=sys.stderr)
    try:
        summary = run(records(), classify, output, settings, args.granularity, progress)
    finally:
        progress.close()
        output.close()
    print(summary.line(), file=sys.stderr)
    return EXIT_REJECTED if summary.rejected else EXIT_OK
