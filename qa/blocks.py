"""Markdown structure as character ranges of the original text: headings, paragraphs, code, list items, table rows.

Real documents are not SQuAD paragraphs. A heading is structure (the section path of what follows),
never a sentence to quote; a fenced or indented code block is one unit that keeps its line breaks;
each list item and each table row is one unit. markdown-it-py (CommonMark, plus tables) finds the
blocks; every range points into the text as written, so quotes stay verbatim.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from qa.text import QUESTION_WORDS, STOP_WORDS, own_question, stem, terms, words
from qa.types import Article

MARKDOWN_SUFFIXES = (".md", ".markdown", ".docx")  # a DOCX is read as the Markdown qa.documents writes
SECTION_SEPARATOR = " › "

_ITEM_MARKER = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+\[[ xX]\])?[ \t]*")
_QUOTE_MARKER = re.compile(r"(?:>[ \t]?)+[ \t]*")
_INLINE_MARKUP = re.compile(r"[`*_]+|\[([^\]]*)\]\([^)]*\)")


@dataclass(frozen=True, slots=True)
class Block:
    """``kind``: heading, text, code, item or row; ``group`` numbers the list an item belongs to;
    ``outer_end``: where a fenced code block's closing fence ends (a quote that leads into the code
    takes it along, so the Markdown it shows is balanced)."""

    kind: str
    start: int
    end: int
    level: int = 0
    heading: str = ""
    group: int = -1
    outer_end: int = -1


_LAYOUT = re.compile(r"```|~~~|\n[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]|\n {4}|^ {4}|\n\|")


def has_layout(text: str) -> bool:
    """A quote whose line breaks carry meaning (code, a list, table rows); a sentence that a
    plain-text file merely wraps does not count."""
    return bool(_LAYOUT.search(text))


def leads_in(text: str) -> bool:
    """A unit that is a sentence ending in ':' with the code block or list it announces (one unit by the
    chunker's rule), however its sentence wraps."""
    layout = _LAYOUT.search(text)
    return layout is not None and text[: layout.start()].rstrip().endswith(":")


# "Languages: Dzongkha (official) 24%, …", "National symbol(s): …", "Author: David Goodger": a fact sheet's
# or a header's field, a label of at most four words (and a bracket) before a colon.
_LABELLED_FIELD = re.compile(r"([A-Z][A-Za-z/-]*(?: [A-Za-z/-]+){0,3})(?: ?\([A-Za-z/ -]+\))?: \S")
_FIELD_VERBS = frozenset("is are was were be include includes included has have had do does did says said wrote "
                         "forms comprises consists".split())


def is_labelled_field(text: str, before: str = "\n", after: str = "\n") -> bool:
    """A quote that is one field of a fact sheet or a document header: a line of its own (``before`` and
    ``after`` are the characters around it, empty at the ends of the text) that starts with a short label
    and a colon. "There are three types of rock: …" is a sentence, not a field."""
    return field_label(text, before, after) is not None


def field_label(text: str, before: str = "\n", after: str = "\n") -> str | None:
    """The label of a labelled field (``is_labelled_field``), else None."""
    match = _LABELLED_FIELD.match(text)
    if not match or before not in ("", "\n") or after not in ("", "\n"):
        return None
    return None if _FIELD_VERBS.intersection(match.group(1).lower().split()) else match.group(1)


def names_another_field(question: str, label: str, text: str) -> bool:
    """Whether the question takes a field's first word for another thing, or qualifies its last word otherwise: "What
    is Bhutan's national dish?" asks for no "National symbol(s): …", "What was Bhutan's inflation rate?" for no "Real
    GDP growth rate: …". Only labels of two words or more, and only when neither the label nor the field says what
    the question's word next to them names (a name before the last word, "Bhutan's rate", qualifies nothing). A
    question naming what the field lists asks about it ("How much of Bhutan's export trade goes to India?" of
    "Exports - partners: India 92%, …"), and only the asker's words count, not a follow-up's context after them."""
    label_stems = [stem(w) for w in words(label)]
    if len(label_stems) < 2:
        return False
    asked_text = own_question(question)
    if any(re.search(rf"\b{re.escape(name)}\b", text) for name in _INNER_CAPITALISED.findall(asked_text)):
        return False
    said = set(label_stems) | {stem(w) for w in words(text)}
    raw = words(asked_text)
    asked = [stem(w) for w in raw]
    for at, word in enumerate(asked[:-1]):
        if word == label_stems[0] and asked[at + 1] not in STOP_WORDS and asked[at + 1] not in said:
            return True
    for at, word in enumerate(asked[1:], 1):
        qualifier = asked[at - 1]
        if (word == label_stems[-1] and qualifier not in STOP_WORDS and qualifier.isalpha() and qualifier not in said
                and not raw[at - 1].endswith(("'s", "’s"))  # "bhutan's anthem": whose, not which
                and re.search(rf"(?<![\w'’-]){re.escape(raw[at - 1])}(?![\w'’-])", asked_text)):  # as written: no name
            return True
    return False


# A capitalised word inside the question: a name, not the first word
_INNER_CAPITALISED = re.compile(r"(?<=\w[\s,])[A-Z][\w-]+")


# "the fifth step", "the 2nd level", "the last step", "Play 4", "step #3": a question naming a unit of a numbered
# list or a numbered section by its place. Only nouns that name such units count ("the first president" does not).
_UNIT_NOUNS = ("step|stage|phase|play|level|item|point|rule|principle|section|chapter|part|tip|lesson|guideline"
               "|instruction|requirement|task|practice|pillar|criterion|goal|exercise|direction|idea|reason|way")
_ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
                  "eleventh", "twelfth")
_ORDINAL_PLACE = re.compile(rf"\b({'|'.join(_ORDINAL_WORDS)}|\d{{1,2}}(?:st|nd|rd|th)|last|final)"
                            rf"\s+(?:[a-z]+\s+)?({_UNIT_NOUNS})s?\b", re.I)
_NUMBERED_PLACE = re.compile(rf"\b({_UNIT_NOUNS})\s+(?:#|no\.\s*|number\s+)?(\d{{1,2}})\b(?!\s*(?:%|[.,:]\d))", re.I)
_NUMBERED_HEADING = re.compile(r"(\d{1,2})(?:[.):]|\s)")
_ORDERED_MARKER = re.compile(r"[ \t]*(\d{1,9})[.)][ \t]*$")
LAST = 0  # the number of "the last step": the last item of its list
IN_PLACE = 0.9  # a named section's units after its opening
OVERVIEW_IN_PLACE = 0.5  # the same, when the question asks what the section is about: its opening says so
OPTION_NAMED = 0.5  # a unit that holds the command-line option a question names: a lead, not the answer itself


@dataclass(frozen=True, slots=True)
class Place:
    """A unit asked for by its place: ``number`` (1-based, ``LAST`` for the last) and the unit's noun;
    ``overview`` when the question asks what the unit is or is about, not something in it."""

    number: int
    noun: str
    overview: bool = False
    about: tuple[str, ...] = ()  # what it is asked of ("of the hummus recipe"), as stemmed content words


# "And the step after that?", "What's next?", "What comes before it?": a unit asked for by its place next to the last
# answer's, the noun named or not
_NEXT = re.compile(rf"\b(?:next|after\s+(?:that|this|it)|then\s+what|following\s+(?:one|{_UNIT_NOUNS}))\b", re.I)
_PREVIOUS = re.compile(rf"\b(?:previous|before\s+(?:that|this|it)|preceding|prior\s+(?:one|{_UNIT_NOUNS}))\b", re.I)
_UNIT_NOUN = re.compile(rf"\b({_UNIT_NOUNS})s?\b", re.I)


def asked_next(question: str) -> tuple[int, str | None] | None:
    """+1 for a follow-up asking for the unit after the last answer's ("and the step after that?"), -1 for the one
    before it, with the unit noun it names; None for any other question."""
    step = 1 if _NEXT.search(question) else -1 if _PREVIOUS.search(question) else 0
    if not step:
        return None
    noun = _UNIT_NOUN.search(question)
    named = {stem(noun.group(1).lower())} if noun else set()
    if set(terms(question)) - named - _PLACE_WORDS:  # "What is the next version of Rust?" asks about a version
        return None
    return step, noun.group(1).lower() if noun else None


def ordinal(number: int) -> str:
    """"sixth" for 6, as ``asked_place`` reads it ("12th" past twelve): a word, which no document need mention."""
    if 1 <= number <= len(_ORDINAL_WORDS):
        return _ORDINAL_WORDS[number - 1]
    return f"{number}{'th' if 10 <= number % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th')}"


_PLACE_WORDS = frozenset(stem(w) for w in "next after before previous preceding prior following then come comes "
                                          "happen happens do one what what's".split())


@lru_cache(maxsize=1024)  # every stage asks (retrieval, scoring, the quote): parse each question once
def asked_place(question: str) -> Place | None:
    """The numbered unit a question asks about ("What is the fifth step?", "What is Play 4 about?"), if any."""
    ordinal = _ORDINAL_PLACE.search(question)
    numbered = _NUMBERED_PLACE.search(question)
    subject = asked_subject(question)
    if ordinal and (numbered is None or ordinal.start() < numbered.start()):
        word = ordinal.group(1).lower()
        number = LAST if word in ("last", "final") else (
            _ORDINAL_WORDS.index(word) + 1 if word in _ORDINAL_WORDS else int(word[:-2]))
        return Place(number, ordinal.group(2).lower(), _opens(subject, ordinal.group()), _asked_of(question, ordinal))
    if numbered:
        return Place(int(numbered.group(2)), numbered.group(1).lower(), _opens(subject, numbered.group()),
                     _asked_of(question, numbered))
    return None


def _asked_of(question: str, place: re.Match) -> tuple[str, ...]:
    """The content words of the "of / for / in …" phrase right after a place ("the fifth step of making pizza")."""
    rest = _OF.match(" " + question[place.end() :])
    return tuple(terms(question[place.end() + rest.end() - 1 :])) if rest else ()


def _opens(subject: str | None, place: str) -> bool:
    """Whether the subject asked about is the place itself ("the fifth step of the recipe"), not something at it
    ("the consequence at level 4")."""
    if subject is None:
        return False
    first = subject.split(maxsplit=1)
    rest = first[1] if len(first) > 1 and first[0].lower() in _ARTICLES else subject
    return rest.lower().startswith(place.lower())


# "What is ripgrep?", "What is the Contributor Covenant about?", "What does PEP 257 cover?", "Tell me about fd":
# a question about a whole subject, which the opening of the document about it answers.
_OVERVIEW = re.compile(
    r"\s*(?:(?:what|who)\s+(?:is|are|was|were)\s+(?P<what>.+?)(?:\s+about)?"
    r"|what\s+(?:does|do|did)\s+(?P<does>.+?)\s+(?:cover|describe|explain|discuss|do|say|say\s+about)"
    r"|(?:(?:can\s+you\s+)?tell\s+me\s+about|describe|summari[sz]e|give\s+(?:me\s+)?an?\s+(?:overview|summary)\s+of)"
    r"\s+(?P<tell>.+?))\s*[?.!]*\s*", re.I)
_ARTICLES = frozenset(("the", "a", "an"))
_KEYWORD_QUERY_WORDS = 4
# commands and auxiliaries a short query starts with: "install ripgrep" or "explain fd" ask to do, not about
_NOT_KEYWORDS = frozenset("install uninstall run use make get set add remove update upgrade explain list show give "
                          "find search compare define tell describe summarize summarise please".split())
# "What is in step 3?", "What is there to see?": no subject asked about as a whole
_NOT_SUBJECTS = frozenset("in on at for from to by with of into there it this that".split())
_TITLE_CORE = re.compile(r"\s+[(–—]|\s+-\s|:\s")  # "ripgrep (README)", "PEP 257 – Docstring Conventions"


@lru_cache(maxsize=1024)
def asked_subject(question: str) -> str | None:
    """The subject of a question that asks what something is or is about ("What is the Contributor Covenant
    about?" -> "the Contributor Covenant"), if it is one."""
    match = _OVERVIEW.fullmatch(question)
    if match is None:
        return _keywords(question)
    subject = (match.group("what") or match.group("does") or match.group("tell")).strip()
    if not re.search(r"\w", subject) or subject.split()[0].lower() in _NOT_SUBJECTS:
        return None
    return subject


def _keywords(question: str) -> str | None:
    """A query of a few words and no question ("ripgrep", "hummus ingredients") names what it asks about."""
    found = question.strip().rstrip("?.!").split()
    if not 1 <= len(found) <= _KEYWORD_QUERY_WORDS or "?" in question:
        return None
    first = found[0].lower()
    if first in QUESTION_WORDS or first in STOP_WORDS or first in _NOT_KEYWORDS:
        return None
    return " ".join(found)


def asks_summary(question: str) -> bool:
    """Whether a question asks for an account of something rather than a fact about it ("Tell me about fd",
    "Describe Play 4", "Summarize the playbook"): a passage answers it, no phrase does. "What is Play 4 about?" and
    "What does X do?" still have theirs ("agile and iterative practices"; SQuAD's "What was the protest about?")."""
    match = _OVERVIEW.fullmatch(question)
    return match is not None and match.group("tell") is not None and asked_subject(question) is not None


def asked_definition(question: str) -> str | None:
    """What a question asks to be defined ("What is a linker?" -> "linker"), without its article; None when it asks
    for an attribute of something ("What is the capital of Bhutan?"), a whole document's or section's account, or
    about a name with digits ("What is Play 3?")."""
    match = _OVERVIEW.fullmatch(question)
    subject = match.group("what") if match is not None else None
    if not subject or match.group(0).rstrip("?.! ").lower().endswith("about"):
        return None
    found = subject.split()
    if found[0].lower() in _ARTICLES:
        found = found[1:]
    if not 1 <= len(found) <= _DEFINED_WORDS or re.search(r"\d", subject):
        return None
    if any(word.lower() in _NOT_DEFINED for word in found):
        return None
    return " ".join(found)


_DEFINED_WORDS = 5
# words that make the subject an attribute or a clause, not a term: "the capital of Bhutan", "it", "the reason why"
_NOT_DEFINED = frozenset("of in on at for from to by with into about it this that there which who what when where why "
                         "how do does did their its his her my your our".split())


def defines(sentence: str, term: str) -> bool:
    """Whether the sentence says what ``term`` is: "The National Accuracy Clearinghouse (NAC) is a data matching
    system …", "… a _linker_, which is a program …", "ripgrep, a line-oriented search tool, …", "structural
    geology (the study of positions of rock units …)"; emphasis aside, in either number ("query parameters are the
    …" defines "query parameter")."""
    plain = re.sub(r"[*_`]", "", sentence).lower()
    named = r"\s+".join(re.escape(w) for w in term.lower().split()) + r"(?:e?s)?"
    copula = r"\s+(?:is|are|was|were)\s+(?:a|an|the|one|defined\s+as|known\s+as)\b"
    gloss = r"\s*\((?:a|an|the)\s+[a-z-]+\s+[a-z-]+"  # "(the study of …)", not "(the TEU)"
    return re.search(rf"(?<![\w-]){named}(?:\s*\([^)]*\))?(?:{copula}|,\s*(?:which|that)\s+(?:is|are)\s+(?:a|an|the)\b"
                     rf"|,\s+(?:a|an)\s|\s+(?:refers?\s+to|means)\b|{gloss})", plain) is not None


def title_words(title: str) -> tuple[str, ...]:
    """What a title names, as words: its part before a bracket, a dash or a colon, without a leading article
    ("ripgrep (README)" -> ("ripgrep",), "The Field of Waterloo" -> ("field", "of", "waterloo"))."""
    found = _normal(_TITLE_CORE.split(title, maxsplit=1)[0]).split()
    while found and found[0] in _ARTICLES:
        found = found[1:]
    return tuple(found)


def title_keys(title: str) -> set[tuple[str, ...]]:
    """The subjects (as ``title_words``) that name the document titled so: the title's words, or at least its
    first two ("the Contributor Covenant" names "Contributor Covenant Code of Conduct (version 2.1)")."""
    named = title_words(title)
    return {named[:size] for size in (len(named), *range(2, len(named)))} if named else set()


# "Running scripts (uv documentation)": the bracket names the project the document belongs to, before a word that
# says what kind of document it is
_PROJECT_IN_BRACKETS = re.compile(r"\(\s*(?:the\s+)?(?P<project>[^()]+?)\s+(?:documentation|docs|tutorial|user guide|"
                                  r"guide|manual|handbook|reference|readme)\b[^()]*\)", re.I)


def title_project(title: str) -> str:
    """The project a title's bracket says its document belongs to, as written ("Running scripts (uv documentation)"
    -> "uv", "Query Parameters (FastAPI tutorial)" -> "FastAPI"); empty without one. A question that names it
    asks of that project, as one that names the title does."""
    match = _PROJECT_IN_BRACKETS.search(title)
    return " ".join(match.group("project").split()) if match else ""


def names_title(subject: str, title: str) -> bool:
    return title_words(subject) in title_keys(title)


# "What are the ingredients of the hummus?", "List the features of fd", "What is the scope of the Code of Conduct?":
# a question that asks for what a section holds, by the section's heading.
_LIST_REQUEST = re.compile(r"\s*(?:list|show(?:\s+me)?|give\s+me|name)\s+(?P<what>.+?)\s*[?.!]*\s*", re.I)
_OF = re.compile(r"\s+(?:of|for|in|from|on|about|to)\s+", re.I)
_POSSESSIVES = frozenset("our your my their its his her".split())
LIST_QUOTE_CHARS = 1500  # a list quoted whole ends with the last item that fits


@dataclass(frozen=True, slots=True)
class Heading:
    """What a question asks for by a heading: ``words``, the phrase asked about (``heading_words``), and ``about``,
    the content words of what it is asked of ("of the hummus", "for a margarita"), stemmed. ``within``: a topic the
    heading need only contain ("hosting" of "Play 9: Deploy in a flexible hosting environment")."""

    words: tuple[str, ...]
    about: tuple[str, ...] = ()
    within: bool = False


# "What does the playbook say about hosting?": the section on that topic, whose heading names it among other words
_SAYS_ABOUT = re.compile(r"\s*what\s+(?:does|do|did)\s+(?P<work>.+?)\s+(?:say|recommend|suggest|advise)\s+"
                         r"(?:about|on|regarding)\s+(?P<topic>.+?)\s*[?.!]*\s*", re.I)
# "Who wrote PEP 257?", "When was PEP 257 created?": a header field by its label ("Author:", "Created:")
_RECORDED = re.compile(r"\s*(?:who\s+(?P<wrote>wrote|authored)\s+(?P<work>.+?)"
                       r"|when\s+(?:was|were)\s+(?P<what>.+?)\s+(?:last\s+)?(?P<done>created|published|posted|"
                       r"released|updated|modified|accepted|resolved))\s*[?.!]*\s*", re.I)


@lru_cache(maxsize=1024)
def asked_heading(question: str) -> Heading | None:
    """The heading of the section a question asks for ("What are the ingredients of the hummus?" ->
    Heading(("ingredi",), ("hummus",))): the phrase asked about, before any "of / for / in …"; "Who wrote X?" asks for
    X's "Author" field, "When was X created?" for its "Created" one."""
    says = _SAYS_ABOUT.fullmatch(question)
    if says is not None:
        topic = heading_words(says.group("topic"))
        return Heading(topic, tuple(terms(says.group("work"))), within=True) if topic else None
    recorded = _RECORDED.fullmatch(question)
    if recorded is not None:
        label = "author" if recorded.group("wrote") else recorded.group("done").lower()
        return Heading((stem(label),), tuple(terms(recorded.group("work") or recorded.group("what"))))
    subject = asked_subject(question)
    if subject is None:
        request = _LIST_REQUEST.fullmatch(question)
        subject = request.group("what") if request else None
    if not subject:
        return None
    phrase, *rest = _OF.split(subject, maxsplit=1)
    asked = heading_words(phrase)
    return Heading(asked, tuple(terms(rest[0])) if rest else ()) if asked else None


@lru_cache(maxsize=4096)  # a section's heading, once for all its units
def heading_words(text: str) -> tuple[str, ...]:
    """A heading or a phrase as stemmed words, without a leading article or possessive ("Our Standards" ->
    ("standard",)), so "the ingredients" and "## Ingredients" compare equal."""
    return _phrase_words(title_words(text))


def field_match(article: Article, start: int, end: int, heading: Heading) -> float:
    """1 when the unit ``article.text[start:end]`` is a labelled field (``is_labelled_field``) whose label is what a
    question asks for by its heading ("What is the area of Bhutan?" and "Area: total: 38,394 sq km"), else 0."""
    text = article.text
    label = field_label(text[start:end], text[start - 1 : start] if start else "", text[end : end + 1])
    return 0.0 if label is None else float(_names_heading(heading, _phrase_words(_normal(label).split()), article))


def _phrase_words(found) -> tuple[str, ...]:
    found = list(found)
    while found and (found[0] in _POSSESSIVES or found[0] in _ARTICLES):
        found = found[1:]
    return tuple(stem(word) for word in found)


def _names_heading(heading: Heading, named: tuple[str, ...], article: Article,
                   scope: Callable[[], str] | None = None) -> bool:
    """The asked words are the heading's ``named``, or end with them ("the hummus ingredients" asks for
    "Ingredients"), and the article's title or the text ``scope`` gives (default: all of it) mentions the rest and
    what they are asked of: "the ingredients of a margarita" are not the hummus's."""
    asked = heading.words
    if not named:
        return False
    if heading.within:
        if not set(asked) <= set(named):
            return False
        about = heading.about
    elif asked[-len(named):] != named and not (len(named) == 1 and asked and _same_heading(asked[-1], named[0])):
        return False
    else:
        about = (*asked[: -len(named)], *heading.about)
    return mentions(replace(article, text=scope()) if scope is not None else article, about)


# Headings that name the same part of a how-to or a recipe: "the steps" are under "## Directions"
_HEADING_SYNONYMS = tuple(frozenset(stem(w) for w in group.split()) for group in (
    "steps directions instructions method procedure preparation",
    "requirements prerequisites",
    "installation install installing setup",
))


def _same_heading(asked: str, named: str) -> bool:
    return any(asked in group and named in group for group in _HEADING_SYNONYMS)


# Words that name a kind of document, not what it is about ("the hummus recipe", "this README"): a document need
# not use them to be the one asked of.
_DOCUMENT_WORDS = frozenset(stem(w) for w in (
    "recipe article document doc docs documentation page post blog guide tutorial readme manual book chapter "
    "section lesson paper report text file website site playbook handbook".split()))


# What a how-to is for, in general words: "the steps to make hummus" asks the hummus recipe, made or not.
_DOING = frozenset(stem(w) for w in "make making do doing use using get getting cook cooking prepare preparing".split())


def mentions(article: Article, stems) -> bool:
    """Whether the article (title or text) has each of these stemmed words, bar stop words and words that name a
    kind of document: what a question says it asks of ("of making pizza") must be there."""
    wanted = {w for w in stems if w not in STOP_WORDS and w not in _DOCUMENT_WORDS and w not in _DOING and len(w) > 1}
    return not wanted or wanted <= _article_stems(article.title, article.text)


@lru_cache(maxsize=64)
def _article_stems(title: str, text: str) -> frozenset[str]:
    return frozenset(stem(word) for word in words(f"{title} {text}"))


def section_match(article: Article, offset: int, heading: Heading) -> float:
    """How surely the unit at ``offset`` holds what a question asks for by a section's heading (``asked_heading``):
    1 for the opening unit of a section so headed, ``IN_PLACE`` for its later units, else 0. The asked words may
    name more before the heading's ("the hummus ingredients" asks for "## Ingredients"). Markdown only."""
    if not is_markdown(article):
        return 0.0
    starts, paths = _sections(article.text, article.title)
    section = bisect_right(starts, offset) - 1
    if section < 0 or not paths[section]:
        return 0.0
    title = paths[section][-1]  # "Play 9: Deploy in a flexible hosting environment" is about hosting, after its colon
    named = tuple(stem(w) for w in words(title)) if heading.within else heading_words(title)
    if not _names_heading(heading, named, article, lambda: _section_scope(article.text, starts, paths, section)):
        return 0.0
    return 1.0 if offset <= _opening(article.text, starts[section], offset) else IN_PLACE


def _section_scope(text: str, starts: list[int], paths: list[tuple[str, ...]], section: int) -> str:
    """What a question asking for a section by its heading may find what it asks of in: the headings above the
    section, the document's opening and the section with its subsections. "The enforcement for a pattern of
    violations" is not "## Enforcement" when only another section's "### 4. Permanent Ban" speaks of a pattern."""
    opening = next(start for start, path in zip(starts, paths) if path)
    end = next((starts[later] for later in range(section + 1, len(starts))
                if len(paths[later]) <= len(paths[section])), len(text))
    return "\n".join((*paths[section], text[:opening], text[starts[section] : end]))


def section_scope(article: Article, offset: int) -> str | None:
    """What the top section holding ``offset`` is about (``_section_scope`` of the outermost heading above it: the
    document's opening and that section with all its subsections, so "### Impact" speaks of what its sibling
    "### What" names under one "## ClimateCorps.gov launch"); None outside Markdown sections."""
    if not is_markdown(article):
        return None
    starts, paths = _sections(article.text, article.title)
    section = bisect_right(starts, offset) - 1
    if section < 0 or not paths[section]:
        return None
    top = next(at for at in range(section, -1, -1) if paths[at] == paths[section][:1])
    return _section_scope(article.text, starts, paths, top)


def faq_match(article: Article, offset: int, question: str) -> float:
    """1 for the opening unit of a section whose heading is the question asked ("### Why shouldn't I use ripgrep?"
    for "Why shouldn't I use ripgrep?", or with one more word: "Why would I not want to use ripgrep?"; why, how or
    whether questions),
    ``OVERVIEW_IN_PLACE`` for its later units (the opening answers a FAQ), else 0. Markdown only."""
    asked = _question_key(question)
    if asked is None or not is_markdown(article):
        return 0.0
    starts, paths = _sections(article.text, article.title)
    section = bisect_right(starts, offset) - 1
    if section < 0 or not paths[section] or not paths[section][-1].rstrip().endswith("?"):
        return 0.0
    heading = _question_key(paths[section][-1])
    if heading is None or heading[:2] != asked[:2] or not heading[2] <= asked[2] or len(asked[2] - heading[2]) > 1:
        return 0.0
    return 1.0 if offset <= _opening(article.text, starts[section], offset) else OVERVIEW_IN_PLACE


# A command-line option as a question names it: a dash or two, then a letter, at a token's start ("-H", "--no-project";
# not "e-mail", "U.S.-UK" nor a dash between words).
_OPTION = re.compile(r"(?<![\w.-])--?[A-Za-z][\w-]*")


def writes_code(text: str) -> bool:
    """Whether the text writes code: in backquotes (inline or fenced) or a command-line option ("-H")."""
    return "`" in text or bool(_OPTION.search(text))


def asked_options(question: str) -> tuple[str, ...]:
    """The command-line options a question names ("What does fd -H do?", "`--no-project`"), as written: their case
    is their meaning ("-h" asks for help, "-H" for hidden files), which the ranking's lowercased words lose."""
    return tuple(dict.fromkeys(_OPTION.findall(question)))


def option_match(text: str, options: tuple[str, ...]) -> float:
    """How surely the unit speaks of the ``options`` (at most ``OPTION_NAMED``): the share of them its prose holds as
    written, each as a whole token ("-H" is not in "-HI", "-h" nor "--hidden"; it is in "`-H`" and "-P/--pcre2").
    Code blocks do not count: they use an option, where prose says what it does."""
    if not options:
        return 0.0
    prose = _CODE_BLOCK.sub(" ", text)
    found = sum(bool(re.search(r"(?<![\w-])" + re.escape(o) + r"(?![\w-])", prose)) for o in options)
    return OPTION_NAMED * found / len(options)


# A fenced code block (to its end, or the unit's) or an indented code line.
_CODE_BLOCK = re.compile(r"(`{3,}|~{3,}).*?(?:\1|\Z)|^(?: {4}|\t).*$", re.S | re.M)


_NEGATIONS = frozenset(("not", "no", "never", "cannot"))
# A FAQ's section answers why, how, whether: "What is the Shell?" may define it only in a later paragraph.
_FAQ_STARTS = frozenset("why how when where is are can does do should".split())


@lru_cache(maxsize=4096)
def _question_key(text: str) -> tuple[str, bool, frozenset[str]] | None:
    """A question as its question word, whether it is negated ("shouldn't", "not") and its content words, stemmed;
    None for text that asks nothing."""
    found = words(re.sub(r"n['’]t\b", " not", text.replace("can't", "can not").replace("won't", "will not")))
    if not found or found[0] not in _FAQ_STARTS:
        return None
    content = frozenset(stem(w) for w in found[1:] if w not in STOP_WORDS and w not in _NEGATIONS and len(w) > 1)
    return found[0], any(w in _NEGATIONS for w in found), content


def whole_list(article: Article, offset: int, limit: int = LIST_QUOTE_CHARS) -> tuple[int, int] | None:
    """The range of the whole list whose item starts at ``offset``, from its first item's marker ("1.", "-") to the
    last item that keeps the range within ``limit`` characters; None when ``offset`` starts no item of a list of two
    or more."""
    if not is_markdown(article):
        return None
    text = article.text
    blocks = markdown_blocks(text)
    at = bisect_right(_block_starts(text), offset) - 1
    if at < 0 or blocks[at].kind != "item" or blocks[at].start != offset:
        return None
    items = [b for b in blocks if b.kind == "item" and b.group == blocks[at].group]
    line = text.rfind("\n", 0, items[0].start) + 1
    start = line if _ITEM_MARKER.fullmatch(text, line, items[0].start) else items[0].start
    fitting = [b for b in items if b.end - start <= limit]
    return (start, fitting[-1].end) if len(fitting) > 1 else None


def lead_start(article: Article) -> int | None:
    """Where the article's opening prose starts: its first paragraph that is neither a heading, a byline
    ("*Published 2024-10-08 by 18F*") nor a header field ("PEP: 257"). None when no paragraph comes before its
    first list, table or code (a recipe that opens with its ingredients has no lead). Plain text: its start."""
    if not is_markdown(article):
        start, end = trim_range(article.text, 0, len(article.text))
        return start if start < end else None
    return _markdown_lead(article.text)


@lru_cache(maxsize=64)
def _markdown_lead(text: str) -> int | None:
    for block in markdown_blocks(text):
        if block.kind == "heading":
            continue
        if block.kind != "text":
            return None
        paragraph = text[block.start : block.end]
        if _BYLINE.fullmatch(paragraph) or is_labelled_field(paragraph):
            continue
        return block.start
    return None


_BYLINE = re.compile(r"([*_]).*\1", re.S)  # a paragraph wholly in emphasis: a byline or a date line


def place_match(article: Article, offset: int, place: Place) -> float:
    """How surely the unit starting at ``offset`` is the one ``place`` names: 1 for the item of an ordered list
    numbered so (the last item for ``LAST``) and for the opening unit of a section whose heading carries the
    number ("2. Warning", "Play 4: Build the service …"), ``IN_PLACE`` for the section's later units (the opening
    says what a section is about; ``OVERVIEW_IN_PLACE`` when that is what is asked), else 0. Markdown only: a plain
    text's numbers are not structure."""
    if not is_markdown(article) or not mentions(article, place.about):
        return 0.0
    text = article.text
    blocks = markdown_blocks(text)
    at = bisect_right(_block_starts(text), offset) - 1
    item = at >= 0 and blocks[at].kind == "item" and blocks[at].start == offset
    if item:
        marker = _ORDERED_MARKER.match(text, text.rfind("\n", 0, offset) + 1, offset)
        if marker:
            if place.number != LAST:
                return float(int(marker.group(1)) == place.number)
            following = blocks[at + 1] if at + 1 < len(blocks) else None
            return float(following is None or following.kind != "item" or following.group != blocks[at].group)
    starts, paths = _sections(text, article.title)
    section = bisect_right(starts, offset) - 1
    if section < 0 or not paths[section]:
        return 0.0
    if place.number == LAST:
        if not _last_numbered(paths, section, place.noun):
            return 0.0
    elif _heading_number(paths[section][-1], place.noun) != place.number:
        return 0.0
    if offset <= _opening(text, starts[section], offset) or item:
        return 1.0
    return OVERVIEW_IN_PLACE if place.overview else IN_PLACE


def place_at(article: Article, offset: int) -> tuple[int, str | None] | None:
    """The place of the unit at ``offset``, as ``place_match`` reads places: the number of its ordered-list item
    ("6. Add drops of water …" -> (6, None)), else the number its section's heading carries, with the heading's
    unit noun ("### Tip 4: Value the unplanned conversation" -> (4, "tip")); None when it has none. Markdown only."""
    if not is_markdown(article):
        return None
    text = article.text
    marker = _ORDERED_MARKER.match(text, text.rfind("\n", 0, offset) + 1, offset)
    if marker:
        return int(marker.group(1)), None
    starts, paths = _sections(text, article.title)
    section = bisect_right(starts, offset) - 1
    if section < 0 or not paths[section]:
        return None
    heading = paths[section][-1]
    named = _NUMBERED_PLACE.search(heading)
    if named and named.start() == 0:
        return int(named.group(2)), named.group(1).lower()
    numbered = _NUMBERED_HEADING.match(heading)
    return (int(numbered.group(1)), None) if numbered else None


def _opening(text: str, section_start: int, default: int) -> int:
    """Where the first unit of the section whose heading starts at ``section_start`` starts (``default`` if none)."""
    opening = _first_unit_after(text, section_start)
    return default if opening is None else opening


@lru_cache(maxsize=1024)
def _first_unit_after(text: str, offset: int) -> int | None:
    blocks = markdown_blocks(text)
    at = bisect_right(_block_starts(text), offset)
    return next((b.start for b in blocks[at:] if b.kind != "heading"), None)


def _heading_number(heading: str, noun: str) -> int | None:
    """The place a section heading carries for a unit noun: a leading number ("2. Warning") for any noun, a noun
    and a number ("Play 4: …") for that noun only; None without one."""
    numbered = _NUMBERED_HEADING.match(heading)
    if numbered:
        return int(numbered.group(1))
    named = _NUMBERED_PLACE.search(heading)
    return int(named.group(2)) if named and named.group(1).lower() == noun else None


def _last_numbered(paths: list[tuple[str, ...]], section: int, noun: str) -> bool:
    """Whether the section at index ``section`` is the last of a run of numbered sibling sections ("### 4.
    Permanent Ban" before "## Attribution"): numbered itself, and no numbered sibling follows it."""
    depth = len(paths[section])
    if _heading_number(paths[section][-1], noun) is None:
        return False
    for path in paths[section + 1 :]:
        if len(path) < depth or path[: depth - 1] != paths[section][: depth - 1]:
            return True
        if len(path) == depth:
            return _heading_number(path[-1], noun) is None
    return True


def is_markdown(article: Article) -> bool:
    return article.source.lower().endswith(MARKDOWN_SUFFIXES)


@lru_cache(maxsize=64)  # keyed by the text itself: a str caches its hash, so a repeated lookup is cheap
def markdown_blocks(text: str) -> tuple[Block, ...]:
    """The blocks of a Markdown text in reading order, as trimmed, non-empty character ranges."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def offsets(first: int, last: int) -> tuple[int, int]:
        start = line_starts[first] if first < len(line_starts) else len(text)
        end = line_starts[last] if last < len(line_starts) else len(text)
        return trim_range(text, start, end)

    blocks: list[Block] = []
    in_item = 0  # inside a list item, everything belongs to that item
    lists = 0
    for i, token in enumerate(tokens):
        if token.type == "list_item_open":
            if in_item == 0 and token.map:
                start, end = offsets(*token.map)
                marker = _ITEM_MARKER.match(text, start, end)
                start = marker.end() if marker and marker.end() < end else start
                if start < end:
                    blocks.append(Block("item", start, end, group=lists))
            in_item += 1
        elif token.type == "list_item_close":
            in_item -= 1
        elif token.type in ("bullet_list_open", "ordered_list_open") and in_item == 0:
            lists += 1
        elif in_item or not token.map:
            continue
        elif token.type == "heading_open":
            start, end = offsets(*token.map)
            title = _plain(tokens[i + 1].content) if i + 1 < len(tokens) else ""
            blocks.append(Block("heading", start, end, level=int(token.tag[1:]), heading=title))
        elif token.type in ("paragraph_open", "html_block"):
            start, end = offsets(*token.map)
            quote = _QUOTE_MARKER.match(text, start, end)  # a paragraph in a blockquote starts after its '>'
            start = quote.end() if quote else start
            if start < end:
                blocks.append(Block("text", start, end))
        elif token.type in ("fence", "code_block"):
            first, last = token.map
            outer_end = offsets(first, last)[1]
            if token.type == "fence":  # the code between the fences, not the ``` lines
                first += 1
                closing = text[slice(*offsets(last - 1, last))] if last - 1 >= first else ""
                if closing.startswith(token.markup):
                    last -= 1
            start, end = _code_range(text, *offsets(first, last), line_starts)
            if start < end:
                blocks.append(Block("code", start, end, outer_end=max(end, outer_end)))
        elif token.type == "tr_open":
            start, end = offsets(*token.map)
            if start < end:
                blocks.append(Block("row", start, end))
    return tuple(blocks)


def section_title(article: Article, offset: int) -> str:
    """The article's title followed by the headings above ``offset`` ("Title › Section › Subsection").

    Used wherever the title stands for what a text is about (what is embedded and BM25-indexed with a
    passage or sentence). A heading that repeats the title is left out, so an article whose only
    heading is its title (the SQuAD articles as Markdown) is embedded exactly as before.
    """
    if not is_markdown(article):
        return article.title
    starts, paths = _sections(article.text, article.title)
    at = bisect_right(starts, offset) - 1
    path = paths[at] if at >= 0 else ()
    return SECTION_SEPARATOR.join((article.title, *path)) if path else article.title


def reading_context(article: Article, offset: int) -> str:
    """What the reader is shown before a window starting at ``offset`` that the window itself lacks: for a
    table row, the table's header row ("| Tool | Command | Time |"); else nothing.

    The section path was tried too and left out: on the mixed documents it made the reader surer of
    wrong spans as often as of right ones (it was trained on bare paragraphs)."""
    if not is_markdown(article):
        return ""
    blocks = markdown_blocks(article.text)
    at = bisect_right(_block_starts(article.text), offset) - 1
    if at < 0 or blocks[at].kind != "row" or offset >= blocks[at].end:
        return ""
    first = at
    while first > 0 and blocks[first - 1].kind == "row":
        first -= 1
    return article.text[blocks[first].start : blocks[first].end] if first < at else ""


@lru_cache(maxsize=64)
def _block_starts(text: str) -> list[int]:
    return [block.start for block in markdown_blocks(text)]


@lru_cache(maxsize=64)
def _sections(text: str, title: str) -> tuple[list[int], list[tuple[str, ...]]]:
    starts, paths = [], []
    stack: list[tuple[int, str]] = []
    same_as_title = _normal(title)
    for block in markdown_blocks(text):
        if block.kind != "heading":
            continue
        stack = [(level, name) for level, name in stack if level < block.level]
        if block.heading and _normal(block.heading) != same_as_title:
            stack.append((block.level, block.heading))
        starts.append(block.start)
        paths.append(tuple(name for _, name in stack))
    return starts, paths


def _plain(inline: str) -> str:
    return " ".join(_INLINE_MARKUP.sub(lambda m: m.group(1) or "", inline).split())


def _normal(value: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", value.lower()).split())


def trim_range(text: str, start: int, end: int) -> tuple[int, int]:
    """``start, end`` moved inwards past whitespace."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _code_range(text: str, start: int, end: int, line_starts: list[int]) -> tuple[int, int]:
    """Code keeps its first line's indentation: the quote starts where that line does."""
    line = bisect_right(line_starts, start) - 1
    line_start = line_starts[line] if line >= 0 else 0
    if text[line_start:start].strip() == "" and start > line_start:
        return line_start, end
    return start, end
