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

# Used by the reader's training too, to make near-miss "no answer" questions (``qa.reader_training.near_miss``).
OPPOSITES = dict(pair for a, b in (
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
) for pair in ((a, b), (b, a)))

# "before" and "after" mostly place the question against another event than the sentence's ("How long did it run
# before they killed it?" of "… was discontinued in October 2010 after …"), so they contradict nothing.
_RELATIVE = frozenset({"before", "after"})
# Words whose own comparative or superlative the sentence may use instead: "least vulnerable" of "less vulnerable".
_KIN = {"least": ("less",), "less": ("least",), "most": ("more",), "more": ("most",)}
_WORD = re.compile(r"[A-Za-z]+")
# Set phrases that hold an opposite word without meaning it: "at least two textbooks", "at first".
_SET_PHRASE = re.compile(r"\bat\s+$", re.I)

_NEGATION = re.compile(r"\b(?:not|never)\b|n't\b", re.I)
# A negation after one of these is a condition or a contrast, not what is asked: "if I don't pass --threads",
# "so I don't have to pass -E every time", "the directory path and not just the filename".
_CONDITION = re.compile(r"\b(?:if|when|whenever|unless|so|because|since|while|once|until|or)\b", re.I)
_CONTRAST = re.compile(r"\b(?:not\s+(?:just|only|merely)|(?:and|but|or)\s+not)\b", re.I)
# What a sentence that answers a negated question says instead of "not": "without", "except", "excluded", "unable".
_NEGATIVE = re.compile(
    r"\b(?:not|no|never|none|nor|neither|without|cannot|unable|impossible|unknown|unlike\w*|fail\w*|refus\w*"
    r"|lack\w*|absent|except\w*|exclud\w*|other\s+than|apart\s+from|instead|rather\s+than|den(?:y|ied|ies)"
    r"|reject\w*|avoid\w*|prevent\w*|ban\w*)\b|n't\b", re.I)


def contradicted(question: str, sentence: str) -> str | None:
    """The word of ``question`` that ``sentence`` contradicts ("least" when the sentence says "most" and never
    "least"; "not" when the question negates what it asks and the sentence holds no negation), else None.

    Words that are part of a name ("Middle East", "South Coast Metro") and the question's negations inside a
    condition ("if I don't pass …") count for nothing. Why-questions and yes/no questions are left alone: the
    sentence that explains a negative or settles a "Doesn't it …?" need not repeat the "not".
    """
    asked = _plain_words(question)
    asked_all = {w.lower() for w in _WORD.findall(question)}
    said = _plain_words(sentence)
    said_all = {w.lower() for w in _WORD.findall(sentence)}
    for word in asked:
        opposite = OPPOSITES.get(word)
        if (opposite is None or word in _RELATIVE or " " in opposite or opposite not in said or opposite in asked_all
                or any(w.startswith(word) for w in said_all) or any(k in said_all for k in _KIN.get(word, ()))):
            continue
        return word
    if _asks_negated(question) and not _NEGATIVE.search(sentence):
        return "not"
    return None


def _plain_words(text: str) -> list[str]:
    """The text's words in lower case, without those of names (capitalised inside a sentence) or set phrases."""
    plain = []
    for match in _WORD.finditer(text):
        before = text[: match.start()]
        opens_sentence = not before.strip() or re.search(r"[.!?:;\"“(]\s*$", before) is not None
        if (match.group()[0].isupper() and not opens_sentence) or _SET_PHRASE.search(before):
            continue
        plain.append(match.group().lower())
    return plain


def _asks_negated(question: str) -> bool:
    """Whether the question negates what it asks: "What is not used …?", not "What if it doesn't show up?"."""
    match = _NEGATION.search(question)
    if match is None or _CONDITION.search(question[: match.start()]) or _CONTRAST.search(question):
        return False
    return not question.lstrip().lower().startswith(("why", "how come")) and not asks_yes_no(question)
