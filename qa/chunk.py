"""Split an Article into Passages of whole sentences, keeping character offsets.

Sentences come from pysbd (rule-based, handles "U.S.", "Dr." and "Jan. 5"). Passages are
runs of whole sentences of about ``min_words``..``max_words`` words that overlap by one
sentence, prefer to end at a paragraph end, and never exceed the model's token limit.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator

from qa.blocks import is_markdown, markdown_blocks, section_title, trim_range
from qa.types import Article, Passage, Span

_BLOCK_BREAK = re.compile(r"\n[ \t]*\n")
_TERMINAL = re.compile(r"""[.!?…:;"”’)\]]\s*$""")
_LIST_OR_HEADING = re.compile(r"^\s*(?:#{1,6}\s|[-*+]\s|\d+[.)]\s|>)")


def _word_count(text: str) -> int:
    return len(text.split())


class SentenceSplitter:
    """Sentences as Spans of the original text; line breaks inside a paragraph are kept."""

    def __init__(self, language: str = "en"):
        import pysbd  # light, but only needed when building

        self._segmenter = pysbd.Segmenter(language=language, clean=False)

    def split(self, text: str, start: int = 0, end: int | None = None) -> list[Span]:
        """The sentences of ``text[start:end]`` (the whole text by default), as offsets into ``text``."""
        spans: list[Span] = []
        for start, end in _paragraphs(text, start, len(text) if end is None else end):
            paragraph_first = len(spans)
            # Same-length substitution keeps offsets valid while letting hard-wrapped
            # lines form one sentence.
            chunk = text[start:end].replace("\n", " ")
            cursor = 0
            for piece in self._segmenter.segment(chunk):
                piece = piece.strip()
                if not piece:
                    continue
                found = chunk.find(piece, cursor)
                if found < 0:  # pysbd changed the text; fall back to the rest of the paragraph
                    rest = chunk[cursor:].strip()
                    if rest:
                        found = chunk.find(rest, cursor)
                        spans.append(Span(start + found, start + found + len(rest)))
                    cursor = len(chunk)
                    break
                piece_start = start + found
                cursor = found + len(piece)
                if len(spans) > paragraph_first:
                    marker = _closing_emphasis(text[spans[-1].start : spans[-1].end], piece)
                    if marker:  # "**It ends here.**" was cut before its "**": the marker stays with its sentence
                        spans[-1] = Span(spans[-1].start, piece_start + len(marker))
                        rest = piece[len(marker) :]
                        piece = rest.lstrip()
                        piece_start += len(marker) + len(rest) - len(piece)
                        if not piece:
                            continue
                if len(spans) > paragraph_first and _continues(text[spans[-1].start : spans[-1].end], piece):
                    spans[-1] = Span(spans[-1].start, piece_start + len(piece))
                else:
                    spans.append(Span(piece_start, piece_start + len(piece)))
        return spans


_UNFINISHED = re.compile(r"""[.!?…"”’)\]]\s*$""")
_NOTE = re.compile(r"^[\[(:][^\s]*(?:\s+\S+)?[\])]?[.,;]?$")  # "[citation needed]", ":134", "[n 1]", "(p. 4)"


def _continues(previous: str, piece: str) -> bool:
    """Whether pysbd's next piece is really the rest of the previous sentence: it starts in lower case
    ("also the Victorian period ..."), follows a sentence cut off mid-formula ("... of O" + "2 combines
    ..."), closes inline code the previous piece opened ("remove all `." + "DS_Store` files"), or is only
    a note ("[citation needed]")."""
    return (piece[:1].islower() or (piece[:1].isdigit() and not _UNFINISHED.search(previous))
            or (_opens_code(previous) and _opens_code(piece)) or bool(_NOTE.match(piece)))


def _closing_emphasis(previous: str, piece: str) -> str | None:
    """The emphasis marker a piece starts with ("**", "__", "*", "_", then a space or nothing) that closes one the
    previous sentence left open ("**The 1.0 release marks the end of that churn." + "** This release ..."), if any."""
    for marker in ("**", "__", "*", "_"):
        if (piece.startswith(marker) and piece[len(marker) : len(marker) + 1] in ("", " ")
                and previous.count(marker) % 2 == 1):
            return marker
    return None


def _opens_code(text: str) -> bool:
    """An odd number of backticks: inline code opened (or closed) and not matched in ``text``."""
    return text.count("`") % 2 == 1


def _paragraphs(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """Paragraph ranges: blank lines separate; so does a line break after a finished line."""
    stop = len(text) if end is None else end
    pos = start
    for block in [*_BLOCK_BREAK.finditer(text, start, stop), None]:
        block_end = block.start() if block else stop
        yield from _split_lines(text, pos, block_end)
        pos = block.end() if block else stop


def _split_lines(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    para_start = start
    line_start = start
    while True:
        newline = text.find("\n", line_start, end)
        if newline < 0:
            break
        line = text[line_start:newline]
        next_line = text[newline + 1 : text.find("\n", newline + 1, end) if text.find("\n", newline + 1, end) >= 0 else end]
        ends_paragraph = (
            _TERMINAL.search(line)
            or _LIST_OR_HEADING.match(line)
            or _LIST_OR_HEADING.match(next_line)
            # a heading or a short label on a line of its own, unless the next line plainly continues
            # it; a short line inside a paragraph is a hard wrap ("... as O\n2 combines ...")
            or (line.strip() and line_start == para_start and _word_count(line) <= 12
                and not next_line.lstrip()[:1].islower())
            or not line.strip()
        )
        if ends_paragraph:
            if text[para_start:newline].strip():
                yield trim_range(text, para_start, newline)
            para_start = newline + 1
        line_start = newline + 1
    if text[para_start:end].strip():
        yield trim_range(text, para_start, end)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def embedding_text(title: str, text: str) -> str:
    """What is embedded for a passage or a sentence (and BM25-indexed for a passage): its article's
    title, then its text.

    The title says what a text is about when its own words do not ("He was born in 1951"): on
    SQuAD v1.1 dev it raised passage recall@1 by about half a point and sentence hit@1 by 0.6–0.7
    points on both halves (bench/RESULTS.md). Quotes and offsets always come from the text alone.
    """
    return f"{title}\n{text}" if title else text


class Chunker:
    """Article -> Passages. ``count_tokens`` is the embedder's tokenizer (or an estimate)."""

    def __init__(
        self,
        min_words: int = 60,
        max_words: int = 200,
        max_tokens: int = 256,
        count_tokens: Callable[[str], int] | None = None,
        splitter: SentenceSplitter | None = None,
    ):
        self.min_words = min_words
        self.max_words = max_words
        self.max_tokens = max_tokens
        self.count_tokens = count_tokens or (lambda s: int(_word_count(s) * 1.4) + 2)
        self.splitter = splitter or SentenceSplitter()

    def signature(self, model: str) -> dict:
        """What the passages depend on: an index built with the same signature can lend its chunks."""
        return {"splitter": "pysbd-en", "min_words": self.min_words, "max_words": self.max_words,
                "max_tokens": self.max_tokens, "tokenizer": model, "version": 6}

    def split_sentences(self, article: Article) -> list[Span]:
        """Sentences (for Markdown: sentences and whole code blocks, list items and table rows, never
        headings), with any unit too long for the model cut at word boundaries."""
        units = self._markdown_units(article.text) if is_markdown(article) else self.splitter.split(article.text)
        out: list[Span] = []
        for span in units:
            out.extend(self._fit(article.text, span))
        return out

    def _markdown_units(self, text: str) -> list[Span]:
        """A sentence ending in ':' that leads into a code block or a list is one unit with it (with as
        many of the list's items as fit the model), so the quote shows what it announces. Code blocks
        that directly follow the announced one join it too, as far as they fit: docs often show a script
        and then the command that runs it ("Arguments may be provided to the script:")."""
        units: list[Span] = []
        after_text = False  # the last unit is the last sentence of a text block
        joining = None  # the list whose items join the unit that announced it
        joining_code = False  # the last unit is an announcing sentence with its code block
        blocks = markdown_blocks(text)
        for i, block in enumerate(blocks):
            if block.kind == "heading":
                after_text, joining, joining_code = False, None, False
                continue
            if block.kind == "text":
                units.extend(self.splitter.split(text, block.start, block.end))
                after_text, joining, joining_code = True, None, False
                continue
            if block.kind == "item" and block.group == joining and self._fits(text, units[-1].start, block.end):
                units[-1] = Span(units[-1].start, block.end)
                continue
            end = max(block.end, block.outer_end)
            if block.kind == "code" and joining_code and self._fits(text, units[-1].start, end):
                units[-1] = Span(units[-1].start, end)
                continue
            announced = after_text and units and text[units[-1].start:units[-1].end].endswith(":")
            opens_list = block.kind == "item" and (i == 0 or blocks[i - 1].kind != "item"
                                                   or blocks[i - 1].group != block.group)
            if announced and (block.kind == "code" or opens_list) and self._fits(text, units[-1].start, end):
                units[-1] = Span(units[-1].start, end)
                after_text, joining = False, (block.group if block.kind == "item" else None)
                joining_code = block.kind == "code"
                continue
            units.append(Span(block.start, block.end))
            after_text, joining, joining_code = False, None, False
        return units

    def chunk(self, article: Article, sentences: list[Span] | None = None) -> list[Passage]:
        text = article.text
        sentences = self.split_sentences(article) if sentences is None else sentences
        if not sentences:
            return []
        paragraph_ends = {e for _, e in _paragraphs(text)}
        groups: list[list[Span]] = []
        current: list[Span] = []
        for i, sentence in enumerate(sentences):
            if current and not self._fits(text, current[0].start, sentence.end):
                groups.append(current)
                overlap = current[-1]
                current = [overlap] if self._fits(text, overlap.start, sentence.end) else []
            current.append(sentence)
            words = _word_count(text[current[0].start : sentence.end])
            at_paragraph_end = sentence.end in paragraph_ends
            is_last = i == len(sentences) - 1
            if not is_last and (words >= self.max_words or (at_paragraph_end and words >= self.min_words)):
                groups.append(current)
                current = [sentence]  # the one-sentence overlap
        if current and (not groups or current != groups[-1][-1:]):
            groups.append(current)
        # A short tail joins the previous passage when it fits, rather than standing alone.
        if len(groups) > 1 and _word_count(text[groups[-1][0].start : groups[-1][-1].end]) < self.min_words:
            merged = groups[-2] + [s for s in groups[-1] if s not in groups[-2]]
            if self._fits(text, merged[0].start, merged[-1].end):
                groups[-2:] = [merged]
        passages = []
        for n, group in enumerate(groups):
            start, end = group[0].start, group[-1].end
            passage_text = text[start:end]
            passages.append(
                Passage(
                    id=f"{article.id}:{n}",
                    article_id=article.id,
                    start=start,
                    end=end,
                    text=passage_text,
                    sentences=tuple(group),
                    hash=content_hash(passage_text),
                )
            )
        return passages

    def _fits(self, text: str, start: int, end: int) -> bool:
        piece = text[start:end]
        return _word_count(piece) <= self.max_words and self.count_tokens(piece) <= self.max_tokens

    def _fit(self, text: str, span: Span) -> Iterator[Span]:
        if self._fits(text, span.start, span.end):
            yield span
            return
        # A run-on "sentence" (a table, a list without punctuation): cut at word boundaries.
        words = list(re.finditer(r"\S+", text[span.start : span.end]))
        piece_start = 0
        while piece_start < len(words):
            lo, hi = piece_start + 1, len(words)
            while lo < hi:  # the longest run of words that fits
                mid = (lo + hi + 1) // 2
                if self._fits(text, span.start + words[piece_start].start(), span.start + words[mid - 1].end()):
                    lo = mid
                else:
                    hi = mid - 1
            yield Span(span.start + words[piece_start].start(), span.start + words[lo - 1].end())
            piece_start = lo
