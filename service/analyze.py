"""Documents -> units to classify -> labelled units and an article profile.

Shared by the REST API, the batch command and the Ray Data actor, so that
all three give the same answer for the same document. No HTTP, no model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service import segment
from service.labels import LABELS, TIE_ORDER
from service.settings import Settings

GRANULARITIES = ("paragraph", "sentence")


class InputError(ValueError):
    """The document is empty or malformed (HTTP 422)."""


class LimitError(ValueError):
    """The document exceeds a configured limit (HTTP 413)."""

    def __init__(self, limit: str, value: int, maximum: int, what: str):
        super().__init__(f"{what}: {value} is over the limit {limit}={maximum}")
        self.limit, self.value, self.maximum = limit, value, maximum


@dataclass(frozen=True)
class PreparedUnit:
    index: int
    paragraph_index: int
    start: int
    end: int
    text: str
    skip_reason: str | None


def prepare(
    settings: Settings, text: str | None = None, paragraphs: list[str] | None = None, granularity: str = "paragraph"
) -> list[PreparedUnit]:
    """Segment one document and check it against the limits."""
    if granularity not in GRANULARITIES:
        raise InputError(f"granularity must be one of {GRANULARITIES}, got {granularity!r}")
    if (text is None) == (paragraphs is None):
        raise InputError("give exactly one of 'text' (an article) or 'paragraphs' (a list of strings)")
    if text is not None:
        if not isinstance(text, str):
            raise InputError("'text' must be a string")
        _check_unicode(text, "'text'")
        if not text.strip():
            raise InputError("'text' is empty or whitespace only")
        if len(text) > settings.max_text_chars:
            raise LimitError("STANCE_MAX_TEXT_CHARS", len(text), settings.max_text_chars, "article text characters")
        units = segment.sentences(text) if granularity == "sentence" else segment.paragraphs(text)
        paragraph_of = _paragraph_index(text, units)
        located = [(paragraph_of[i], u) for i, u in enumerate(units)]
    else:
        if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
            raise InputError("'paragraphs' must be a list of strings")
        if not paragraphs or not any(p.strip() for p in paragraphs):
            raise InputError("'paragraphs' is empty or holds only whitespace")
        if len(paragraphs) > settings.max_units:
            raise LimitError("STANCE_MAX_UNITS", len(paragraphs), settings.max_units, "paragraphs in one document")
        total = sum(len(p) for p in paragraphs)
        if total > settings.max_text_chars:
            raise LimitError("STANCE_MAX_TEXT_CHARS", total, settings.max_text_chars, "characters in all paragraphs")
        for i, paragraph in enumerate(paragraphs):
            _check_unicode(paragraph, f"paragraph {i}")
        located = segment.given_units(paragraphs, granularity)
    if len(located) > settings.max_units:
        raise LimitError("STANCE_MAX_UNITS", len(located), settings.max_units, f"{granularity}s in one document")
    out = []
    for index, (paragraph_index, unit) in enumerate(located):
        if len(unit.text) > settings.max_unit_chars:
            raise LimitError(
                "STANCE_MAX_UNIT_CHARS", len(unit.text), settings.max_unit_chars, f"characters in {granularity} {index}"
            )
        out.append(PreparedUnit(index, paragraph_index, unit.start, unit.end, unit.text, unit.skip_reason))
    return out


def _check_unicode(value: str, what: str) -> None:
    """JSON escapes can carry lone surrogates, which no UTF-8 answer can hold."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(value[exc.start])
        raise InputError(f"{what} holds a lone surrogate \\u{code:04x} at character {exc.start}; send valid Unicode") from None


def _paragraph_index(text: str, units: list[segment.Unit]) -> list[int]:
    """For sentence units, the index of the paragraph each lies in."""
    bounds = [(p.start, p.end) for p in segment.paragraphs(text)]
    out, p = [], 0
    for unit in units:
        while p < len(bounds) - 1 and unit.start >= bounds[p][1]:
            p += 1
        out.append(p)
    return out


def prose_texts(units: list[PreparedUnit]) -> list[str]:
    return [u.text for u in units if u.skip_reason is None]


def assemble(units: list[PreparedUnit], probs: np.ndarray, granularity: str, opinion_threshold: float) -> dict:
    """Labelled units plus the article profile, as plain data."""
    rows, it = [], iter(probs)
    for unit in units:
        row = {
            "index": unit.index,
            "paragraph_index": unit.paragraph_index,
            "start": unit.start,
            "end": unit.end,
            "text": unit.text,
            "skipped": unit.skip_reason is not None,
            "skip_reason": unit.skip_reason,
            "label": None,
            "scores": None,
        }
        if unit.skip_reason is None:
            p = next(it)
            row["scores"] = {label: round(float(p[i]), 5) for i, label in enumerate(LABELS)}
            row["label"] = LABELS[int(np.argmax(p))]
        rows.append(row)
    return {"granularity": granularity, "units": rows, "profile": profile(rows, opinion_threshold)}


def profile(rows: list[dict], opinion_threshold: float) -> dict:
    """Share of prose characters per label, the dominant stance, the opinion flag."""
    chars = {label: 0 for label in LABELS}
    counts = {label: 0 for label in LABELS}
    for row in rows:
        if row["label"] is not None:
            chars[row["label"]] += len(row["text"])
            counts[row["label"]] += 1
    prose = sum(chars.values())
    shares = {label: round(chars[label] / prose, 4) if prose else 0.0 for label in LABELS}
    dominant = max(TIE_ORDER, key=lambda label: shares[label]) if prose else None
    return {
        "prose_units": sum(counts.values()),
        "skipped_units": sum(1 for row in rows if row["skipped"]),
        "prose_chars": prose,
        "shares": shares,
        "counts": counts,
        "dominant": dominant,
        "opinion_heavy": bool(prose) and shares["commentary"] >= opinion_threshold,
        "opinion_threshold": opinion_threshold,
    }
