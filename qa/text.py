"""Small text helpers shared by the stages: word tokens, stop words, a light stemmer."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)

STOP_WORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can could did do does doing done down during each
    few for from further had has have having he her here hers herself him himself his how i if
    in into is it its itself just me more most my myself no nor not of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    upon very was we were what when where which while who whom whose why will with would you
    your yours yourself yourselves also s t many much did does tell name named called""".split()
)

QUESTION_WORDS = frozenset("what when where which who whom whose why how".split())


_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def normalise(text: str) -> str:
    """Fold case and accents and unify apostrophes, so 'Café’s' and "cafe's" compare equal."""
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text)).replace("’", "'")
    return text.lower()


def words(text: str) -> list[str]:
    return _WORD.findall(normalise(text))


@lru_cache(maxsize=1)
def _snowball():
    import Stemmer  # PyStemmer: the Snowball English stemmer, in C

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem, so 'discussed' matches 'discuss' and 'cities' matches 'city'."""
    if word.endswith("'s"):
        word = word[:-2]
    return _snowball().stemWord(word)


def terms(text: str) -> list[str]:
    """Content terms: stemmed words that are not stop words."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]


# "How do I know when it is done? (How much water goes in?)": the context a follow-up borrowed (``expand_query``)
_BORROWED = re.compile(r"(?<=[?.!])\s*\(([^()]*)\)\s*$")
_ASKING = re.compile(r"\b(?:what|when|where|who|whom|whose|which|why|how)\b", re.I)


def own_question(query: str) -> str:
    """A follow-up's query without the context it borrowed, when the question asks on its own (it has a wh-word);
    a fragment ("And the CSTO? (What is the SCO?)") asks what its context asked, and stays whole."""
    borrowed = _BORROWED.search(query)
    if borrowed is None:
        return query
    own = query[: borrowed.start()]
    return own if _ASKING.search(own) else query

