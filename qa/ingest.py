"""Read a corpus folder into Articles: .txt, .md, .html/.htm, .jsonl, .pdf and .docx, recursively."""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

from qa.documents import DOCUMENT_SUFFIXES, DocumentError, DocumentReader
from qa.types import Article

log = logging.getLogger(__name__)

SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm", ".jsonl", *DOCUMENT_SUFFIXES}


@dataclass
class IngestReport:
    articles: list[Article] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    problems: list[tuple[str, str]] = field(default_factory=list)  # (file, reason) for documents that yield nothing
    parsed: int = 0  # PDF and DOCX files parsed (the others came from the cache)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


class CorpusError(ValueError):
    pass


def slugify(value: str) -> str:
    """A URL- and path-safe id: letters, digits, '.', '_' and '-' only."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", value).strip("-.")
    return slug or "article"


class Ingestor:
    """Reads every supported file under a folder; ids come from paths (or a record's ``id``)."""

    def __init__(self, max_file_bytes: int = 20_000_000, document_cache: Path | None = None):
        self.max_file_bytes = max_file_bytes
        self.documents = DocumentReader(document_cache)

    def read(self, corpus: Path) -> IngestReport:
        corpus = Path(corpus)
        if not corpus.is_dir():
            raise CorpusError(f"corpus folder {str(corpus)!r} does not exist or is not a folder")
        root = corpus.resolve()
        report = IngestReport()
        seen: set[str] = set()
        # rglob does not descend into symlinked folders, so a link loop cannot make this walk endless.
        for path in sorted(corpus.rglob("*")):
            rel = path.relative_to(corpus).as_posix()
            if any(part.startswith(".") for part in path.relative_to(corpus).parts):
                continue  # hidden files and folders (.git, editor backups)
            try:
                if path.is_symlink():
                    target = path.resolve()
                    if not target.is_relative_to(root):
                        report.skipped["symlink outside the corpus"] += 1
                        continue
                if path.is_dir():
                    continue
            except (OSError, RuntimeError):  # a link loop, or a file that vanished meanwhile
                report.skipped["unreadable"] += 1
                continue
            suffix = path.suffix.lower()
            if suffix not in SUFFIXES:
                report.skipped[f"unsupported type ({suffix or 'no suffix'})"] += 1
                continue
            raw = self._read_regular(path, report)
            if raw is None:
                continue
            if suffix in DOCUMENT_SUFFIXES:
                article = self._document(rel, suffix, raw, report)
                if article is not None:
                    article = _unique(_sanitized(article), seen)
                    seen.add(article.id)
                    report.articles.append(article)
                continue
            if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a byte order mark
                try:
                    raw = raw.decode("utf-16").encode("utf-8")
                except UnicodeDecodeError:
                    pass
            if b"\x00" in raw:
                report.skipped["binary (NUL bytes)"] += 1
                continue
            text = decode(raw)
            for article in self._parse(rel, suffix, text, report):
                article = _sanitized(article)
                if not article.text.strip():
                    report.skipped["empty"] += 1
                    continue
                article = _unique(article, seen)
                seen.add(article.id)
                report.articles.append(article)
        for reason, count in sorted(report.skipped.items()):
            log.warning("skipped %d file(s): %s", count, reason)
        return report

    def _document(self, rel: str, suffix: str, raw: bytes, report: IngestReport) -> Article | None:
        """A PDF or DOCX as an Article, or None with its reason counted (and listed) in the report."""
        before = self.documents.parsed
        try:
            document = self.documents.read(raw, suffix)
        except DocumentError as error:
            report.skipped[str(error)] += 1
            report.problems.append((rel, str(error)))
            return None
        finally:
            report.parsed += self.documents.parsed - before
        if not document.text.strip():
            report.skipped["empty"] += 1
            return None
        return Article(id=slugify(rel.rsplit(".", 1)[0]), title=document.title or Path(rel).stem, text=document.text,
                       source=rel, pages=document.pages)

    def _read_regular(self, path: Path, report: IngestReport) -> bytes | None:
        """The file's bytes, or None (counted in the report) for anything but a readable regular file.

        Opened without blocking and checked on the open descriptor, so a FIFO or device never
        blocks the build, even one that replaced a regular file after the folder was listed.
        """
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        except OSError:
            report.skipped["not a regular file" if path.exists() and not path.is_file() else "unreadable"] += 1
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                report.skipped["not a regular file"] += 1
                return None
            if info.st_size > self.max_file_bytes:
                report.skipped["larger than QA_MAX_FILE_BYTES"] += 1
                return None
            chunks, size = [], 0
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
                size += len(chunk)
                if size > self.max_file_bytes:  # it grew while being read
                    report.skipped["larger than QA_MAX_FILE_BYTES"] += 1
                    return None
            return b"".join(chunks)
        except OSError:
            report.skipped["unreadable"] += 1
            return None
        finally:
            os.close(fd)

    def _parse(self, rel: str, suffix: str, text: str, report: IngestReport):
        base_id = slugify(rel.rsplit(".", 1)[0])
        stem = Path(rel).stem
        if suffix == ".txt":
            yield Article(id=base_id, title=stem, text=text, source=rel)
        elif suffix in (".md", ".markdown"):
            title, body = parse_markdown(text)
            yield Article(id=base_id, title=title or stem, text=body, source=rel)
        elif suffix in (".html", ".htm"):
            title, body = parse_html(text)
            yield Article(id=base_id, title=title or stem, text=body, source=rel)
        elif suffix == ".jsonl":
            for lineno, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    body = record["text"]
                    if not isinstance(body, str):
                        raise TypeError
                except (ValueError, KeyError, TypeError, RecursionError):
                    report.skipped["jsonl line without a text string"] += 1
                    continue
                record_id = record.get("id")
                if record_id is not None and str(record_id).strip():
                    article_id = slugify(str(record_id))
                else:  # no id: derive one from the path and the text, never from the line number
                    import hashlib

                    digest = hashlib.sha1(body.encode("utf-8", "surrogatepass")).hexdigest()[:10]
                    article_id = f"{base_id}-{digest}"
                yield Article(
                    id=article_id,
                    title=str(record.get("title") or f"{stem} #{lineno}"),
                    text=body,
                    source=f"{rel}#{lineno}",
                    url=_opt_str(record.get("url")),
                    date=_opt_str(record.get("date")),
                )


def _opt_str(value) -> str | None:
    return None if value is None else str(value)


# Control characters other than tab and line breaks (terminal escapes, form feeds, NUL from a JSON
# "\u0000") and lone surrogates (from a JSON "\ud800") cannot be shown, printed or encoded as UTF-8.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Control characters become spaces and lone surrogates U+FFFD: same length, so offsets hold."""
    return _SURROGATE.sub("\ufffd", _UNPRINTABLE.sub(" ", value))


def _sanitized(article: Article) -> Article:
    fields = {name: clean_text(getattr(article, name)) for name in ("title", "text", "source", "url", "date")
              if getattr(article, name) is not None}
    return replace(article, **fields)


def _unique(article: Article, seen: set[str]) -> Article:
    if article.id not in seen:
        return article
    n = 2
    while f"{article.id}-{n}" in seen:
        n += 1
    return replace(article, id=f"{article.id}-{n}")


def decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else cp1252, else latin-1: never fails."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


def parse_markdown(text: str) -> tuple[str | None, str]:
    """Title from front matter ``title:`` or the first ``# `` heading; the body without front matter."""
    title = None
    match = _FRONT_MATTER.match(text)
    if match:
        for line in match.group(1).splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "title" and value.strip():
                title = value.strip().strip("'\"")
        text = text[match.end() :]
    if title is None:
        heading = re.search(r"^#[ \t]+(.+?)[ \t#]*$", text, re.M)
        if heading:
            title = heading.group(1).strip()
    return title, text


_BLOCK_TAGS = frozenset(
    """address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 h3 h4
    h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul""".split()
)
_HIDDEN_TAGS = frozenset("script style noscript template head title svg math iframe object".split())


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.title: list[str] = []
        self.h1: list[str] = []
        self._in = {"title": False, "h1": False}

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN_TAGS:
            self.hidden += 1
        if tag in self._in:
            self._in[tag] = True
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _HIDDEN_TAGS and self.hidden:
            self.hidden -= 1
        if tag in self._in:
            self._in[tag] = False
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if self._in["title"]:
            self.title.append(data)
        if self._in["h1"]:
            self.h1.append(data)
        if not self.hidden:
            self.parts.append(data)


def parse_html(html: str) -> tuple[str | None, str]:
    """Visible text, one block a line; title from ``<title>`` or the first ``<h1>``."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    lines = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    body = "\n".join(line for line in lines if line)
    title = " ".join("".join(parser.title).split()) or " ".join("".join(parser.h1).split()) or None
    return title, body
