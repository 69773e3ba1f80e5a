"""Article text -> paragraphs (and sentences) with character offsets.

Offsets always index the caller's original string: `text[start:end]` is the
unit's text. Units that are not prose (headlines, bylines, datelines,
navigation, section headings, fragments) are returned with a skip reason and
never given a stance.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

# A block with no line breaks longer than this is a "wall of text" (the 000
# seed) and is cut into paragraph-sized runs of whole sentences.
WALL_CHARS = 900
PARAGRAPH_TARGET_CHARS = 450
MIN_PROSE_WORDS = 5

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "gen", "col", "lt", "sgt", "capt", "st", "jr", "sr",
    "no", "vs", "etc", "inc", "corp", "ltd", "co", "jan", "feb", "mar", "apr", "aug", "sept", "sep", "oct",
    "nov", "dec", "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m", "approx", "dept", "est", "fig", "mt",
}
_WORD_BEFORE_DOT = frozenset(string.ascii_letters + ".")
_SENTENCE_BOUNDARY = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*\s+")
_OPENS_SENTENCE = re.compile(r"[\"'\u201c\u2018\u00ab(\[]*[A-Z0-9\u0400-\u04ff\u00c0-\u024f]")

_NAVIGATION = re.compile(
    r"^(read (the )?(original|full|more)|click here|comments?\b|subscribe|sign up|share (this|on)|"
    r"advertisement|related( articles?| stories| coverage)?:?$|follow us|watch:|listen:|see also|"
    r"more on this|photo:|image:|copyright|all rights reserved)",
    re.IGNORECASE,
)
_DATELINE = re.compile(r"^\s*(date\s+\d{4}-\d{2}-\d{2}|\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?)\s*", re.IGNORECASE)
_BYLINE = re.compile(r"^(by|from|reporting by|written by|editing by)\s+[A-Z][\w.'-]+(\s+[A-Z][\w.'-]+){0,4}(,|\s+and\s|$)", re.IGNORECASE)
_CAPTION = re.compile(r"^(photo|image|picture|file photo|pictured)\b.*\((getty|ap|reuters|afp|epa)", re.IGNORECASE)
_TERMINAL = re.compile(r"[.!?\u2026:;\"'\u201d\u2019\u00bb)]\s*$")


@dataclass(frozen=True)
class Unit:
    """A paragraph or sentence of the input, located by character offsets."""

    start: int
    end: int
    text: str
    skip_reason: str | None = None

    @property
    def is_prose(self) -> bool:
        return self.skip_reason is None


def _word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))


def skip_reason(text: str) -> str | None:
    """Why a unit carries no stance, or None when it is prose."""
    stripped = text.strip()
    if not stripped:
        return "empty"
    if not re.search(r"\w", stripped):
        return "no words"
    if _DATELINE.fullmatch(stripped):
        return "dateline"
    if _NAVIGATION.match(stripped) and _word_count(stripped) <= 12:
        return "navigation"
    if _CAPTION.match(stripped):
        return "caption"
    if _BYLINE.match(stripped) and _word_count(stripped) <= 12 and not _TERMINAL.search(stripped.rstrip(".")):
        return "byline"
    words = _word_count(stripped)
    if words < MIN_PROSE_WORDS:
        return "heading" if stripped[:1].isupper() and not _TERMINAL.search(stripped) else "fragment"
    # A headline: short, one line, no sentence-ending punctuation.
    if words <= 20 and "\n" not in stripped and not _TERMINAL.search(stripped):
        return "headline"
    return None


def _is_abbreviation(text: str, dot_index: int) -> bool:
    # Walk back over the word: searching all of text[:dot_index] for it made a
    # long article of initials ("A. A. A. ...") take minutes on the event loop.
    start = dot_index
    while start > 0 and text[start - 1] in _WORD_BEFORE_DOT:
        start -= 1
    word = text[start:dot_index].lower().strip(".")
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of whole sentences within text[start:end], whitespace trimmed."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _SENTENCE_BOUNDARY.finditer(text, start, end):
        boundary = match.end()
        if boundary >= end:
            break
        if not _OPENS_SENTENCE.match(text, boundary):
            continue
        punct = match.group(0).rstrip()
        if punct.endswith(".") and len(punct) == 1 and _is_abbreviation(text, match.start()):
            continue
        spans.append((cursor, match.start() + len(punct)))
        cursor = boundary
    spans.append((cursor, end))
    return [_trim(text, s, e) for s, e in spans if text[s:e].strip()]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _split_wall(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut a long unbroken block into paragraph-sized runs of whole sentences."""
    groups: list[tuple[int, int]] = []
    group_start = None
    for s, e in sentence_spans(text, start, end):
        if group_start is None:
            group_start = s
        if e - group_start >= PARAGRAPH_TARGET_CHARS:
            groups.append((group_start, e))
            group_start = None
    if group_start is not None:
        last_end = _trim(text, group_start, end)[1]
        # A short tail joins the previous run rather than standing alone.
        if groups and last_end - group_start < PARAGRAPH_TARGET_CHARS // 3:
            groups[-1] = (groups[-1][0], last_end)
        else:
            groups.append((group_start, last_end))
    return groups


def _blocks(text: str) -> list[tuple[int, int]]:
    separator = re.compile(r"\n[ \t\r\f\v]*\n\s*") if re.search(r"\n[ \t\r\f\v]*\n", text) else re.compile(r"\n\s*")
    blocks, cursor = [], 0
    for match in separator.finditer(text):
        blocks.append((cursor, match.start()))
        cursor = match.end()
    blocks.append((cursor, len(text)))
    return [_trim(text, s, e) for s, e in blocks if text[s:e].strip()]


def paragraphs(text: str) -> list[Unit]:
    """Segment article text into paragraph units with offsets and skip reasons."""
    units: list[Unit] = []
    for start, end in _blocks(text):
        # A dateline glued to the first paragraph (the 003 seed) stands alone.
        dateline = _DATELINE.match(text[start:end])
        if dateline and _word_count(text[start + dateline.end():end]) >= MIN_PROSE_WORDS:
            d_start, d_end = _trim(text, start, start + dateline.end())
            units.append(Unit(d_start, d_end, text[d_start:d_end], "dateline"))
            start = _trim(text, start + dateline.end(), end)[0]
        spans = _split_wall(text, start, end) if end - start > WALL_CHARS else [(start, end)]
        for s, e in spans:
            units.append(Unit(s, e, text[s:e], skip_reason(text[s:e])))
    return units


def sentences(text: str) -> list[Unit]:
    """Segment article text into sentence units, each inside its paragraph."""
    units: list[Unit] = []
    for paragraph in paragraphs(text):
        if not paragraph.is_prose:
            units.append(paragraph)
            continue
        for s, e in sentence_spans(text, paragraph.start, paragraph.end):
            units.append(Unit(s, e, text[s:e], skip_reason(text[s:e])))
    return units


def given_units(texts: list[str], granularity: str) -> list[tuple[int, Unit]]:
    """Units from paragraphs the caller passed in: (paragraph index, unit).

    Offsets are into the caller's paragraph string. Non-prose is detected in
    given paragraphs too.
    """
    out: list[tuple[int, Unit]] = []
    for i, text in enumerate(texts):
        if granularity == "sentence":
            for s, e in sentence_spans(text) or [(0, 0)]:
                out.append((i, Unit(s, e, text[s:e], skip_reason(text[s:e]))))
        else:
            s, e = _trim(text, 0, len(text))
            out.append((i, Unit(s, e, text[s:e], skip_reason(text))))
    return out
