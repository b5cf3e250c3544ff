"""PDF and DOCX files -> text for ingest: parsed in a child process with time and memory limits, cached by hash.

- **PDF** (pypdf: pure Python, reads the text layer page by page and handles encryption; pdfminer.six
  lays text out more faithfully but is several times slower): the lines of each page joined into
  paragraphs (a blank line or a bullet starts a new one; a word hyphenated at a line end is joined),
  pages separated by a blank line, and the offset where each page starts kept, so every sentence
  knows its page. Title: the metadata title, else a short first line, else the file name.
- **DOCX** (python-docx): written out as Markdown, so the Markdown structure rules apply (headings
  become the section path and are never quoted, list items and table rows are answer units).
  Title: the core properties' title, else the first "Title" or heading paragraph, else the file name.

A hostile file cannot stall or kill a build: each is parsed in a child process (``forkserver``)
under an address-space limit and a deadline, a DOCX's zip is checked for its unpacked size first,
and a failure becomes a reason in the build summary. Results, failures included, are cached under
the index folder by the file's sha256, so an unchanged document is never parsed twice.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

DOCUMENT_SUFFIXES = {".pdf", ".docx"}
PARSER_VERSION = 1  # part of the cache key: a change in how text is extracted re-parses every document
MAX_SECONDS = 60.0
MAX_MEMORY_BYTES = 2 << 30
MAX_UNPACKED_BYTES = 200_000_000  # a DOCX whose zip unpacks to more is a zip bomb


class DocumentError(ValueError):
    """Why a document yields no text: the message is the reason counted in the build summary."""


@dataclass(frozen=True)
class Document:
    title: str | None
    text: str
    pages: tuple[int, ...] | None = None  # where each page starts in ``text`` (PDF); None: no pages


def sniff(raw: bytes) -> str | None:
    """The document kind by content ("pdf", "docx"), whatever the file is called."""
    if raw[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    if raw.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as archive:
                if "word/document.xml" in archive.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            return None
    return None


# -- parsing (runs in the child process) ------------------------------------------------------------------------

_BULLET = re.compile(r"^\s*(?:[•▪◦‣∙·*–-]|\d{1,3}[.)])\s+")


def _join_lines(page: str) -> str:
    """A PDF page's lines as paragraphs: lines run together unless a blank line or a bullet breaks them."""
    paragraphs: list[str] = []
    current = ""
    for line in page.replace("\r", "\n").split("\n"):
        line = line.strip()
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        if _BULLET.match(line) and current:
            paragraphs.append(current)
            current = line
        elif current.endswith("-") and len(current) > 1 and current[-2].isalpha() and line[:1].islower():
            current = current[:-1] + line  # "exam-" + "ple"
        else:
            current = f"{current} {line}" if current else line
    if current:
        paragraphs.append(current)
    return "\n\n".join(p for p in paragraphs)


def parse_pdf(raw: bytes) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise DocumentError("encrypted PDF (needs a password)")
            except (NotImplementedError, PdfReadError) as error:
                raise DocumentError("encrypted PDF (needs a password)") from error
        texts = [_join_lines(page.extract_text() or "") for page in reader.pages]
        metadata_title = (reader.metadata.title if reader.metadata else None) or None
    except DocumentError:
        raise
    except Exception as error:  # pypdf raises many kinds on damaged files
        raise DocumentError("damaged PDF (cannot be read)") from error
    if not any(t.strip() for t in texts):
        raise DocumentError("PDF without a text layer (scanned?)")
    pages, parts, offset = [], [], 0
    for text in texts:
        pages.append(offset)
        parts.append(text)
        offset += len(text) + 2
    body = "\n\n".join(parts)
    first_line = next((t.strip().split("\n", 1)[0] for t in texts if t.strip()), "")
    title = (str(metadata_title).strip() or None) if metadata_title else None
    if title is None and len(first_line) <= 120 and not first_line.endswith("."):
        title = first_line or None
    return Document(title=title, text=body, pages=tuple(pages))


def _check_zip(raw: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as error:
        raise DocumentError("not a DOCX (not a zip file)") from error
    if unpacked > MAX_UNPACKED_BYTES or unpacked > 200 * max(1, len(raw)):
        raise DocumentError("DOCX unpacks too large (zip bomb?)")


def _cell_text(cell) -> str:
    return " ".join(cell.text.split()).replace("|", "\\|")


def parse_docx(raw: bytes) -> Document:
    _check_zip(raw)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as error:
        raise DocumentError("damaged DOCX (cannot be read)") from error
    lines: list[str] = []
    title = (document.core_properties.title or "").strip() or None
    first_heading = None
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(block, document)
            text = " ".join(paragraph.text.split())
            if not text:
                continue
            style = (paragraph.style.name if paragraph.style is not None else "") or ""
            level = re.match(r"Heading (\d)", style)
            numbered = paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None
            if style == "Title" or level:
                first_heading = first_heading or text
                lines += [f"{'#' * (int(level.group(1)) + 1 if level else 1)} {text}", ""]
            elif style.startswith("List") or numbered:
                lines.append(f"{'1.' if 'Number' in style else '-'} {text}")
            else:
                if lines and lines[-1] and not lines[-1].startswith("#"):
                    lines.append("")
                lines += [text, ""]
        elif tag == "tbl":
            table = Table(block, document)
            rows = [[_cell_text(c) for c in row.cells] for row in table.rows]
            if rows:
                lines.append("")
                lines.append("| " + " | ".join(rows[0]) + " |")
                lines.append("|" + " --- |" * len(rows[0]))
                lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
                lines.append("")
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
    if not text.strip():
        raise DocumentError("empty DOCX")
    return Document(title=title or first_heading, text=text)


_PARSERS = {"pdf": parse_pdf, "docx": parse_docx}


def _child(kind: str, raw: bytes, memory: int, connection) -> None:
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        connection.send(("ok", asdict(_PARSERS[kind](raw))))
    except DocumentError as error:
        connection.send(("error", str(error)))
    except MemoryError:
        connection.send(("error", "document too large to parse (memory limit)"))
    except Exception:
        connection.send(("error", f"damaged {kind.upper()} (cannot be read)"))
    finally:
        connection.close()


def parse_limited(kind: str, raw: bytes, seconds: float = MAX_SECONDS, memory: int = MAX_MEMORY_BYTES) -> Document:
    """Parse in a child process that is killed past ``seconds`` or ``memory`` bytes of address space."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(kind, raw, memory, send), daemon=True)
    process.start()
    send.close()
    try:
        if not receive.poll(seconds):
            raise DocumentError(f"{kind.upper()} took longer than {seconds:.0f} s to parse")
        status, value = receive.recv()
    except EOFError:
        raise DocumentError(f"{kind.upper()} parser died (memory limit?)") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        receive.close()
    if status == "error":
        raise DocumentError(value)
    return Document(title=value["title"], text=value["text"],
                    pages=tuple(value["pages"]) if value["pages"] is not None else None)


class DocumentReader:
    """PDF/DOCX bytes -> Document, parsed at most once per content (cached in ``cache_dir`` when given)."""

    def __init__(self, cache_dir: Path | None = None, seconds: float = MAX_SECONDS, memory: int = MAX_MEMORY_BYTES):
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.seconds = seconds
        self.memory = memory
        self.parsed = 0  # documents actually parsed (not served from the cache)

    def read(self, raw: bytes, suffix: str) -> Document:
        kind = sniff(raw)
        expected = suffix.lstrip(".").lower()
        if kind is None:
            raise DocumentError(f"not a {expected.upper()} (content does not match the extension)"
                                if expected != "docx" or not raw.startswith(b"PK") else "not a DOCX (not a Word file)")
        if kind != expected:
            raise DocumentError(f"wrong extension (a {kind.upper()} named .{expected})")
        key = hashlib.sha256(raw).hexdigest()
        cached = self._cached(key)
        if cached is not None:
            if "error" in cached:
                raise DocumentError(cached["error"])
            return Document(title=cached["title"], text=cached["text"],
                            pages=tuple(cached["pages"]) if cached.get("pages") is not None else None)
        self.parsed += 1
        try:
            document = parse_limited(kind, raw, self.seconds, self.memory)
        except DocumentError as error:
            self._store(key, {"error": str(error)})
            raise
        self._store(key, asdict(document))
        return document

    def _path(self, key: str) -> Path | None:
        return self.cache_dir / f"{key}-v{PARSER_VERSION}.json" if self.cache_dir else None

    def _cached(self, key: str) -> dict | None:
        path = self._path(key)
        if path is None or not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _store(self, key: str, record: dict) -> None:
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)
