"""The minimal span inside a quoted sentence that answers a factoid question (when, who, how many...).

Rule-based, no model: the question's type picks the candidate spans (dates, numbers, names,
places, or the words the question does not already contain), and the candidate closest to the
question's words in the sentence wins. Offsets are character offsets in the article.
"""

from __future__ import annotations

import re
from functools import lru_cache

from qa.text import STOP_WORDS, normalise, stem, words

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sep\.|Sept\.|Oct\.|Nov\.|Dec\.)"
_NUMBER_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen)"
# Quantities without a numeral ("several lakes", "a single output", "twice a year"), and durations ("after a year").
_QUANTITY = re.compile(r"\b(?:several|a few|a single|dozens|hundreds|thousands|millions|billions|once|twice|half)\b"
                       r"|\b(?:a|an)\s+(?:second|minute|hour|day|week|fortnight|month|year|decade|century|millennium)\b", re.I)
# Stop words (stemmed) that can be the whole answer to "how many": "only a few".
_COUNTING_STOP_WORDS = frozenset({"few"})
_WEEKDAY = re.compile(r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)s?\b")
# Dates without a year ("on 27 June") and named periods ("during the Second World War").
_DAY_MONTH = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}")
_PERIOD = re.compile(r"\b(?:[Dd]uring|[Bb]efore|[Aa]fter|[Uu]ntil|[Ss]ince|[Tt]hroughout)\s+(?:the\s+)?(?:[A-Z][\w’'-]*\s+)*"
                     r"(?:[Ww]ar|[Rr]evolution|[Rr]eign|[Dd]ynasty|[Ee]ra|[Aa]ge|[Pp]eriod|[Cc]entury|[Oo]ccupation|[Ee]mpire)\b")
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{3,4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{3,4}}|{_MONTH}\s+\d{{3,4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?|(?:the\s+)?(?:early\s+|late\s+|mid-?)?\d{{3,4}}s|\d{{1,2}}(?:st|nd|rd|th)\s+century"
    rf"|\d{{3,4}}(?:\s*(?:–|-|to)\s*\d{{2,4}})?(?:\s+(?:BC|AD|BCE|CE))?)\b"
)
_NUMBER = re.compile(
    rf"(?:[$£€¥]\s?)?\b(?:\d[\d,]*(?:\.\d+)?|{_NUMBER_WORD}(?:[\s-]+{_NUMBER_WORD})*)"
    rf"(?:\s*(?:%|percent|per cent|million|billion|trillion|thousand|hundred))?"
    rf"(?:\s+(?!(?:and|or|the|of|in|on|at|to|a|an)\b)[A-Za-z]+){{0,1}}",
    re.I,
)
_NAME = re.compile(r"\b[A-Z][\w’'.-]*(?:\s+(?:of|the|de|von|van|al|du|la|y|and)?\s*[A-Z][\w’'.-]*)*")
_PLACE = re.compile(r"\b(?:in|at|from|near|to|into|across|along|between|through|throughout|outside|inside|within|on|beyond|towards?)\s+"
                    r"((?:the\s+)?[A-Z][\w’'.-]*(?:\s+(?:of|the|de|du|la|and)?\s*[A-Z][\w’'.-]*)*)")
_WORD_SPAN = re.compile(r"[^\W_][\w’'-]*", re.UNICODE)
# Looser forms, tried when the strict ones find nothing: "toward the center of the curving path",
# "in his mind", "after the end of the Mexican War", "under intense light".
_PLACE_PHRASE = re.compile(
    r"\b(?:in|at|on|near|to|into|onto|across|along|between|through|throughout|outside|inside|within|beyond|"
    r"towards?|behind|under|over|above|below|beneath|beside|around|among|upon|from)\s+"
    r"(?:(?:the|a|an|his|her|its|their|our)\s+)?[\w’'-]+(?:\s+(?!(?:and|but|which|who|that|when|while|is|was|are|were)\b)[\w’'-]+){0,4}",
    re.I)
_TIME_PHRASE = re.compile(
    r"\b(?:after|before|until|till|since|during|throughout|following|upon|whenever|once|when|while|prior to)\s+"
    r"(?:the\s+)?[\w’'-]+(?:\s+[\w’'-]+){0,4}|\b(?:in|under)\s+(?:[\w’'-]+\s+){0,3}(?:conditions|light|circumstances)\b",
    re.I)



def question_type(question: str) -> str | None:
    """The kind of short answer a question asks for, or None for open questions (why, how, describe)."""
    q = normalise(question).strip()
    # "When John Fox left, who replaced him?": the clause after the comma asks the question.
    clause = re.match(r"^(?:when|while|after|before|if|since|although|as)\b[^,]*,\s*((?:who|whom|whose|what|which|where|when|how)\b.*)$", q)
    if clause:
        return question_type(clause.group(1))
    if re.search(r"\b(what|which) (year|date|day|month|century|decade|time period|period)\b", q) or re.match(r"^when\b", q) \
            or re.search(r"\bwhen (did|was|were|is|do|does|will|had|has)\b", q):
        return "when"
    if re.search(r"\bhow (many|much|long|old|far|large|big|tall|high|often|fast|deep|wide|heavy)\b", q) \
            or re.search(r"\bwhat (percentage|percent|number|amount|size|proportion)\b", q):
        return "how many"
    if re.match(r"^\s*(?i:who|what)\s+(?i:is|was|are|were)\s+(?:the\s+)?(?:[A-Z][\w’'.-]*\s*)+\??\s*$", question):
        return None  # "Who is Nikolai Patrushev?", "What is the CSTO?" ask for a description, not a span
    if re.search(r"\b(who|whom|whose)\b", q):
        return "who"
    # "Where ...?", "... located where?"; not the relative "the last game where ..."
    if re.match(r"^(?:(?:and|so|from|to|in)\s+)?where\b", q) or re.search(r"\bwhere\W*$", q):
        return "where"
    # "Which country ...", "What organisation ...": a noun right after the wh-word asks for a name.
    if re.search(r"\b(which|what) (?!(is|are|was|were|did|does|do|has|have|had|can|could|will|would|should|may|might|must|kind|sort|type|happened|happens)\b)[a-z]+", q):
        return "what"
    return None


@lru_cache(maxsize=4096)
def question_terms(question: str) -> frozenset[str]:
    """Stems of every word of the question (asked once, used for each candidate sentence)."""
    return frozenset(stem(w) for w in words(question))


def candidates(sentence: str, kind: str, question: str) -> list[tuple[int, int]]:
    """Spans (start, end) in the sentence that could answer, none made only of the question's words."""
    asked = question_terms(question)

    def new_information(span: tuple[int, int]) -> bool:
        return any(t not in asked and (t not in STOP_WORDS or t in _COUNTING_STOP_WORDS)
                   for t in _span_stems(sentence, *span))

    strict, loose = _shaped_spans(sentence, kind)
    if kind in ("when", "where"):  # a date or a named place; else a looser phrase of time or place
        found = [span for span in strict if new_information(span)] or list(loose)
    elif kind == "how many":
        found = [_drop_asked_tail(sentence, s, e, asked) for s, e in strict]
    elif kind == "who":
        found = list(strict)
    else:  # "what"/"which": names, then the words the question lacks
        found = [span for span in strict if new_information(span)] or _unasked_runs(sentence, asked)
    return [(s, e) for s, e in found if e > s and new_information((s, e))]


@lru_cache(maxsize=32_768)
def _shaped_spans(sentence: str, kind: str) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """The spans of the form a kind of question asks for, whatever the question's words: (strict, loose).

    Cached: the same sentences come back question after question, and the patterns are the slow part.
    """
    loose: list[tuple[int, int]] = []
    if kind == "when":
        strict = [m.span() for pattern in (_DATE, _WEEKDAY, _DAY_MONTH, _PERIOD) for m in pattern.finditer(sentence)]
        loose = [_phrase(sentence, m) for m in _TIME_PHRASE.finditer(sentence)]
    elif kind == "how many":
        strict = [m.span() for m in _NUMBER.finditer(sentence) if any(ch.isdigit() for ch in m.group())
                  or re.match(_NUMBER_WORD, m.group(), re.I)] + [m.span() for m in _QUANTITY.finditer(sentence)]
    elif kind == "who":
        strict = [_trim_name(sentence, *m.span()) for m in _NAME.finditer(sentence)
                  if m.start() > 0 or len(m.group().split()) > 1]
    elif kind == "where":  # a name after a place preposition: "in Yemen", "at the Kremlin", "from Dushanbe"
        strict = [_trim_name(sentence, *m.span(1)) for m in _PLACE.finditer(sentence)]
        loose = [_phrase(sentence, m) for m in _PLACE_PHRASE.finditer(sentence)]
    else:
        strict = [_trim_name(sentence, *m.span()) for m in _NAME.finditer(sentence) if m.start() > 0]
    return tuple(strict), tuple(loose)


@lru_cache(maxsize=65_536)
def _span_stems(sentence: str, start: int, end: int) -> tuple[str, ...]:
    return tuple(stem(w) for w in words(sentence[start:end]))


def _phrase(sentence: str, match: re.Match) -> tuple[int, int]:
    """A loose phrase without the function words it may end on ('after the end of the')."""
    start, end = match.span()
    tokens = list(_WORD_SPAN.finditer(sentence, start, end))
    while len(tokens) > 1 and normalise(tokens[-1].group()) in STOP_WORDS:
        tokens.pop()
    return start, tokens[-1].end()


def _drop_asked_tail(sentence: str, start: int, end: int, asked: set[str]) -> tuple[int, int]:
    """'130 volcanic' for 'how many volcanic mountains' is just '130'."""
    head, _, last = sentence[start:end].rpartition(" ")
    if head and stem(normalise(last)) in asked:
        return start, start + len(head)
    return start, end


def _trim_name(sentence: str, start: int, end: int) -> tuple[int, int]:
    text = sentence[start:end]
    stripped = text.rstrip(".’'")
    for lead in ("The ", "A ", "An ", "In ", "On ", "At ", "By ", "From ", "During ", "After ", "Before "):
        if stripped.startswith(lead) and len(stripped) > len(lead):
            return start + len(lead), start + len(stripped)
    return start, start + len(stripped)


def _unasked_runs(sentence: str, asked: frozenset[str], longest: int = 5) -> list[tuple[int, int]]:
    """Maximal runs of words that are neither in the question nor stop words."""
    runs, current = [], []
    for span, token, token_stem in _sentence_words(sentence):
        if token_stem in asked or token in STOP_WORDS:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(span)
    if current:
        runs.append(current)
    return [(run[0][0], run[min(len(run), longest) - 1][1]) for run in runs]


@lru_cache(maxsize=32_768)
def _sentence_words(sentence: str) -> tuple[tuple[tuple[int, int], str, str], ...]:
    """Each word of the sentence: its span, its normalised form and its stem."""
    out = []
    for m in _WORD_SPAN.finditer(sentence):
        token = normalise(m.group())
        out.append((m.span(), token, stem(token)))
    return tuple(out)


TYPED = ("when", "how many", "where")
"""Question kinds whose answer has a recognisable form: a sentence without one does not answer."""


def answers_kind(sentence: str, question: str) -> bool:
    """False when the question asks for a date, number or place and the sentence offers none."""
    kind = question_type(question)
    return kind not in TYPED or bool(candidates(sentence, kind, question))


def short_answer(sentence: str, question: str) -> tuple[int, int] | None:
    """Offsets (relative to the sentence) of the short answer, or None when the question is open."""
    kind = question_type(question)
    if kind is None:
        return None
    spans = candidates(sentence, kind, question)
    if not spans:
        return None
    asked = question_terms(question) - STOP_WORDS
    anchors = [span for span, _, token_stem in _sentence_words(sentence) if token_stem in asked]

    def distance(span: tuple[int, int]) -> float:
        if not anchors:
            return span[0]
        return min(max(a[0] - span[1], span[0] - a[1], 0) for a in anchors)

    return min(spans, key=lambda span: (distance(span), span[0]))
