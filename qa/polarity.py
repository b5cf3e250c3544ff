"""Whether a quote says the opposite of what the question asks.

SQuAD 2.0's writers made a fifth of its unanswerable questions by swapping one word of an answerable one for its
opposite ("What is the *least* used type of reduction?" of "The *most* commonly used reduction is …") and about a
tenth by negating its verb ("What does *not* often help algorithms solve problems?" of "… *often* helps algorithms
…"). Such a question ranks its source sentence first, word for word, and a reader trained on spans reads the old
answer in it; what gives it away is the one word the question has and the sentence contradicts.
"""

from __future__ import annotations

import re

from qa.shortanswer import asks_yes_no
from qa.text import stem

_OPPOSITE_PAIRS = (
    ("first", "last"), ("largest", "smallest"), ("biggest", "smallest"), ("most", "least"), ("highest", "lowest"),
    ("before", "after"), ("earliest", "latest"), ("oldest", "newest"), ("longest", "shortest"),
    ("maximum", "minimum"), ("increase", "decrease"), ("increased", "decreased"), ("rise", "fall"),
    ("north", "south"), ("east", "west"), ("northern", "southern"), ("eastern", "western"), ("won", "lost"),
    ("win", "lose"), ("began", "ended"), ("start", "end"), ("started", "ended"), ("above", "below"),
    ("inside", "outside"), ("early", "late"), ("public", "private"), ("positive", "negative"),
    ("import", "export"), ("imports", "exports"), ("major", "minor"), ("more", "less"), ("higher", "lower"),
    ("larger", "smaller"), ("older", "younger"), ("upper", "lower"), ("success", "failure"), ("allowed", "banned"),
    ("accepted", "rejected"), ("supported", "opposed"), ("strong", "weak"), ("common", "rare"), ("rich", "poor"),
    ("cheapest", "most expensive"), ("best", "worst"), ("primary", "secondary"), ("internal", "external"),
)
# One opposite a word, for the reader's training to make near-miss "no answer" questions
# (``qa.reader_training.near_miss``).
OPPOSITES = dict(pair for a, b in _OPPOSITE_PAIRS for pair in ((a, b), (b, a)))

# More opposites for reading only (the reader's training keeps its own list, so its recipe stays as recorded). Not
# converses ("Who was Emma's brother?" is answered by "Emma, sister of Duke Richard II"; "Who bought the factory?" by
# "the factory was sold to AvtoZAZ").
_MORE_OPPOSITES = (
    ("good", "bad"), ("better", "worse"), ("high", "low"), ("large", "small"), ("big", "small"), ("hot", "cold"),
    ("heavy", "light"), ("fast", "slow"), ("open", "closed"), ("true", "false"), ("top", "bottom"),
    ("inner", "outer"), ("modern", "ancient"), ("fewer", "more"), ("fewest", "most"), ("easiest", "hardest"),
    ("easy", "difficult"), ("simple", "complex"), ("natural", "artificial"), ("earlier", "later"), ("birth", "death"),
    ("born", "died"), ("victory", "defeat"), ("rural", "urban"), ("domestic", "foreign"), ("minority", "majority"),
    ("gain", "loss"), ("gained", "lost"), ("rose", "fell"), ("increased", "reduced"), ("winner", "loser"),
    ("include", "exclude"), ("included", "excluded"), ("agree", "disagree"), ("supporters", "opponents"),
    ("permitted", "prohibited"), ("youngest", "oldest"), ("lot", "little"), ("many", "few"), ("often", "rarely"),
    ("often", "seldom"), ("always", "never"), ("usually", "rarely"), ("frequently", "rarely"), ("allow", "forbid"),
    ("allowed", "forbidden"), ("allow", "prohibit"), ("accept", "reject"), ("approved", "rejected"),
    ("support", "oppose"), ("everything", "nothing"), ("everyone", "nobody"),
)
# Opposites by a negative prefix; a sentence that also negates ("it is not known") agrees with the question.
_PREFIXED = (
    ("successful", "unsuccessful"), ("possible", "impossible"), ("likely", "unlikely"), ("known", "unknown"),
    ("legal", "illegal"), ("formal", "informal"), ("official", "unofficial"), ("officially", "unofficially"),
    ("direct", "indirect"), ("directly", "indirectly"), ("correct", "incorrect"), ("complete", "incomplete"),
    ("stable", "unstable"), ("available", "unavailable"), ("necessary", "unnecessary"), ("equal", "unequal"),
    ("dependent", "independent"), ("significant", "insignificant"), ("appropriate", "inappropriate"),
    ("common", "uncommon"), ("connected", "unconnected"), ("encrypted", "unencrypted"),
)
_NEGATED_BY_PREFIX = frozenset(word for pair in _PREFIXED for word in pair)


def _contraries(*pairs: tuple[str, str]) -> dict[str, frozenset[str]]:
    """Each word with all its one-word opposites, both ways ("smallest": "largest" and "biggest")."""
    found: dict[str, set[str]] = {}
    for a, b in pairs:
        for word, opposite in ((a, b), (b, a)):
            if " " not in opposite:
                found.setdefault(word, set()).add(opposite)
    return {word: frozenset(opposites) for word, opposites in found.items()}


_CONTRARIES = _contraries(*_OPPOSITE_PAIRS, *_MORE_OPPOSITES, *_PREFIXED)

# Asked words that contradict nothing: "before" and "after" mostly place the question against another event than
# the sentence's ("How long did it run before they killed it?" of "… was discontinued in October 2010 after …"), and
# "end" is mostly a phrase's ("ended up forming", "in the end").
_UNCLAIMED = frozenset({"before", "after", "end", "ended"})
# Words whose own comparative or superlative the sentence may use instead: "least vulnerable" of "less vulnerable".
_KIN = {"least": ("less",), "less": ("least",), "most": ("more",), "more": ("most",)}
_WORD = re.compile(r"[A-Za-z]+")
# What ends a sentence before a word that may open the next one with a capital
_SENTENCE_GAP = re.compile(r"[.!?:;\"“(]\s*$")
# "the first fumble return touchdown since Super Bowl XXVIII" says when the last one was
_FIRST_SINCE = re.compile(r"\bfirst\b[^.;]*?\bsince\b", re.I)
# What a negative prefix makes of a word: "not formal" is "informal", "not known" "unknown"
_NEGATIVE_PREFIX = re.compile(r"\b(?:un|in|im|il|ir|non-?|dis)([a-z]{4,})\b", re.I)

_NEGATION = re.compile(r"\b(?:not|never|cannot)\b|n't\b", re.I)
# A negation after one of these is a condition or a contrast, not what is asked: "if I don't pass --threads",
# "so I don't have to pass -E every time", "the directory path and not just the filename".
_CONDITION = re.compile(r"\b(?:if|when|whenever|unless|so|because|since|while|once|until|or)\b", re.I)
_CONTRAST = re.compile(r"\b(?:not\s+(?:just|only|merely)|(?:and|but|or)\s+not)\b", re.I)
# What a sentence that answers a negated question says instead of "not": "without", "except", "excluded", "unable".
_NEGATIVE = re.compile(
    r"\b(?:not|no|never|none|nor|neither|without|cannot|unable|impossible|unknown|unlike\w*|fail\w*|refus\w*"
    r"|lack\w*|absent|except\w*|exclud\w*|other\s+than|apart\s+from|instead|rather\s+than|den(?:y|ied|ies)"
    r"|reject\w*|avoid\w*|prevent\w*|ban\w*)\b|n't\b", re.I)
# "What is the only way to forward packets?" is SQuAD 2.0's other swap: an "only" the source sentence never claims.
_ONLY = re.compile(r"(?<!\bnot\s)(?<!-)\bonly\b(?!-)", re.I)  # not "dev-only", "only-child"
_FIRST_PERSON = re.compile(r"\b(?:I|[Mm]e|[Mm]y|[Ww]e|us|[Oo]ur)\b")
# How a sentence says there is one and no other
_UNIQUE = re.compile(r"\b(?:only|sole(?:ly)?|single|alone|lone|just|merely|one|unique(?:ly)?|exclusive(?:ly)?"
                     r"|no\s+other|none\s+other|nothing\s+but)\b", re.I)


def contradicted(question: str, sentence: str) -> tuple[str, str | None] | None:
    """The word of ``question`` that ``sentence`` contradicts, with the sentence's word that does: ("least", "most")
    when the sentence says "most" and never "least"; ("not", None) when the question negates what it asks and the
    sentence holds no negation; ("only", None) when it asks for the only one and the sentence claims no such thing.
    None when nothing is contradicted.

    Words that are part of a name ("Middle East", "South Coast Metro"), what "how" asks ("How long …?"), and the
    question's negations inside a condition ("if I don't pass …") count for nothing. Why-questions and yes/no
    questions are left alone: the sentence that explains a negative or settles a "Doesn't it …?" need not repeat
    the "not".
    """
    if asks_yes_no(question):  # "Was the use of the name correct?" is settled by "this use of the name was incorrect"
        return None
    asked = _plain_words(question, asking=True)
    asked_all = {w.lower() for w in _WORD.findall(question)}
    said = _plain_words(sentence)
    said_all = {w.lower() for w in _WORD.findall(sentence)}
    for word in asked:
        opposites = _CONTRARIES.get(word, frozenset()) & said.keys()
        if (not opposites or word in _UNCLAIMED or opposites & asked_all or any(w.startswith(word) for w in said_all)
                or stem(word) in {stem(w) for w in said_all}  # "lose" of "losing", "incomplete" of "incompletion"
                or any(k in said_all for k in _KIN.get(word, ()))
                or (word in _NEGATED_BY_PREFIX and _NEGATIVE.search(sentence))
                or (word == "last" and _FIRST_SINCE.search(sentence))):
            continue
        return word, min(opposites, key=said.__getitem__)
    if _asks_negated(question) and not _NEGATIVE.search(sentence) and not _negated_by_prefix(question, sentence):
        return "not", None
    if _asks_only(question) and not _UNIQUE.search(sentence):
        return "only", None
    return None


def _plain_words(text: str, asking: bool = False) -> dict[str, int]:
    """The text's words in lower case, each with where it first occurs, without those of names (capitalised inside a
    sentence) or set phrases ("at least"); ``asking``: nor what "how" asks ("how long", "how large")."""
    plain: dict[str, int] = {}
    previous, previous_end = "", 0
    for match in _WORD.finditer(text):
        gap = text[previous_end : match.start()]
        opens_sentence = (not previous and not gap.strip()) or _SENTENCE_GAP.search(gap) is not None
        joined = not gap.strip()  # "at least", "how long": the word right after the one before
        if not ((match.group()[0].isupper() and not opens_sentence) or (joined and previous == "at")
                or (asking and joined and previous == "how")):
            plain.setdefault(match.group().lower(), match.start())
        previous, previous_end = match.group().lower(), match.end()
    return plain


def _negated_by_prefix(question: str, sentence: str) -> bool:
    """Whether the sentence says what the question negates with a negative prefix: "another way of learning that is
    not formal" is answered by "an informal or formal approach to learning", "did not agree" by "disagreed". Not a
    prefixed word the question has too ("non-member states")."""
    negation = _NEGATION.search(question)
    negated = {stem(w.lower()) for w in _WORD.findall(question[negation.end():])[:2]}
    return any(stem(match.group(1).lower()) in negated and match.group().lower() not in question.lower()
               for match in _NEGATIVE_PREFIX.finditer(sentence))


def _asks_only(question: str) -> bool:
    """Whether the question asks for the one thing that is so ("the only way", "could only have"); not why it is,
    nor how to do something only for some things ("How do I search only Markdown files?", "I only have whole seeds",
    "if I use only whole wheat flour"), which restricts what the asker does."""
    match = _ONLY.search(question)
    if match is None or question.lstrip().lower().startswith(("why", "how")) or _FIRST_PERSON.search(question):
        return False
    asked_when = re.sub(r"^\s*when\b", "", question[: match.start()], flags=re.I)  # "When did …" sets no condition
    return not _CONDITION.search(asked_when)


def _asks_negated(question: str) -> bool:
    """Whether the question negates what it asks: "What is not used …?", not "What if it doesn't show up?"."""
    match = _NEGATION.search(question)
    if match is None or _CONDITION.search(question[: match.start()]) or _CONTRAST.search(question):
        return False
    return not question.lstrip().lower().startswith(("why", "how come"))
