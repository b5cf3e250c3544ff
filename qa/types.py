"""The nouns passed between stages: small frozen dataclasses, stdlib only."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    title: str
    text: str
    source: str  # path relative to the corpus folder (with "#line" for jsonl records)
    url: str | None = None
    date: str | None = None
    pages: tuple[int, ...] | None = None  # where each page starts in ``text`` (PDF); None: no pages

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding ``offset``, or None for a document without pages."""
        if not self.pages:
            return None
        from bisect import bisect_right

        return max(1, bisect_right(self.pages, offset))


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open character range [start, end) in an article's text."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Passage:
    id: str
    article_id: str
    start: int
    end: int
    text: str
    sentences: tuple[Span, ...]  # offsets in the article text, in order
    hash: str  # content hash of the text (for the embedding cache)


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved passage with its fused score and the scores it came from."""

    passage: Passage
    title: str
    score: float
    rank: int
    dense: float = 0.0
    lexical: float = 0.0


@dataclass(frozen=True, slots=True)
class ScoredSentence:
    text: str
    article_id: str
    start: int
    end: int
    score: float
    hit: Hit


@dataclass(frozen=True, slots=True)
class ShortAnswer:
    text: str
    article_id: str
    start: int
    end: int
    page: int | None = None  # 1-based, for paged documents (PDF)


@dataclass(frozen=True, slots=True)
class Ranking:
    """Every sentence of the passages kept, best first, and P(the best one answers)."""

    sentences: tuple[ScoredSentence, ...]
    confidence: float
    hits: tuple[Hit, ...]  # the passages kept, best sentence first
    lexical: bool = False  # scored without token vectors
    # (article_id, start) of the sentences a follow-up raised for coming just after the last answer: a reason to
    # read and quote them first, none to quote them beside another answer
    nearby: frozenset[tuple[str, int]] = frozenset()


@dataclass(frozen=True, slots=True)
class Extraction:
    """What the extract stage decided: the sentences to quote, and whether to answer at all."""

    sentences: tuple[ScoredSentence, ...]
    confidence: float
    answerable: bool
    short_answer: ShortAnswer | None = None
    hits: tuple[Hit, ...] = ()  # the passages kept, best sentence first
    unmentioned: tuple[str, ...] = ()  # the question's names the best sentence's document never mentions
    unmentioned_field: str | None = None  # or, where the best sentence is a fact sheet's field, its label
    # the question's word the best sentence says the opposite of, with the sentence's: ("least", "most"), ("not", None)
    contradicted: tuple[str, str | None] | None = None


@dataclass(frozen=True, slots=True)
class Citation:
    id: int
    article_id: str
    title: str
    source: str
    passage_id: str
    start: int
    end: int
    text: str
    score: float
    page: int | None = None  # 1-based, for paged documents (PDF)


@dataclass(frozen=True, slots=True)
class QuotedSentence:
    text: str
    citation: int
    article_id: str
    start: int
    end: int
    score: float
    page: int | None = None  # 1-based, for paged documents (PDF)


@dataclass(frozen=True, slots=True)
class RetrievedPassage:
    passage_id: str
    article_id: str
    title: str
    start: int
    end: int
    text: str
    score: float
    page: int | None = None  # 1-based, for paged documents (PDF)


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer, rendered as JSON by the API and as HTML by the chat page."""

    question: str
    query: str
    answer: str
    answerable: bool
    confidence: float
    sentences: tuple[QuotedSentence, ...]
    citations: tuple[Citation, ...]
    passages: tuple[RetrievedPassage, ...]
    timings_ms: dict[str, float] = field(default_factory=dict)
    short_answer: ShortAnswer | None = None
    unmentioned: tuple[str, ...] = ()  # no answer: the question's names the closest article never gives

    def to_dict(self) -> dict:
        return asdict(self)
