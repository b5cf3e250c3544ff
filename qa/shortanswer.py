"""The minimal span inside a quoted sentence that answers a factoid question (when, who, how many...).

The question's type picks the candidate spans by rule (dates, numbers, names, places, or the words
the question does not already contain); a small linear model per type picks among them, reading
where each span sits against the question's words ("... was designed by Joseph Strauss", "the
Moselle, which ...") as much as how close it is. Weights are fitted on SQuAD v1.1 dev articles 1–24
by ``bench/tune_shortanswer.py``. Offsets are relative to the sentence.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from functools import lru_cache

from qa.blocks import field_label
from qa.text import STOP_WORDS, normalise, own_question, stem, words

_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sep\.|Sept\.|Oct\.|Nov\.|Dec\.)"
_NUMBER_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen)"
# Quantities without a numeral ("several lakes", "a single output", "twice a year"), and durations ("after a year").
_QUANTITY = re.compile(r"\b(?:several|a few|a single|dozens|hundreds|thousands|millions|billions|once|twice|half"
                       r"|[Nn]one(?=\s+of\b))\b"  # "None of the original treaties …" counts them: zero
                       r"|\b(?:a|an)\s+(?:second|minute|hour|day|week|fortnight|month|year|decade|century|millennium)\b", re.I)
# Answers to "how long / often / fast / much" that are no numeral: "annually", "in seconds", "large areas", "free".
_VAGUE_QUANTITY = re.compile(
    r"\b(?:annual(?:ly)?|biennial(?:ly)?|daily|weekly|monthly|yearly|hourly|nightly|seasonal(?:ly)?|quickly|rapidly"
    r"|slowly|gradually|free|little|(?:every|each)\s+(?:year|day|week|month|decade|season|night)"
    r"|seconds|minutes|hours|days|weeks|months|years|decades|centuries"
    r"|(?:large|vast|huge|small|tiny|significant|considerable)\s+"
    r"(?:areas?|amounts?|numbers?|parts?|portions?|quantities|sums?)"
    # "strip a uniform amount of indentation", "lasts indefinitely" ("for a specified period of time" says no more
    # than that it ends: three of the four who asked how long a temporary ban lasts took it for no answer)
    r"|(?:a|an|the)\s+(?:uniform|equal)\s+amount|indefinitely|permanently|forever)\b", re.I)
# Places named by an adverb, not a name: "sought overseas investors", "spend their lives underground".
_PLACE_ADVERB = re.compile(r"\b(?:overseas|abroad|underground|offshore|onshore|inland|nationwide|worldwide|upstream"
                           r"|downstream|downtown|outdoors|indoors|uphill|downhill|upriver|ashore)\b", re.I)
# Stop words (stemmed) that can be the whole answer to "how many": "only a few".
_COUNTING_STOP_WORDS = frozenset({"few", "none"})
_WEEKDAY = re.compile(r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)s?\b")
# Days named by a feast or holiday: "on Christmas Eve", "on Midsummer’s Night"
_HOLIDAY = re.compile(r"\b(?:Christmas(?:\s+(?:Eve|Day))?|New\s+Year['’]s(?:\s+(?:Eve|Day))?"
                      r"|Easter(?:\s+(?:Sunday|Monday))?|Good\s+Friday|Midsummer(?:['’]s)?(?:\s+(?:Eve|Day|Night))?"
                      r"|Halloween|Thanksgiving(?:\s+Day)?|(?:Independence|Labou?r|Memorial|Veterans|Boxing|May"
                      r"|All\s+Saints['’]?|St\.?\s+Patrick['’]s|Valentine['’]s)\s+Day|Pentecost|Whitsun(?:tide)?"
                      r"|Ramadan|Hanukkah|Passover|Diwali|Epiphany)\b")
# Dates without a year ("on 27 June") and named periods ("during the Second World War").
_DAY_MONTH = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}")
_PERIOD = re.compile(r"\b(?:[Dd]uring|[Bb]efore|[Aa]fter|[Uu]ntil|[Ss]ince|[Tt]hroughout|[Ee]nd of|[Bb]eginning of|[Ss]tart of)"
                     r"\s+(?:the\s+)?(?:[A-Z][\w’'-]*\s+)*"
                     r"(?:[Ww]ar(?:\s+I+)?|[Rr]evolution|[Rr]eign|[Dd]ynasty|[Ee]ra|[Aa]ge|[Pp]eriod|[Cc]entury|[Oo]ccupation|[Ee]mpire)\b"
                     # a named period of history or geology: "the Pliocene period", "the Lower Paleolithic period"
                     r"|\b(?:[A-Z][\w’'-]*\s+)+(?:[Pp]eriod|[Ee]ra|[Ee]poch|[Aa]ge|[Dd]ynasty)\b")
_ORDINAL = (r"(?:\d{1,2}(?:st|nd|rd|th)|(?:[Tt]wenty-)?(?:[Ff]irst|[Ss]econd|[Tt]hird|[Ff]ourth|[Ff]ifth|[Ss]ixth|[Ss]eventh"
            r"|[Ee]ighth|[Nn]inth|[Tt]enth|[Ee]leventh|[Tt]welfth|[Tt]hirteenth|[Ff]ourteenth|[Ff]ifteenth|[Ss]ixteenth"
            r"|[Ss]eventeenth|[Ee]ighteenth|[Nn]ineteenth|[Tt]wentieth))")
# A month alone is a date after a preposition of time ("in June", "between June and September"), not as a name.
_AFTER_PREPOSITION = "(?:" + "|".join(rf"(?<=\b{p}\s)" for p in (
    "in", "In", "by", "By", "from", "From", "until", "since", "between", "and", "to", "through", "before", "after",
    "early", "late", "mid")) + ")"
_DATE = re.compile(
    rf"\b(?:(?:[Bb]etween|[Ff]rom)\s+{_MONTH}\s+(?:and|to)\s+{_MONTH}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{3,4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{3,4}}|{_MONTH}\s+\d{{3,4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?|(?:the\s+)?(?:early\s+|late\s+|mid-?)?\d{{3,4}}s"
    rf"|{_ORDINAL}(?:\s+(?:and|or|to)\s+{_ORDINAL})?[\s-]+(?:[Cc]entur(?:y|ies)|[Mm]illenni(?:um|a))"
    rf"|{_AFTER_PREPOSITION}(?:early\s+|late\s+|mid-?)?{_MONTH}|(?<=[Ee]very\s){_MONTH}|c(?:a)?\.?\s?\d{{3,4}}"
    rf"|\d{{3,4}}(?:\s*(?:–|-|to)\s*\d{{2,4}})?(?:\s+(?:BC|AD|BCE|CE))?)\b"
)
# A whole calendar date ("2015-05-15", "May 15, 2015", "15 May 2015", "May 2015"): its numbers count nothing.
_CALENDAR = (rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{3,4}}"
             rf"|\d{{1,2}}\s+{_MONTH}\s+\d{{3,4}}|{_MONTH}\s+\d{{3,4}})")
_CALENDAR_DATE = re.compile(rf"\b{_CALENDAR}\b")
_NUMBER = re.compile(
    rf"(?:[$£€¥]\s?)?\b(?:\d+(?:,\d{{3}})*(?:\.\d+)?|{_NUMBER_WORD}(?:[\s-]+{_NUMBER_WORD})*)"
    rf"(?:\s*(?:%|percent|per cent|million|billion|trillion|thousand|hundred))?"
    rf"(?:\s+(?!(?:and|or|the|of|in|on|at|to|a|an)\b)[A-Za-z]+){{0,1}}",
    re.I,
)
_NAME = re.compile(r"\b[A-Z][\w’'.-]*(?:\s+(?:of|the|de|von|van|al|du|la|y|and)?\s*[A-Z][\w’'.-]*)*")
_PLACE = re.compile(r"\b(?:in|at|from|near|to|into|across|along|between|through|throughout|outside|inside|within|on|beyond|towards?)\s+"
                    r"((?:the\s+)?[A-Z][\w’'.-]*(?:\s+(?:of|the|de|du|la|and)?\s*[A-Z][\w’'.-]*)*)")
# Capitalised first words that are not names.
_OPENERS = frozenset("however although though thus therefore moreover furthermore meanwhile today yesterday "
                     "later earlier many most some several each every one two three first second since despite "
                     "according following like unlike in on at by for with without".split())
_NOT_NAMES = STOP_WORDS | _OPENERS
_WORD_SPAN = re.compile(r"[^\W_][\w’'-]*", re.UNICODE)
# Looser forms, tried when the strict ones find nothing: "toward the center of the curving path",
# "in his mind", "after the end of the Mexican War", "under intense light".
_PLACE_PHRASE = re.compile(
    r"\b(?:in|at|on|near|to|into|onto|across|along|between|through|throughout|outside|inside|within|beyond|"
    r"towards?|behind|under|over|above|below|beneath|beside|around|among|upon|from)\s+"
    r"(?:(?:the|a|an|his|her|its|their|our)\s+)?[\w’'-]+(?:\s+(?!(?:and|but|which|who|that|when|while|is|was|are|were)\b)[\w’'-]+){0,4}",
    re.I)
_TIME_PHRASE = re.compile(
    r"\b(?:after|before|until|till|since|during|throughout|following|upon|whenever|once|when|while|if|prior to"
    r"|as soon as|as early as|toward(?:s)? the (?:end|beginning|start)"
    r"|at the (?:end|beginning|start|time|height|close) of)\s+"
    r"(?:the\s+)?[\w’'-]+(?:\s+[\w’'-]+){0,4}|\b(?:in|under)\s+(?:[\w’'-]+\s+){0,3}(?:conditions|light|circumstances)\b",
    re.I)
_AUXILIARIES = "did|does|do|was|were|is|are|will|would|could|can|should|had|has|have|may|might|must|shall"


_DESCRIBE = re.compile(r"^\s*(?i:who|what)\s+(?i:is|was|are|were)\s+(?:the\s+)?(?:[A-Z][\w’'.-]*\s*)+\??\s*$")


def question_type(question: str) -> str | None:
    """The kind of short answer a question asks for, or None for open questions (why, how, describe)."""
    question = own_question(question)
    q = normalise(question).strip()
    # "When John Fox left, who replaced him?": the clause after the comma asks the question.
    clause = re.match(r"^(?:when|while|after|before|if|since|although|as)\b[^,]*,\s*((?:who|whom|whose|what|which|where|when|how)\b.*)$", q)
    if clause:
        return question_type(clause.group(1))
    # "When rock folds ..., it creates what?", "When the Rhine emerges ... which way does it flow?": a "when"
    # not followed by a verb opens a clause; the question is what comes after it (open if no wh-word does).
    opener = re.match(rf"^when\s+(?!(?:\w+ly\s+)?(?:{_AUXILIARIES})\b)(.*)$", q)
    if opener:
        later = re.search(r"\b(?:who|whom|whose|what|which|where|when|how)\b.*$", opener.group(1))
        if later:
            return question_type(later.group())
        if "," in opener.group(1):
            return None
    # "When should I use raw strings?", "When can oxygen be toxic?": a modal asks for a condition, not a date.
    if re.match(r"^when (?:should|must|can|could|may|might|shall|ought)\b", q):
        return None
    if re.match(r"^(?:who|whom|whose)\b", q):
        # "Who should we consult when deciding how long to keep data?": a clause's "when" or "how long" asks nothing
        return None if _DESCRIBE.match(question) else "who"
    if re.search(r"\b(what|which) (year|date|day|month|century|decade|time period|period)\b", q) or re.match(r"^when\b", q) \
            or re.search(r"\bwhen (did|was|were|is|do|does|will|had|has)\b", q):
        return "when"
    if re.search(r"\bhow (many|much|long|old|far|large|big|tall|high|often|fast|deep|wide|heavy)\b", q) \
            or re.search(r"\bwhat (percentage|percent|number|amount|size|proportion)\b", q) \
            or re.search(r"\bwhat (?:is|was|are|were) the (?:[\w-]+ ){0,2}(?:number|count|total) of\b", q):
        return "how many"  # "What is the default maximum number of redirects?": a number, as "how many"
    if _DESCRIBE.match(question):
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


# "What is the name of ...?", "What was the main reason ...?", "What type of rock ...?" ask for a span too,
# though their noun does not follow the wh-word; "What is the CSTO?" asks for a description.
_WHAT_IS_THE = re.compile(r"^(?:[Ii]n\s+)?[Ww]hat\s+(?:(?:is|was|are|were)\s+(?:the|a|an)\s+[a-z]+|type|kind|sort)\b")


def answer_kind(question: str) -> str | None:
    """The kind of span the short answer is cut as: ``question_type``, or "what is" for the questions
    above (their span is chosen by weights of their own; the sentence scorer still sees no kind)."""
    kind = question_type(question)
    if kind is None and _WHAT_IS_THE.match(question.strip()):
        return "what is"
    return kind


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

    strict, loose = _shaped_spans(sentence, "how long" if kind == "how many" and asks_for_duration(question) else kind)
    if kind in ("when", "where"):  # a date or a named place; else a looser phrase of time or place
        found = [span for span in strict if new_information(span)] or list(loose)
    elif kind == "how many":  # a number; else a quantity or frequency in words, or a span of time
        if not _counts_time(question):  # "every six weeks" says how often, not how many people
            often = _TIMES.search(question) is not None  # "How many times a year …?" is answered "weekly"
            strict, loose = ([span for span in spans if not _TIME_UNIT_END.search(sentence, *span)
                              and (often or not _FREQUENCY.fullmatch(sentence, *span))] for spans in (strict, loose))
        duration = asks_for_duration(question)
        strict = [span for span in strict if not _names_not_counts(sentence, *span, duration=duration)]
        if _COUNTS_SHORT_TIME.search(question):  # "How many minutes …?" is not answered by "these 7 tips"
            strict, loose = ([span for span in spans if _TIME_UNIT_NEAR.match(sentence, span[0], span[1] + 16)]
                             for spans in (strict, loose))
        found = [_drop_asked_tail(sentence, s, e, asked) for s, e in strict] or list(loose)
    elif kind == "who":
        found = list(strict)
    else:  # "what"/"which": names, then the words the question lacks
        found = [span for span in strict if new_information(span)] or _unasked_runs(sentence, asked)
    return [(s, e) for s, e in found if e > s and new_information((s, e))]


_LIST_MARKER = re.compile(r"(?m)^[ \t]*(\d{1,3})[.)](?=[ \t])")  # "1. Ship …", "2) Run …"
_TIME_UNIT = r"(?:second|minute|hour|day|night|week|fortnight|month|year|decade|centur(?:y|ie)|millenni(?:um|a))s?"
_TIME_UNIT_END = re.compile(rf"\b{_TIME_UNIT}$", re.I)
_TIMES = re.compile(r"\bhow\s+many\s+times\b", re.I)
# Units of time a count of which is said with the unit ("45 minutes", "two to three days"), unlike years ("1914 to
# 1918")
_COUNTS_SHORT_TIME = re.compile(r"\bhow\s+many\s+(?:more\s+|fewer\s+)?(?:seconds|minutes|hours|days|nights|weeks)\b",
                                re.I)
_TIME_UNIT_NEAR = re.compile(rf"(?s:.*?)\b(?:{_TIME_UNIT}|overnight|hrs?|mins?|secs?)\b", re.I)
_FREQUENCY = re.compile(r"(?:annual|biennial|seasonal)(?:ly)?|daily|weekly|monthly|yearly|hourly|nightly", re.I)


_YEAR = re.compile(r"(?:1[6-9]|20)\d\d(?:\s+[\w’'-]+)?")
_YEAR_RANGE = re.compile(r"\s*(?:-|–|—|to|and)\s*(?:1[6-9]|20)?\d\d\b")


def _names_not_counts(sentence: str, start: int, end: int, duration: bool) -> bool:
    """Whether a number names rather than counts: "18" of "18F", "5G" (a name), a partitive asked how long ("one of
    the first"), a bare year ("passed away in 2021" says neither how many nor how long; "The Collection 1916-1996"
    counts no works; "1914 to 1918" does say how long)."""
    if re.match(r"[A-Z](?![A-Za-z])", sentence[end:end + 2]):
        return True
    if duration and " " not in sentence[start:end] and re.match(r"\s+of\b", sentence[end:end + 4]):
        return True  # "one of the first British civilians" is one of them, not how long
    year = _YEAR.fullmatch(sentence, start, end)
    if year is None or (" " in year.group() and normalise(year.group().split()[-1]) not in STOP_WORDS):
        return False  # "1500 soldiers" counts soldiers
    before = sentence[max(0, start - 16):start]
    in_range = bool(_YEAR_RANGE.match(sentence, start + 4)) or bool(re.search(r"(?:-|–|—)\s*$", before))
    since = bool(re.search(r"\b(?:since|until|till|from|for|between)\s+(?:the\s+)?(?:early\s+|late\s+|mid-)?$", before,
                           re.I))
    return not (duration and (in_range or since))  # "since the 1950s" says how long


def _counts_time(question: str) -> bool:
    """Whether a "how many" question counts units of time ("How many paid holiday days …?") or says nothing
    it counts."""
    counted = re.search(r"\bhow\s+many((?:\s+[\w-]+){1,4})", question, re.I)
    return counted is None or any(re.fullmatch(_TIME_UNIT, word, re.I) for word in counted.group(1).split())


# What a "how many" question may count in words a text says otherwise: people ("taxpayers", "a population of"), and
# units of measure ("lb", "km"), which ``measure_form`` and the reader judge.
_COUNTED_ELSEWISE = frozenset(
    "people persons pounds lbs miles kilometres kilometers km feet foot metres meters acres hectares dollars euros "
    "percent degrees litres liters gallons tons tonnes kilograms kg grams square cubic times".split())


def counted_noun(question: str) -> str | None:
    """The word a "how many" question counts ("soldiers" of "How many soldiers died?"), unless it counts units of
    time or measure, or people."""
    counted = re.search(r"\bhow\s+many\s+(?:more\s+|fewer\s+|different\s+|other\s+|total\s+)?([a-z][a-z-]+)\b",
                        question, re.I)
    if counted is None or _counts_time(question):
        return None
    word = counted.group(1).lower()
    return None if word in STOP_WORDS or word in _COUNTED_ELSEWISE else word


@lru_cache(maxsize=32_768)
def _shaped_spans(sentence: str, kind: str) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """The spans of the form a kind of question asks for, whatever the question's words: (strict, loose).

    Cached: the same sentences come back question after question, and the patterns are the slow part.
    """
    loose: list[tuple[int, int]] = []
    if kind == "when":
        strict = [m.span() for pattern in (_DATE, _WEEKDAY, _DAY_MONTH, _PERIOD, _HOLIDAY)
                  for m in pattern.finditer(sentence)]
        loose = [_phrase(sentence, m) for m in _TIME_PHRASE.finditer(sentence)]
    elif kind in ("how many", "how long"):
        strict = [m.span() for m in _NUMBER.finditer(sentence) if any(ch.isdigit() for ch in m.group())
                  or re.match(_NUMBER_WORD, m.group(), re.I)] + [m.span() for m in _QUANTITY.finditer(sentence)]
        loose = [m.span() for m in _VAGUE_QUANTITY.finditer(sentence)]
        # a post's date ("Published 2015-05-15") says nothing of how many people, "18 June 1815" not how long
        dates = [m.span() for m in _CALENDAR_DATE.finditer(sentence)]
        strict = [span for span in strict if not any(lo <= span[0] < hi for lo, hi in dates)]
        markers = {m.start(1) for m in _LIST_MARKER.finditer(sentence)}
        if markers:  # a numbered list's "1." "2." number its items, not what the question counts
            strict = [span for span in strict if span[0] not in markers]
        if kind == "how long":  # "since 2005" says how long; it does not say how many people
            loose += [_phrase(sentence, m) for m in _TIME_PHRASE.finditer(sentence)
                      if m.group().lower().startswith(("until", "since"))]
    elif kind == "who":
        strict = [_trim_name(sentence, *m.span()) for m in _NAME.finditer(sentence) if _could_be_name(m)]
    elif kind == "where":  # a name after a place preposition: "in Yemen", "at the Kremlin", "from Dushanbe"
        strict = [_trim_name(sentence, *m.span(1)) for m in _PLACE.finditer(sentence)]
        label = field_label(sentence)  # a fact sheet's "Capital - name: Thimphu" gives a place without "in"
        value = _NAME.match(sentence, sentence.find(": ", len(label)) + 2) if label else None
        if value:
            strict.append(_trim_name(sentence, *value.span()))
        loose = [_phrase(sentence, m) for m in _PLACE_PHRASE.finditer(sentence)] + [
            m.span() for m in _PLACE_ADVERB.finditer(sentence)]
    else:
        strict = [_trim_name(sentence, *m.span()) for m in _NAME.finditer(sentence) if _could_be_name(m)]
    return tuple(strict), tuple(loose)


def _could_be_name(match: re.Match) -> bool:
    """A capitalised run is a name candidate unless it is only the sentence's first word capitalised
    ("The", "However"); "Brazil is the largest producer" keeps "Brazil"."""
    if match.start() > 0 or " " in match.group().strip():
        return True
    return normalise(match.group().strip(".’'")) not in _NOT_NAMES


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
    """'130 volcanic' for 'how many volcanic mountains' is just '130'; 'in 1937, is' is '1937'."""
    head, _, last = sentence[start:end].rpartition(" ")
    if head and stem(normalise(last)) in asked:
        end = start + len(head)
    return start, start + len(sentence[start:end].rstrip(",;:"))


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


# "How long ...?", "How often ...?", "How many years ...?": a span of time answers, "since 2005" too.
_DURATION_QUESTION = re.compile(
    r"\bhow (?:long|often|frequently)\b|\bhow many (?:more |fewer )?(?:years|months|weeks|days|hours|minutes|seconds"
    r"|decades|centuries|generations|times|terms|seasons)\b", re.I)


@lru_cache(maxsize=4096)
def asks_for_duration(question: str) -> bool:
    return bool(_DURATION_QUESTION.search(question))


TYPED = ("when", "how many", "where")
"""Question kinds whose answer has a recognisable form: a sentence without one does not answer."""


# "How much did it cost / do members pay ...?", "What was the price ...?": the answer is an amount of money
# (or a share, "rose 2% a year", or "free"), not any number ("12 states", "a two-tiered system").
_MONEY_QUESTION = re.compile(
    r"\bhow much\b(?:\s+[^\s?]+){0,12}?\s+(?:cost|costs|costing|pay|paid|pays|paying|price|priced|spend|spent|spends"
    r"|charge|charged|charges|fee|fees|dues|worth|earn|earned|earns|salary|wages?|sell|sold|budget|budgeted|fund"
    r"|funded|funding|raise|raised|invest|invested|donate|donated|owe|owed|money|revenue|profit|tuition)\b"
    r"|\bwhat (?:is|was|were|are) the (?:[\w-]+ )?(?:cost|price|fee|salary|budget|tuition|revenue|dues|fare|rent"
    r"|wage)s?\b", re.I)
_CURRENCY = (r"(?:dollars?|euros?|pounds?|yen|yuan|renminbi|rupees?|francs?|marks?|pesos?|cents?|pence|shillings?"
             r"|guineas?|crowns?|kronor|krona|rubles?|roubles?|lira|dinars?|riyals?|rand|USD|EUR|GBP|CHF|AUD|CAD)")
_MONEY = re.compile(
    rf"[$£€¥₹]|\b(?:\d[\d,.]*|{_NUMBER_WORD}|a|one)(?:[\s-]+(?:{_NUMBER_WORD}|million|billion|trillion|thousand))*"
    rf"\s*(?:m|bn|k)?\s+{_CURRENCY}\b|\b\d[\d,.]*\s?{_CURRENCY}\b|%|\bper ?cent\b|\bfree\b|\bno (?:cost|charge|fee)\b"
    rf"|\b(?:(?:hundreds|thousands|millions|billions|trillions)\s+of\s+){{1,2}}{_CURRENCY}\b"
    r"|\bnothing\b", re.I)


@lru_cache(maxsize=4096)
def asks_for_money(question: str) -> bool:
    return bool(_MONEY_QUESTION.search(question))


# "Why would I set exclude-newer?", "What is the `-X` option for?", "What's the point of a lock file?": a reason or
# a purpose, which a document often gives in the sentence after the one that names the thing ("This is useful for …").
_REASON_QUESTION = re.compile(
    r"^\W*(?:(?:and|but|so)\s+)?(?:why\b"
    r"|what(?:\s+is|\s+are|['’]s)\s+the\s+(?:point|purpose|use|benefit|advantage|reason)s?\s+(?:of|for|in|behind)\b"
    r"|what(?:\s+is|\s+are|\s+was|\s+were|['’]s)\b.*\bfor\W*$)", re.I)


def asks_reason(question: str) -> bool:
    """Whether the question asks why, or what something is for."""
    return bool(_REASON_QUESTION.search(own_question(question)))


_CONSEQUENCE_QUESTION = re.compile(r"^\W*(?:(?:and|but|so)\s+)?what\s+(?:if|(?:will|would)\s+happen|happens)\b",
                                   re.I)


def asks_consequence(question: str) -> bool:
    """Whether the question asks what follows from something ("What happens if I forget the `--`?")."""
    return bool(_CONSEQUENCE_QUESTION.search(own_question(question)))


# also asked in the negative: "Doesn't fd respect .gitignore?", "Can't I freeze it?", "Won't it break?"
_YES_NO = re.compile(r"^\W*(?:(?:and|but|so|then)\s+)?(?:(?:is|are|was|were|am|do|does|did|can|could|should|would"
                     r"|will|shall|has|have|had|may|might|must)(?:n?['’]t)?|won['’]t)\b", re.I)


def asks_yes_no(question: str) -> bool:
    """Whether the question asks to confirm or deny ("Did Clarkson write for the Star?", "Can I freeze it?")."""
    return bool(_YES_NO.match(own_question(question)))


# "How old was Tesla when he died?", "At what age …?": an age answers ("at the age of 86", "seven months old",
# "515 million years", "39"), a bare year does not: "passed away in 2021" never says how old he was.
_AGE_QUESTION = re.compile(r"\bhow old\b|\bwhat age\b", re.I)
_AGE = re.compile(rf"\b(?:age[ds]?|old|{_NUMBER_WORD})\b|(?<![\d.,])\d{{1,3}}(?:\.\d+)?(?!\d|[.,]\d|\w)", re.I)


@lru_cache(maxsize=4096)
def asks_for_age(question: str) -> bool:
    return bool(_AGE_QUESTION.search(question))


# "What email address do I report to?", "What is the project's website?", "Which phone number …?": the answer is an
# address of that kind; "report to the community leaders responsible for enforcement at [INSERT CONTACT METHOD]" is
# none. Only questions asking for the thing itself ("what / which [is the …] website"), not "What did his email say?".
# The words between may qualify the address ("the project's official website") but not place it: "What is the query in
# a URL?" asks what the query is.
_ASKING_FOR = (r"^\s*(?:what|which)\s+(?:(?:is|are|was|were)\s+(?:the|its|their|his|her)\s+"
               r"(?:(?!(?:in|on|of|for|to|at|with|from|by|a|an|the)\s)[\w'’-]+\s+){0,3}?)?")
# an address as written or as web pages hide it from harvesters: "nts (at) northcom (dot) mil", "jane [at] example.org"
_EMAIL = (r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
          r"|[\w.+-]+\s*[(\[]\s*at\s*[)\]]\s*[\w-]+(?:\s*(?:[(\[]\s*dot\s*[)\]]|\.)\s*[\w-]+)+")
_WEB = r"https?://|\bwww\.|\b[\w-]+\.(?:com|org|gov|net|io|edu|dev|rs|info)\b"
_PHONE = r"\+?\d[\d\s().-]{5,}\d"
_CONTACTS = (
    (re.compile(_ASKING_FOR + r"e-?mail(?:\s+address(?:es)?)?\b", re.I), re.compile(_EMAIL, re.I)),
    (re.compile(_ASKING_FOR + r"(?:url|web\s*(?:site|page|address)|home\s*page)s?\b", re.I), re.compile(_WEB, re.I)),
    (re.compile(_ASKING_FOR + r"(?:tele)?phone\s+numbers?\b", re.I), re.compile(_PHONE)),
    # "How do I contact the team?", "How can I get in touch with them?", "Who do I email …?": any of these answers
    (re.compile(r"^\s*(?:how|where|who|whom)\s+(?:do|can|could|should|would)\s+(?:i|we|you|one|people|users?)\s+"
                r"(?:contact|reach(?:\s+out\s+to)?|e-?mail|get\s+in\s+touch\s+with|write\s+to)\b", re.I),
     # or where people meet: "… get in touch with other Rustaceans … on the community page"
     re.compile(rf"{_EMAIL}|{_WEB}|{_PHONE}|\b(?:community|contact|support)\s+(?:page|forum|channel)s?\b"
                r"|\b(?:forum|chat|mailing\s+list|issue\s+tracker|discord|slack|irc|zulip|matrix)\b", re.I)),
)

# asked whom to contact (not what address to write to: "Who do I email …?"), a person's name answers too
_WHOM_TO_CONTACT = re.compile(r"^\s*(?:who|whom)\s+(?:do|can|could|should|would)\s+(?:i|we|you|one|people|users?)\s+"
                              r"(?:contact|reach|get\s+in\s+touch\s+with|talk\s+to|ask)\b", re.I)


def contact_form(question: str) -> re.Pattern | None:
    """The form of the address a question asks for, if it asks for an email address, a website or a phone number
    (how to contact someone: any of them)."""
    return next((form for asked, form in _CONTACTS if asked.search(question)), None)


# "What temperature …?", "How much memory …?", "What share …?", "How heavy …?", "What time does it start?": the answer
# is a measure in that kind's units ("475 - 500 degrees F", "12 MB", "85%", "a third", "200 g", "2 a.m."); "330g warm
# water" is on the topic of the water's temperature but does not say it.
_AMOUNT = rf"(?:\d+(?:[.,/]\d+)?|{_NUMBER_WORD}|a|an)(?:[\s-]+{_NUMBER_WORD})*[\s-]*"
_MEASURES = (
    (re.compile(r"\b(?:what|which)\s+(?:[\w-]+\s+)?temperature\b|\bhow\s+(?:hot|cold|warm)\b", re.I),
     re.compile(r"°|\bdegrees?\b|\b\d+\s*[CF]\b|\b(?:fahrenheit|celsius|kelvin|room temperature|boiling|freezing"
                r"|lukewarm|body temperature)\b", re.I)),
    (re.compile(r"\bhow\s+many\s+(?:[KMGT]i?B|(?:kilo|mega|giga|tera)?bytes)\b"
                r"|\bhow\s+much\s+(?:[\w-]+\s+)?(?:memory|ram|disk|storage|space)\b|\bhow\s+(?:big|large)\s+(?:is|are"
                r"|was|were)\s+(?:the|a|an|its|their)?\s*(?:[\w-]+\s+)?(?:file|download|binary|installer|archive)s?\b",
                re.I),
     re.compile(r"\b\d+(?:[.,]\d+)?\s*(?:[KMGTP]i?B|bytes?|kilobytes?|megabytes?|gigabytes?|terabytes?)\b", re.I)),
    (re.compile(r"\bwhat\s+(?:share|fraction|proportion|percentage|per ?cent)\b", re.I),
     re.compile(r"%|\bper ?cent\b|\b(?:half|halves|thirds?|quarters?|fifths?|tenths?|majority|minority|most|all|none"
                r"|nobody|no one)\b|\b\d+\s*(?:in|out of|/)\s*\d+\b", re.I)),
    (re.compile(r"\bhow\s+heavy\b|\bhow\s+much\s+(?:[\w-]+\s+){0,6}?weigh(?:s|ed)?\b|\bwhat\s+(?:is|was)\s+(?:the|its"
                r"|their)\s+weight\b|\b(?:how\s+many|in)\s+(?:ounces|oz|grams|kilo(?:gram)?s|kg|tons|tonnes)\b", re.I),
     re.compile(rf"\b{_AMOUNT}(?:g|kg|mg|lbs?|oz|grams?|kilo(?:gram)?s?|pounds?|ounces?|(?:kilo|mega|giga)?tonn?e?s?"
                r"|stones?)\b|\bweigh(?:s|ed|ing|t)\b", re.I)),
    # "What time does the tracking start on Christmas Eve?": a time of day, which "December 24th" is not
    (re.compile(r"^\W*(?:at\s+)?what\s+time\b(?:\s+(?!of\b)[^\s?]+){0,4}?\s+(?:does|do|did|will|is|are|was|were)\b"
                r"(?:\s+[^\s?]+){1,10}?\s+(?:start|begin|open|close|end|finish|leave|arrive|depart|launch"
                r"|go\s+live)s?\b", re.I),
     re.compile(r"\b\d{1,2}(?::\d{2})?\s*(?:[ap]\.?\s?m\b\.?)|\b\d{1,2}:\d{2}\b"
                r"|\b(?:noon|midday|midnight|o['’]clock|dawn|dusk|sunrise|sunset|morning|afternoon|evening|night)\b",
                re.I)),
    # "Which version of Bash does the workshop use?": a version ("1.0", "3.12", "v2", "Python 3", "version 4") or a
    # release by its name ("the latest stable"); "we will be using Bash" names none
    (re.compile(r"^\W*(?:(?:in|from|since|with|for|on)\s+)?(?:what|which)(?:['’]s|\s+is|\s+was)?\s+"
                r"(?:(?!if\b)[\w.+-]+\s+){0,4}?versions?\b(?!\s+(?:numbers?|info))", re.I),
     re.compile(r"\b\d+(?:\.\d+)+\b|\b[vV]\d+\b|\b(?:[Vv]ersions?|[Rr]eleases?|[A-Z][\w.+-]*)\s+\d+\b"
                r"|\b(?:latest|newest|current|stable|nightly|beta|oldest|earliest|minimum|previous)\b")),
)


def measure_form(question: str) -> re.Pattern | None:
    """The form of the measure a question asks for, if it asks for a temperature, a size in bytes, a share, a
    weight, the time of day something starts or ends, or a version."""
    return next((form for asked, form in _MEASURES if asked.search(question)), None)


# A post's byline: who wrote it and when, nothing else. "*Published 2015-05-15 by The Rust Core Team*",
# "*2021-03-21, by Quinn & Alison*" (a line of a date and its authors), "By Jane Doe and John Smith".
_BYLINE = re.compile(
    r"^[\W_]*(?:Published|Posted|Updated|Written|Last\s+(?:updated|modified|edited))\b"
    r"(?=[^.!?]*(?:\bby\s|\d)).{0,150}$"
    rf"|^[\W_]*{_CALENDAR}(?:[\s,;|–-]+by\s[^.!?\n]{{1,100}})?[\W_]*$"
    r"|^[\W_]*By\s+[A-Z][\w.'’-]*(?:(?:\s*,|\s+&|\s+and)?\s+[A-Z][\w.'’-]*){0,8}[\W_]*$", re.S)
_PAGE_NOUN = (r"(?:post|blog\s+post|story|article|entry|announcement|recipe|piece|write-?up|page|news\s+item"
              r"|newsletter|tutorial)")
_WHEN_AHEAD = re.compile(r"^\W*when\s+(?:is|are|will|does|do|can|should|must|shall)\b", re.I)
_ABOUT_AUTHORSHIP = re.compile(r"\b(?:wr[io]te|writ(?:e|es|ing|ten|er|ers)|authors?|authored|publish\w*|post(?:s|ed)?"
                               r"|updated?|byline|blog)\b", re.I)


def is_byline(sentence: str) -> bool:
    """Whether the sentence is a post's byline ("Published 2015-05-15 by …", "Written by Jane Doe")."""
    return bool(_BYLINE.match(sentence.strip()))


# "When was the NORAD Tracks Santa App story published?", "What is the date of this post?": when the page itself came
# out, which its byline says ("When did the Star publish its weekend supplement?" asks about something else)
_ASKS_PUBLICATION = re.compile(
    r"^\W*(?:when|on\s+what\s+(?:date|day)|(?:what|which)\s+(?:date|day|year)|in\s+what\s+year)\b"
    rf"[^?]*\b{_PAGE_NOUN}\s+(?:first\s+|originally\s+)?(?:published|posted|written|put\s+(?:up|online)|dated)\b"
    rf"|\b(?:date|day)\s+(?:of|on)\s+(?:the|this|that)\s+{_PAGE_NOUN}\b", re.I)


def asks_publication(question: str) -> bool:
    """Whether the question asks when the page itself (a post, story, article, recipe…) was published."""
    return bool(_ASKS_PUBLICATION.search(question))


def byline_date(sentence: str) -> tuple[int, int] | None:
    """Where the date is in a byline that gives one ("*Published 2012-12-18*", "*2021-03-13, by …*"), else None."""
    date = _CALENDAR_DATE.search(sentence) if is_byline(sentence) else None
    return date.span() if date else None


# "Who wrote the seven tips on unplanned topics?", "Who is the author of this recipe?": what was written
_ASKS_AUTHOR = re.compile(r"^\W*who\s+(?:wrote|authored|penned|posted|published|(?:is|was|are|were)\s+(?:the\s+)?"
                          r"(?:authors?|writers?)\s+(?:of|for))\s+(?P<written>[^?]+)", re.I)
_BYLINE_AUTHOR = re.compile(r"\b[Bb]y\s+(?P<name>[^*_\n]*[^\W_])")


def asked_author_of(question: str) -> str | None:
    """The words for what the question asks the author of ("the seven tips on unplanned topics"), else None."""
    asked = _ASKS_AUTHOR.search(question)
    return asked.group("written") if asked else None


def byline_author(sentence: str) -> tuple[int, int] | None:
    """Where the author is in a byline that names one ("*Published 2023-08-22 by Qituwra Anderson*"), else None."""
    author = _BYLINE_AUTHOR.search(sentence) if is_byline(sentence) else None
    return author.span("name") if author else None


_YEARS = re.compile(r"(?<![\d.,$£€])\b(1[6-9]\d\d|20\d\d)(s?)\b(?![.,]\d)")


_RECKONED_FROM = re.compile(r"\b(?:after|before|since|following|until|till|prior\s+to)\s+"
                            r"(?:(?:the|its|their|his|her|a|an)\s+)?(?:[\w'’-]+\s+){0,2}?(?:1[6-9]\d\d|20\d\d)\b", re.I)


def _other_years(sentence: str, question: str, kind: str | None) -> bool:
    """Whether the question names a year and the sentence names only other years, none before and after it: "Which
    company will build the 2013 version?" is not answered by what a firm offered in 2011 (a year a "when" question
    reckons from does not count: "after the 2007 makeover" may well be 2009); ``kind``: the question's type."""
    if kind == "when":
        # "When … after the 2007 makeover?": the year it reckons from is not the one it asks for ("How much had
        # the price risen after 1971?" asks of 1971 itself)
        question = _RECKONED_FROM.sub(" ", question)
    asked = {int(y) for y, decade in _YEARS.findall(question) if not decade}
    said = [(int(y), bool(decade)) for y, decade in _YEARS.findall(sentence)]
    if not asked or not said:
        return False
    for year in asked:
        if any(y == year or (decade and y <= year < y + 10) for y, decade in said):
            return False
        if any(y < year for y, _ in said) and any(y > year for y, _ in said):
            return False  # "from 1985 until 1992" holds 1990
    return True


# operating systems by the names people write them, each with the family it belongs to
_PLATFORMS = {"windows": None, "macos": None, "linux": None, "android": None, "ios": None, "bsd": None,
              "debian": "linux", "ubuntu": "linux", "fedora": "linux", "arch": "linux", "void": "linux",
              "freebsd": "bsd", "netbsd": "bsd", "openbsd": "bsd"}
_PLATFORM = re.compile(r"\b(?:(?P<windows>windows)|(?P<macos>mac\s?os(?:\s?x)?|os\s?x|mac)|(?P<linux>linux)"
                       r"|(?P<android>android)|(?P<ios>ios|iphone|ipad)|(?P<debian>debian)|(?P<ubuntu>ubuntu)"
                       r"|(?P<fedora>fedora)|(?P<arch>arch)(?=\s+linux)|(?P<void>void)(?=\s+linux)"
                       r"|(?P<freebsd>freebsd)|(?P<netbsd>netbsd)|(?P<openbsd>openbsd)|(?P<bsd>bsd))\b", re.I)


def _platforms(text: str) -> set[str]:
    return {match.lastgroup for match in _PLATFORM.finditer(text)}


def _other_platforms(sentence: str, question: str) -> bool:
    """Whether the question names an operating system and the sentence names only others, none of its family: "How do
    I run a .pyw script on macOS?" is not answered by what happens "On Windows", "Which package should Fedora users
    install?" not by Ubuntu's; a sentence about Linux does answer for Debian, and one about Debian for Linux."""
    asked, said = _platforms(question), _platforms(sentence)
    if not asked or not said:
        return False
    families = asked | {_PLATFORMS[p] for p in asked} | {p for p in _PLATFORMS if _PLATFORMS[p] in asked}
    return not said & families


def same_platform(name: str, text: str) -> bool:
    """Whether a name is an operating system the text names otherwise: "Mac" is there as "macOS" or "OS X"."""
    asked = _platforms(name)
    return bool(asked) and bool(asked & _platforms(text))


# "Who is the current editor-in-chief?", "Who was the first public editor?", "Who wrote the playbook?": one person
# (or body) by name; "(ombudsman)" or "government" cut from a sentence on the topic names no one. So "Which company
# …?", "What organisation …?": "workshop" names none (the plural may ask for a kind: "regional tourism groups").
_ASKS_FOR_A_NAME = re.compile(r"^\s*who\s+(?:(?:is|was)\s+(?:the|its|their|his|her)\s|(?:originally\s+|first\s+)?"
                              r"(?:wrote|designed|founded|created|invented|built|composed|painted|coined|authored"
                              r"|developed|started|edits|edited|runs|ran|leads|led|owns|owned)\b)"
                              r"|^\s*(?:which|what)\s+(?:organi[sz]ation|company|agency|firm|university|college"
                              r"|newspaper|publisher|band|airline|bank|magazine|museum)\b", re.I)


def names_someone(span: str, question: str) -> bool:
    """False when the question asks for someone (or a company, a university …) by name (``_ASKS_FOR_A_NAME``) and the
    span names no one, or asks which ones ("Which states took part?") and the span only counts them ("12 states")."""
    question = own_question(question)
    which = _ASKS_WHICH_ONES.match(question)
    counted = _ONLY_COUNTS.fullmatch(span) if which else None
    if counted and stem(counted.group("noun").lower()) == stem(which.group("noun").lower()):
        return False
    if not _ASKS_FOR_A_NAME.match(question):
        return True
    span = span.strip(" \"'“”‘’([")
    return any(_could_be_name(m) for m in _NAME.finditer(span)) or bool(_BRAND.search(span) or _HANDLE.search(span))


_ASKS_WHICH_ONES = re.compile(r"\W*(?:which|what)\s+(?:(?!of\b)[a-z-]+\s+){0,2}?(?P<noun>[a-z]+[^s\W]s)\b(?!['’])",
                             re.I)
_ONLY_COUNTS = re.compile(rf"\W*(?:the\s+|all\s+|some\s+)?(?:\d[\d,]*|(?!one\b){_NUMBER_WORD}|several|many"
                          r"|a\s+few|dozens)\s+(?:[\w-]+\s+){0,2}?(?P<noun>[a-z]+)\W*", re.I)
_BRAND = re.compile(r"\b(?:[a-z]+|\d+)[A-Z][\w’'.-]*")  # a name not capitalised first: "iLink", "eBay", "18F", "3M"
_HANDLE = re.compile(r"(?<![\w.])@[A-Za-z0-9_][\w-]*")  # someone by a handle: "— @alloy, …"


# "What does SME stand for?", "What does the acronym FIS stand for?", "DECnet stands for what?"
_ASKS_EXPANSION = re.compile(
    r"(?:\bwhat\s+(?:does|do|did)\s+(?:the\s+)?(?:(?:name|word|acronym|abbreviation|initials|letters?)\s+)?"
    r"[\"“'‘]?(?P<term>[A-Za-z][\w&.-]*?)[\"”'’]?(?:\s+in\s+[^?]*?)?\s+stands?\s+for\b"
    r"|^\W*(?P<first>[A-Za-z][\w&.-]*?)\s+stands?\s+for\s+what\b)", re.I)
# Words an expansion may leave out of its initials: "System of Records Notice (SORN)", "… Risk and Authorization …"
_EXPANSION_GAPS = frozenset("of and the for in on to at a an &".split())


def asked_expansion(question: str) -> str | None:
    """The letters of the abbreviation whose expansion a question asks for ("What does FedRAMP stand for?" ->
    "FRAMP", "what does gui stand for" -> "GUI"); None for other questions, or a name that is no abbreviation
    ("What does Bash stand for?")."""
    match = _ASKS_EXPANSION.search(question)
    if match is None:
        return None
    term = match.group("term") or match.group("first")
    capitals = "".join(c for c in term if c.isupper())
    if len(capitals) >= 2:
        return capitals
    if term.isalpha() and (term.islower() or term.isupper()) and 2 <= len(term) <= 6:
        return term.upper()
    return None


# "`ls`, which is short for listing": a name not spelled by initials, said in words what it abbreviates
_SAYS_SHORT_FOR = re.compile(r"\b(?:short|shorthand|abbreviation|abbreviated|acronym)\s+(?:for|of|from)\b"
                             r"|\bstands\s+for\b", re.I)


def expands(sentence: str, letters: str) -> bool:
    """Whether the sentence holds a run of words whose initials spell ``letters`` ("subject matter experts" for SME,
    "Federal Risk and Authorization Management Program" for FRAMP), small words in it counted or not."""
    found = re.findall(r"[A-Za-z][\w'’]*", sentence)  # "command-line interface" spells CLI

    def spells(at: int, done: int) -> bool:
        if done == len(letters):
            return True
        if at >= len(found):
            return False
        word = found[at]
        return ((word[0].upper() == letters[done] and spells(at + 1, done + 1))
                or (done > 0 and word.lower() in _EXPANSION_GAPS and spells(at + 1, done)))

    return any(spells(at, 0) for at in range(len(found)) if found[at] != letters)


# "When was Henry of Navarre born?", "In what year was Kaffa founded?": a date asked for one event of a life or a
# body, which a sentence that dates something else beside the name does not give ("In 1598 … Henry of Navarre …");
# "die" as the question's last verb, not a typo's ("When die Tesla turn his attention …?")
_ASKS_EVENT_DATE = re.compile(r"^\W*(?:(?:and|so)\s+)?(?:when|(?:in\s+)?(?:what|which)\s+year)\b[^?]*?"
                              r"\b(born|died|die(?=\s*[?.,]|\s*$|\s+(?:in|at|on|of|from|and)\b)|founded)\b", re.I)
# How a sentence says so: "(born July 11, 1951)", "(1712–1778)", "(d. 1560)", "was established", "launched"
_SAYS_EVENT = {
    "born": re.compile(r"\b(?:born|birth\w*|native)\b|\(\s*b\.\s|\(\s*(?:c\.\s*)?\d{3,4}\s*[–-]", re.I),
    "died": re.compile(r"\b(?:died|dies|death\w*|dead|deceased|killed|murdered|executed|assassinated|perished"
                       r"|pass(?:ed|es)\s+away|passing)\b|\(\s*d\.\s"
                       r"|[–-]\s*\d{3,4}\s*\)", re.I),
    "founded": re.compile(r"\b(?:found\w*|establish\w*|creat\w*|form(?:ed|ing|ation)|start\w*|set\s+up|beg[au]n"
                          r"|incorporat\w*|charter\w*|open\w*|launch\w*|built|organi[sz]\w*|since)\b", re.I),
}


def unsaid_event(sentence: str, question: str) -> bool:
    """Whether the question asks when someone was born or died, or something was founded, and the sentence says
    nothing of that event: "In 1598, when Henry of Navarre … succeeded to the French throne" dates no birth."""
    asked = _ASKS_EVENT_DATE.search(question)
    if asked is None:
        return False
    event = asked.group(1).lower()
    return not _SAYS_EVENT["died" if event == "die" else event].search(sentence)


def answers_kind(sentence: str, question: str) -> bool:
    """False when the question asks for a date, number or place and the sentence offers none (for what an
    abbreviation stands for: no run of words that spells it, nor says what it is short for; for a price or a cost: no
    amount of money; for an age: no age, a bare year; for an email address, a website or a phone number: none of that
    form, and for whom to contact no one by name either; for a temperature, a size in bytes, a share or a weight: no
    such measure; for a quantity by its noun, "the population": no number), when the question names a year or an
    operating system and the sentence only others, and when the sentence is a byline and the question asks neither
    when (of the past) nor who wrote or published the document. "Where" asked of a position, a rank, a source or a
    file's place needs no place name."""
    question = own_question(question)  # "How do I know when it is done? (How much water …?)" asks no amount
    kind = question_type(question)
    if is_byline(sentence) and not _ABOUT_AUTHORSHIP.search(question) and (kind != "when"
                                                                          or _WHEN_AHEAD.match(question)):
        # a news post's "today" happened on its byline's date: "when" questions of the past keep it, not those of
        # what is or will be ("When is the deadline for nominations?")
        return False
    if _other_years(sentence, question, kind) or _other_platforms(sentence, question):
        return False
    if asks_for_money(question):
        return bool(_MONEY.search(sentence))
    if asks_for_age(question):
        return bool(_AGE.search(sentence))
    form = contact_form(question) or measure_form(question)
    if form is not None:  # "Who do I contact …?" is also answered by whom: "please contact Andrew Gallant"
        return bool(form.search(sentence)) or (bool(_WHOM_TO_CONTACT.match(question))
                                                and bool(candidates(sentence, "who", question)))
    if _ASKS_MEASURED.match(question):  # "What was the Star's daily circulation in 2011?": a number, as "how many"
        return bool(candidates(sentence, "how many", question))
    letters = asked_expansion(question)
    if letters is not None:
        return expands(sentence, letters) or bool(_SAYS_SHORT_FOR.search(sentence))
    if kind == "where" and (_WHERE_WITHIN.match(question) or _WHERE_FROM.match(question)
                            or _WHERE_RANKED.match(question) or _BESIDE_OR_PATH.search(sentence)):
        # "Where in a URL do the pairs go?" asks a position ("after the `?`"), "Where did they get the idea?" a
        # source ("inspired by Mozilla's …"), neither a place name; a file is put "adjacent to the script" or in a
        # folder ("`~/.config/fd/ignore`")
        return True
    return kind not in TYPED or bool(candidates(sentence, kind, question))


# "What is the population of Warsaw?", "What's the default max number of redirects?": a quantity by its noun
_ASKS_MEASURED = re.compile(r"^\W*what(?:['’]s|\s+is|\s+was|\s+are|\s+were)\s+(?:the\s+|its\s+|their\s+)?"
                            r"(?:(?!of\s)[\w'’-]+\s+){0,3}?(?:population|circulation|attendance|capacity"
                            r"|enrol?lment|area|length|height|width|depth|elevation|altitude|diameter|radius|distance"
                            r"|duration|life\s+expectancy|gdp|revenue|income|salary|number\s+of)\b"
                            r"(?!\s+(?:called|named|known|where|that|which|who))", re.I)  # "the area called …": a name
# "Where is Brazil ranked in soybean production?" asks a rank ("second-largest"), no place
_WHERE_RANKED = re.compile(r"^\s*where\s+(?:do|does|did|is|was|are|were)\s+[^?]*?\b(?:rank(?:s|ed)?|rate[sd]?)\b", re.I)
_WHERE_WITHIN = re.compile(r"^\s*where\s+(?:in|within|inside)\s+(?:a|an|the|this|that|its|their)\s+[a-z]", re.I)
_BESIDE_OR_PATH = re.compile(r"\b(?:adjacent|next)\s+to\b|\balongside\b|\bin\s+the\s+same\s+(?:directory|folder)\b"
                             r"|`[^`\n]*[\w~.%][/\\][\w.%-][^`\n]*`")
_WHERE_FROM = re.compile(r"^\s*where\s+(?:do|does|did|is|was|are|were)\s+[^?]*?\b(?:(?:get|got|find|found|take"
                         r"|took)\s+(?:the|their|its|his|her|this|that)\s+(?:idea|inspiration|name)|(?:idea"
                         r"|inspiration|name|term|word|concept|title)s?\b[^?]*?\b(?:come|came|originate|derive)"
                         r"[sd]?\b)", re.I)


def short_answer(sentence: str, question: str) -> tuple[int, int] | None:
    """Offsets (relative to the sentence) of the short answer, or None when the question is open."""
    kind = answer_kind(question)
    if kind is None:
        return None
    spans = candidates(sentence, kind, question)
    if len(spans) <= 1:
        return spans[0] if spans else None
    weights = SPAN_WEIGHTS[kind]
    scores = [sum(w * f for w, f in zip(weights, row)) for row in span_features(sentence, spans, question)]
    return spans[max(range(len(spans)), key=lambda i: (scores[i], -spans[i][0]))]


SPAN_FEATURES = ("log_distance", "adjacent", "anchors_left", "anchors_right", "before_anchors", "after_anchors",
                 "log_words", "one_word", "at_start", "after_cue", "after_by", "after_copula", "before_comma",
                 "after_comma_or_bracket", "at_end", "capitalised", "has_digit", "relative_position", "distance_rank",
                 "possessive")
# Words before a span that often introduce an answer: "designed by X", "known as X", "was X".
_CUES = frozenset("by of as is was were are called named known in at from to the and than on".split())
_COPULAS = frozenset("is was were are".split())


def span_features(sentence: str, spans: list[tuple[int, int]], question: str) -> list[tuple[float, ...]]:
    """SPAN_FEATURES for each candidate span: distance to the question's words (in words), on which
    side of them it lies, its length and shape, and the words and punctuation around it."""
    asked = question_terms(question) - STOP_WORDS
    tokens = _sentence_words(sentence)
    ends = [span[1] for span, _, _ in tokens]
    anchors = [i for i, (_, _, token_stem) in enumerate(tokens) if token_stem in asked]
    last = max(len(tokens) - 1, 0)
    rows, distances = [], []
    for start, end in spans:
        first_word = min(bisect_right(ends, start), last)  # the word the span starts in
        last_word = min(bisect_right(ends, end - 1), last)
        if anchors:
            distance = min(max(a - last_word, first_word - a, 0) for a in anchors)
            left = sum(1 for a in anchors if 0 < first_word - a <= 4)
            right = sum(1 for a in anchors if 0 < a - last_word <= 4)
            before, after = float(last_word < anchors[0]), float(first_word > anchors[-1])
        else:
            distance, left, right, before, after = first_word, 0, 0, 0.0, 0.0
        distances.append(distance)
        previous_word = tokens[first_word - 1][1] if first_word > 0 else ""
        text = sentence[start:end]
        count = max(len(words(text)), 1)
        following = sentence[end:end + 2].strip()[:1]
        preceding = sentence[max(0, start - 2):start].strip()[-1:]
        rows.append([math.log1p(distance), float(distance == 0), left, right, before, after,
                     math.log1p(count), float(count == 1), float(first_word == 0),
                     float(previous_word in _CUES), float(previous_word == "by"), float(previous_word in _COPULAS),
                     float(following in (",", ")", ";")), float(preceding in ("(", ",")),
                     float(following == "." or end >= len(sentence) - 1),
                     sum(1 for w in text.split() if w[:1].isupper()) / count,
                     float(any(ch.isdigit() for ch in text)), first_word / max(len(tokens), 1)])
    order = sorted(range(len(spans)), key=lambda i: (distances[i], i))
    rank = {i: position for position, i in enumerate(order)}
    # a possessive modifies what follows ("Tajikistan's border with Afghanistan"): rarely the answer itself
    possessive = [float(bool(re.search(r"['’]s?$", sentence[s:e]))) for s, e in spans]
    return [tuple(row + [min(rank[i], 3), possessive[i]]) for i, row in enumerate(rows)]


# Fitted by bench/tune_shortanswer.py (listwise, exact-match labels, articles 1–24); one row per kind.
SPAN_WEIGHTS: dict[str, tuple[float, ...]] = {
    "how many": (-0.9102, -1.7855, 0.1062, 0.4376, -0.6876, -0.3889, 0.0726, 0.3957, 1.2508, -0.5031, 1.0524, 0.8295,
                 -1.1217, -0.6668, -0.0665, -2.2404, 0.2575, 0.4299, -0.2282, 0.0000),
    "what": (-0.8629, -0.6264, 0.2835, 0.1689, -0.0514, -0.3185, -1.1309, -0.8207, 0.0035, 0.2641, -0.6829, -1.0869,
             0.2189, -0.4224, 0.4831, 0.2095, 1.1923, 0.1115, -0.0244, -1.6945),
    "what is": (-1.0542, -0.6762, 0.1593, 0.2204, 0.0006, -0.1416, 0.3110, -0.0234, 1.6408, -0.1160, -0.6488, 0.1547,
                0.4855, -0.3998, 0.9201, -0.3685, 2.0958, 0.9347, -0.2547, 1.1948),
    "when": (-0.8521, 0.5309, 0.4191, 0.1504, 0.2465, -0.0095, 1.1047, 0.4656, 0.0000, 0.6120, 1.5844, -3.3557,
             0.9007, -0.8158, 1.0116, -1.2470, 0.1398, 0.2593, -0.3867, 0.0000),
    "where": (-0.8632, -1.0478, 0.9953, -0.5946, -1.3651, -0.2557, -1.0260, -0.7105, 0.3747, 1.0863, 0.0000, -3.3193,
              0.4677, 3.2783, 0.6670, 1.0917, -1.3044, 1.2635, 0.0894, -7.4853),
    "who": (-0.7686, -2.6034, 0.1821, 0.3492, -0.3848, -0.2084, -0.3218, -1.6496, 0.1302, -0.8302, 2.0693, 0.1501,
            0.0791, 0.0474, 0.5791, 3.1189, -2.5946, -0.6903, 0.1333, -2.0322),
}
