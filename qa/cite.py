"""Extraction + Hits -> a Reply: numbered citations, verbatim sentences, offsets."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import replace

from qa.types import Citation, Extraction, Hit, QuotedSentence, Reply, RetrievedPassage

NO_ANSWER = "I could not find an answer to that in the articles."


def no_answer(extraction: Extraction) -> str:
    """Why there is no answer, where the reason is plain: the closest article never mentions a name the question
    gives, or its closest sentence says the opposite of what is asked."""
    if not extraction.sentences:
        return NO_ANSWER
    if not extraction.unmentioned:
        return _contrary(extraction) or NO_ANSWER
    named = ", ".join(f"“{name}”" for name in extraction.unmentioned)
    title = extraction.sentences[0].hit.title
    field = extraction.unmentioned_field
    if field:
        return f"{NO_ANSWER} The closest one, “{title}”, gives its own “{field}”, not that of {named}."
    return f"{NO_ANSWER} The closest one, “{title}”, never mentions {named}."


def _contrary(extraction: Extraction) -> str | None:
    if extraction.contradicted is None:
        return None
    asked, said = extraction.contradicted
    title = extraction.sentences[0].hit.title
    if said is None:
        return f"{NO_ANSWER} The closest one, “{title}”, says it without the question’s “{asked}”."
    return f"{NO_ANSWER} The closest one, “{title}”, says “{said}”, not “{asked}”."


class Citer:
    def __init__(self, sources: dict[str, str], pages: dict[str, tuple[int, ...]] | None = None):
        self.sources = sources  # article id -> source path
        self.pages = pages or {}  # article id -> where each page starts (paged documents only)

    def page(self, article_id: str, offset: int) -> int | None:
        """The 1-based page of an offset in a paged document, else None."""
        starts = self.pages.get(article_id)
        return max(1, bisect_right(starts, offset)) if starts else None

    def cite(self, question: str, query: str, extraction: Extraction, hits: Sequence[Hit],
             timings_ms: dict[str, float]) -> Reply:
        passages = tuple(
            RetrievedPassage(
                passage_id=h.passage.id, article_id=h.passage.article_id, title=h.title,
                start=h.passage.start, end=h.passage.end, text=h.passage.text, score=round(h.score, 4),
                page=self.page(h.passage.article_id, h.passage.start),
            )
            for h in hits
        )
        if not extraction.answerable:
            return Reply(question=question, query=query, answer=no_answer(extraction), answerable=False,
                         confidence=extraction.confidence, sentences=(), citations=(), passages=passages,
                         timings_ms=timings_ms, unmentioned=extraction.unmentioned)
        numbers: dict[str, int] = {}
        citations: list[Citation] = []
        quoted: list[QuotedSentence] = []
        for sentence in extraction.sentences:
            passage = sentence.hit.passage
            if passage.id not in numbers:
                numbers[passage.id] = len(numbers) + 1
                citations.append(Citation(
                    id=numbers[passage.id], article_id=passage.article_id, title=sentence.hit.title,
                    source=self.sources.get(passage.article_id, ""), passage_id=passage.id,
                    start=passage.start, end=passage.end, text=passage.text, score=round(sentence.hit.score, 4),
                    page=self.page(passage.article_id, passage.start),
                ))
            quoted.append(QuotedSentence(
                text=sentence.text, citation=numbers[passage.id], article_id=sentence.article_id,
                start=sentence.start, end=sentence.end, score=round(sentence.score, 4),
                page=self.page(sentence.article_id, sentence.start),
            ))
        answer = " ".join(f"{q.text} [{q.citation}]" for q in quoted)
        short = extraction.short_answer
        if short is not None:
            short = replace(short, page=self.page(short.article_id, short.start))
        return Reply(question=question, query=query, answer=answer, answerable=True,
                     confidence=extraction.confidence, sentences=tuple(quoted), citations=tuple(citations),
                     passages=passages, timings_ms=timings_ms, short_answer=short)
