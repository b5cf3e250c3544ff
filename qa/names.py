"""The names and numbers a question gives, and which of them a document never mentions.

A question that names what its best document never mentions ("Who was Bill Aiken's mother?" of an
article without an Aiken, "How many states offer it in 2025?" of one without 2025) is on the topic
but not answered there: SQuAD 2.0's unanswerable questions are often made so, by swapping a name or
a number, and people ask so of real documents ("Does it run on FreeBSD?"). A name is a capitalised
word past the question's first, a number any token with a digit, code any `backquoted` text. Typos
and inflections of a name are forgiven ("Hatmanis" for Hartmanis, "Californian" for California);
a number must be there as written or spelled out, code as written.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from qa.text import QUESTION_WORDS, STOP_WORDS, normalise

# letters NFKD does not decompose: "Skłodowska" is asked as "Sklodowska"
_UNDECOMPOSED = str.maketrans({
    "ł": "l", "ø": "o", "đ": "d", "ı": "i", "ß": "ss", "æ": "ae", "œ": "oe", "þ": "th", "–": "-", "—": "-", "‐": "-",
    "−": "-",
})
_TOKEN = re.compile(r"`([^`\n]+)`|[^\s\"“”‘()\[\]{};:?!`]+")
_PART = re.compile(r"[^\W_]+")
_AFTER_STOP = re.compile(r"[.?!:]\s*$")
_TRIM = "'’.,-/"
_FIRST_PERSON = re.compile(r"I['’](?:ve|m|d|ll)")
_SET_ASIDE = re.compile(r"\b(?:rather than|instead of)\s+[^,;?!]*", re.I)
# "almost 50 years" (not "about 1984", a topic, nor "around ex-18F")
_HEDGE = re.compile(r"\b(?:almost|nearly|around|roughly|approximately)\s+$", re.I)
_ROUGH_NUMBER = re.compile(r"\d[\d,.]*%?")
_CONTEXT = re.compile(r"(?<=[?.!])\s*\([^()]*\)\s*$")  # "What is its land area? (Bhutan, Thimphu)": expand_query's
_DECIMAL = re.compile(r"\d+(?:\.\d+)+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")
_DOTTED = re.compile(r"\b(?:[a-z]\.){2,}")  # "u.s." is asked as "US"
_DOTTED_BEFORE = re.compile(r"(?<![\w.])((?:[A-Z]\.){2,})[ \t]+$")  # "U.S." right before a name it belongs to
_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w'’]*(?:[ \t]+(?:of[ \t]+|the[ \t]+|and[ \t]+)?[A-Z][\w'’]*)+")
_INITIALS_WORDS = 6  # the longest name whose initials count: an all-capitals page is one long run
_ROMAN = re.compile(r"[IVX]+|\d+")
_DEMONYM = re.compile(r"(?:ese|ian|ish|an|ch|ic|i)$")  # Chinese, Canadian, Spanish, American, French, Arabic, Thai
_SPELLED = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
            "seventeen eighteen nineteen twenty").split()
_ORDINALS = ("zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth "
             "fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth").split()


def _fold(text: str) -> str:
    return normalise(text).translate(_UNDECOMPOSED)


@lru_cache(maxsize=1024)
def named_terms(question: str) -> tuple[str, ...]:
    """The names, numbers and code the question gives, as written (possessive "'s" dropped; code keeps its
    backquotes)."""
    question = _CONTEXT.sub("", question)  # a follow-up's borrowed context need not all be in the quote's document
    question = _SET_ASIDE.sub(" ", question)  # "on a private index rather than PyPI": PyPI is not what is asked of
    found: list[str] = []
    names: list[str] = []
    stop_words = capitalised_stop_words = 0
    last_name = -2  # the index of the last name's token: neighbours join ("Alan Autry")
    matches = list(_TOKEN.finditer(question))
    for index, match in enumerate(matches):
        sentence_start = index == 0 or bool(_AFTER_STOP.search(question[: match.start()]))
        if match.group(1) is not None:
            found.append(f"`{match.group(1).strip()}`")
            continue
        token = re.sub(r"['’]s$", "", match.group().strip(_TRIM)).strip(_TRIM)
        if not token or _FIRST_PERSON.fullmatch(token):  # "I've", "I'm": the asker, no name
            continue
        if any(c.isdigit() for c in token):
            if _ROUGH_NUMBER.fullmatch(token) and _HEDGE.search(question[: match.start()]):
                continue  # "for almost 50 years" of an editor from 1899 until 1948: a reckoning, not a name
            if last_name == index - 1 and names:  # "Windows 95", "Python 2.7": the number is the name's
                names[-1] = f"{names[-1]} {token}"
                last_name = index
            else:
                found.append(token)
            continue
        if not token[0].isalpha():
            continue
        lowered = token.lower()
        if not sentence_start and lowered in STOP_WORDS:
            stop_words += 1
            capitalised_stop_words += token[0].isupper()
        if token[0].isupper():
            following = matches[index + 1].group() if index + 1 < len(matches) else ""
            if _describes(token, following) or token in _FORMS or _asked_category(token, matches, index):
                continue
            token = _LOWER_SUFFIX.sub("", token)  # "Super Bowl-related events" name the Super Bowl
            if not sentence_start and lowered not in STOP_WORDS and lowered not in QUESTION_WORDS:
                if last_name == index - 1 and not re.search(r"[,.]$", question[: match.start()].rstrip()):
                    names[-1] = f"{names[-1]} {token}"
                else:
                    names.append(token)
                last_name = index
    if capitalised_stop_words and capitalised_stop_words * 2 > stop_words:
        names = []  # "Who Wrote The Playbook?", "WHAT IS THE AREA OF BHUTAN?": capitals say nothing of names
    return tuple(found + names)


# A word joined to a name by a hyphen to describe something else: "-related", "-based", "-style" (not "NP-complete")
_LOWER_SUFFIX = re.compile(r"(?<=[A-Za-z0-9])-(?:related|based|style|like|themed|led|owned|backed|born|made|funded"
                           r"|sponsored|specific|oriented|era|type|sized|wide)$")
# Capitalised words that ask for a form of answer, not of a name: "What is the URL of the Covenant?"
_FORMS = frozenset(("URL", "URLs", "URI", "URIs"))
# Acronyms that are common nouns, kinds of thing rather than names ("What NFL team …?" names a league)
_KIND_ACRONYMS = frozenset("CPU CPUs GPU GPUs OS API APIs RAM SSD IDE SDK CLI GUI UI PC PCs TV".split())


def _asked_category(token: str, matches: list[re.Match], index: int) -> bool:
    """Whether an acronym names the kind of thing asked for ("What CPU …?", "Which OS …?"), which the answer need
    not write: "an Intel i9-12900K" answers "What CPU were the timings collected on?"."""
    previous = matches[index - 1].group().strip(_TRIM).lower() if index else ""
    return token in _KIND_ACRONYMS and previous in ("what", "which")


def _describes(token: str, following: str) -> bool:
    """Whether a capitalised word is a people's or a language's adjective describing what follows ("Chinese-language
    paper", "Canadian provinces"), not a name; "the Canadian Parliament" is one."""
    head, _, rest = token.partition("-")
    if not _DEMONYM.search(head):
        return False
    described = rest or following
    return bool(described) and described[0].islower() and described.lower() not in STOP_WORDS


def _vocabulary(title: str, text: str) -> tuple[dict[str, frozenset[str]], str]:
    """The document's folded words by first letter (with the initials of its capitalised names, "WWII" for World
    War II, and its dotted abbreviations undotted), and its folded text without thousands separators."""
    raw = f"{title}\n{text}"
    folded = _fold(raw)
    found = set(_PART.findall(folded))
    found.update(m.group().replace(".", "") for m in _DOTTED.finditer(folded))
    for run in _CAPITALISED_RUN.finditer(raw):
        named = [w for w in run.group().split() if w[0].isupper()]
        dotted = _DOTTED_BEFORE.search(raw, max(0, run.start() - 8), run.start())
        if dotted:  # "U.S. Department of Agriculture" is the "USDA"
            found.add(_fold(dotted.group(1).replace(".", "") + "".join(w[0] for w in named)))
        for start in range(len(named) - 1):  # "The American Automobile Association" is also the "AAA"
            for end in range(start + 2, min(start + _INITIALS_WORDS, len(named)) + 1):
                part = named[start:end]
                tail = part[-1] if _ROMAN.fullmatch(part[-1]) else ""  # "World War II" is "WWII"
                found.add(_fold("".join(w[0] for w in (part[:-1] if tail else part)) + tail))
        written = run.group().split()
        for start in range(len(written) - 2):  # "Code of Conduct" is also the "CoC", small words and all
            for end in range(start + 3, min(start + _INITIALS_WORDS, len(written)) + 1):
                part = written[start:end]
                if part[0][0].isupper() and part[-1][0].isupper() and any(w[0].islower() for w in part):
                    found.add(_fold("".join(w[0] for w in part)))
    by_letter: dict[str, set[str]] = {}
    for word in found:
        by_letter.setdefault(word[0], set()).add(word)
    return {letter: frozenset(group) for letter, group in by_letter.items()}, _THOUSANDS.sub("", folded)


def _spelled_out(title: str, text: str) -> frozenset[str]:
    """The initials of the document's runs of two to four lower-case words, none a stop word: "QA" for "quality
    assurance", "CLI" for "command-line interface" (an acronym asked is mentioned by the words it abbreviates).
    Lower case only: "NSF-funded supercomputing" does not spell out "NFS", nor "World War II" "WWI"."""
    found = set()
    for run in _LOWER_RUN.finditer(f"{title}\n{text}"):
        kept = (word.lower() if word.lower() not in STOP_WORDS else "|" for word in re.split(r"[\s-]+", run.group()))
        for stretch in " ".join(kept).split("|"):
            initials = "".join(word[0] for word in stretch.split())
            for start in range(len(initials) - 1):
                for end in range(start + 2, min(start + 4, len(initials)) + 1):
                    found.add(initials[start:end])
    return frozenset(found)


# Documents are asked about again and again, and their vocabularies are costly to build; a passage's is cheap, and
# is built uncached (``cache=False``) so that passages do not crowd the documents' out.
_cached_vocabulary = lru_cache(maxsize=64)(_vocabulary)
_cached_spelled_out = lru_cache(maxsize=64)(_spelled_out)


def unmentioned(question: str, title: str, text: str, also: Sequence[str] = (), cache: bool = True) -> tuple[str, ...]:
    """The question's names, numbers and code (``named_terms``), and ``also`` (further names it gives, such as
    another document's title), that the document (or passage: ``cache=False``) never mentions."""
    terms = list(named_terms(question))
    for name in also:
        if not any(name.lower() in term.lower() for term in terms):  # "18F" does not say "18F at ten"
            terms.append(name)
    if not terms:
        return ()
    vocabulary, folded = (_cached_vocabulary if cache else _vocabulary)(title, text)
    spelled_out = _cached_spelled_out if cache else _spelled_out
    return tuple(term for term in terms if not _mentioned(term, vocabulary, folded)
                 and not (_ACRONYM.fullmatch(term) and term.rstrip("s").lower() in spelled_out(title, text))
                 and not _as_initials(term, title, text)
                 and not (_ACRONYM.fullmatch(term) and term.endswith("s")  # "PDFs" is there as "PDF"
                          and _mentioned(term[:-1], vocabulary, folded)))


def times_named(term: str, text: str) -> int:
    """How often ``text`` names ``term`` as written (case aside, and whatever spacing or punctuation between its
    words)."""
    parts = _NAME_PART.findall(term)
    if not parts:
        return 0
    return len(re.findall(r"\b" + r"\W+".join(map(re.escape, parts)) + r"\b", text, re.I))


_NAME_PART = re.compile(r"[A-Za-z0-9][\w'’-]*")


def _mentioned(term: str, vocabulary: dict[str, frozenset[str]], folded: str) -> bool:
    """Code as written; otherwise the whole term as written, its words run together, or each of its parts (words
    forgiving typos and inflections, numbers as written or spelled out: "8" is there as "eight", "15th" as
    "fifteenth")."""
    code = term.startswith("`")
    wanted = _THOUSANDS.sub("", _fold(term.strip("`")))
    if code:
        return _written(wanted, folded, code=True)
    if _written(wanted, folded) or (wanted in _WORDS_FOR and _written(_WORDS_FOR[wanted], folded)):
        return True
    dated = _DAY_OF_MONTH.fullmatch(wanted)  # "January 30th" of "January 30" or "30 January"
    if dated and (_written(f"{dated.group(1)} {dated.group(2)}", folded)
                  or _written(f"{dated.group(2)} {dated.group(1)}", folded)):
        return True
    parts = []
    for chunk in wanted.split():
        spaced = _DIGITS_AND_LETTERS.sub(" ", chunk)
        if spaced != chunk and _written(spaced, folded):  # "103.5FM" of "103.5 FM", "Romans3" of "Romans 3:28"
            continue
        if _DECIMAL.fullmatch(chunk):  # "2.7" is not there as a 2 and a 7
            if not _number_written(chunk, folded):
                return False
        else:
            parts += _PART.findall(chunk)
    if len(parts) > 1 and all(p.isalpha() for p in parts) and "".join(parts) in vocabulary.get(parts[0][0], ()):
        return True  # a handle or a name run together: "Andrew Godwin" as "@andrewgodwin", "readthedocs"
    for part in parts:
        if any(c.isdigit() for c in part):
            if not _number_written(part, folded) and not _identifier_prefix(part, folded):
                return False
        elif (len(part) > 1 and part not in STOP_WORDS and not _near(part, vocabulary.get(part[0], frozenset()))
              and not _run_together(part, folded)):
            return False
    return True


# Single words whose abbreviation is asked as a name ("TV ad" of a text on television advertising)
_WORDS_FOR = {"tv": "television"}
_DAY_OF_MONTH = re.compile(rf"({'|'.join(m.lower() for m in calendar.month_name[1:])}) (\d{{1,2}})(?:st|nd|rd|th)")
_DIGITS_AND_LETTERS = re.compile(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])")


def _run_together(part: str, folded: str) -> bool:
    """Whether the text writes ``part`` as two words: "Superbowl" of "Super Bowl"."""
    return len(part) >= 6 and any(_written(f"{part[:cut]} {part[cut:]}", folded) for cut in range(3, len(part) - 2))


def _as_initials(name: str, title: str, text: str) -> bool:
    """Whether a name of two or more capitalised words is written as its initials, in capitals ("UN" or "U.N." for
    "United Nations"), as "World War II" is there for "WWII"."""
    words = [w for w in name.split() if w.lower() not in ("of", "the", "and", "for")]
    if len(words) < 2 or not all(w[:1].isupper() and w.isalpha() for w in words):
        return False
    letters = [w[0].upper() for w in words]
    written = "".join(letters) + "|" + "".join(f"{letter}\\." for letter in letters)
    return bool(re.search(rf"(?<![\w.])(?:{written})(?![\w])", f"{title}\n{text}"))


_ACRONYM = re.compile(r"[A-Z]{2,6}s?")
# words of three letters or more in lower case, the first may be capitalised ("Quality assurance"); stop words split it
_LOWER_RUN = re.compile(r"(?<![\w-])[A-Za-z][a-z]{2,}(?:[ \t-]+[a-z]{3,})+(?![\w-])")


def _written(wanted: str, folded: str, code: bool = False) -> bool:
    """``wanted`` in the text as a whole token: "2025" is not in "20250", "v2" not in "v2.1", code "--search" not
    in "--search-zip"."""
    after = r"(?![\w-]|\.\d)" if code else r"(?!\w|\.\d)"
    return bool(re.search(r"(?<![\w.])" + re.escape(wanted) + after, folded))


def _identifier_prefix(part: str, folded: str) -> bool:
    """Whether a name of letters then digits ("md5", "sha256") opens a word of the text: "md5sum" mentions md5."""
    return bool(re.fullmatch(r"[a-z]+\d+", part)) and bool(re.search(r"(?<![\w.])" + part + r"[a-z]+\b", folded))


def _number_written(number: str, folded: str) -> bool:
    if _written(number, folded) or _written(number + "s", folded):  # "the 1950's" of a text on the 1950s
        return True
    measure = _WITH_UNIT.fullmatch(number)  # "475f" of "Preheat oven to 475 - 500 degrees F", "250g" of "250 g"
    if measure:
        return _written(measure.group(1) or measure.group(2), folded)
    decade = re.fullmatch(r"(\d+)s", number)  # "the 1600s"
    if decade and len(decade.group(1)) == 2 and number[1] == "0":  # "the 80s" of a text on the 1980s or on 1985
        return re.search(rf"(?<![\w.])[12]\d{number[0]}\d(?:'?s)?(?!\w|\.\d)", folded) is not None
    if decade and re.fullmatch(r"1\d00", decade.group(1)):  # "the 1600s" of "the 17th century"
        century = int(decade.group(1)[:2]) + 1
        if re.search(rf"(?<![\w.])(?:{century}th|{_ORDINALS[century]})(?:\s+(?:and|or|to)\s+\w+)?[\s-]+centur", folded):
            return True
    if decade:
        return _written(decade.group(1), folded)
    ordinal = re.fullmatch(r"(\d+)(?:st|nd|rd|th)", number)
    value = re.fullmatch(r"\d+", number)
    if ordinal and int(ordinal.group(1)) < len(_ORDINALS):
        return _written(_ORDINALS[int(ordinal.group(1))], folded)
    if value and int(number) < len(_SPELLED):
        return _written(_SPELLED[int(number)], folded)
    return False


# a number with its unit run on, as asked ("475F", "250g", "20min"); not a name like "18F", "5G" or "10x" (degrees
# only of three digits: an oven's)
_WITH_UNIT = re.compile(r"(\d[\d.]*)(?:g|kg|mg|lbs?|oz|ml|l|km|cm|mm|mi|ft|kb|mb|gb|tb|ms|hrs?|mins?)|(\d{3})[fc]")


def _near(word: str, words: frozenset[str]) -> bool:
    """Whether ``words`` (those of the document with the same first letter) have ``word``, an inflection of it or it
    with a typo. An inflection shares a stem of four letters or more: the question may add a few letters
    (Californian/California, Asian/Asia) or end otherwise (Buddhist/Buddhism), the document only a plural ("Nepal"
    is not asked of a text that only says "Nepali"; from seven letters, two more: "Maastrich"). A typo is one edit from
    four letters, two from eight, not of the first letter, nor of the last in a word of under seven."""
    if word in words:
        return True
    if len(word) < 4:
        return False
    edits = 2 if len(word) >= 8 else 1
    for other in words:
        if abs(len(other) - len(word)) > 3:
            continue
        shared = 0
        for a, b in zip(word, other):
            if a != b:
                break
            shared += 1
        if shared >= 4:
            if shared == len(word):
                if other[shared:] in ("s", "es") or len(word) >= 7 and len(other) - len(word) <= 2:  # "Maastrich"
                    return True
            elif shared >= min(len(word), len(other)) - 1 or shared == len(other):
                return True
    typos = [other for other in words
             if abs(len(other) - len(word)) <= edits and (word[-1] == other[-1] or len(word) >= 7)]
    return bool(typos) and process.extractOne(word, typos, scorer=OSA.distance, score_cutoff=edits) is not None

