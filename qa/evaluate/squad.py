"""SQuAD data and the official scorer: loading v1.1 / v2.0 files, normalisation, EM and F1.

``score_predictions`` reproduces the official evaluate-v1.1 / evaluate-v2.0 figures for a
``{question_id: answer}`` dict.
"""

from __future__ import annotations

import collections
import json
import re
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


class EvalError(ValueError):
    """A bad evaluation request (sample size, article range, top-k): the message is for the user."""


class DatasetError(EvalError):
    """The dataset file is missing, is not JSON, or is not in the SQuAD format."""


# ---------------------------------------------------------------------------------------------------------------
# The official scorer
# ---------------------------------------------------------------------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation, drop the articles a/an/the, collapse white space (official SQuAD)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    """Token F1 after normalisation; two empty answers agree (1.0), one empty answer scores 0."""
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def best_over_gold(metric: Callable[[str, str], float], prediction: str, golds: Sequence[str]) -> float:
    """The best score over the gold answers; a question without one (SQuAD v2.0) has the gold answer ""."""
    return max(metric(prediction, gold) for gold in (list(golds) or [""]))


def _scoring_golds(answers: Sequence[str], v2: bool) -> list[str]:
    # evaluate-v2.0 drops gold answers that normalise to nothing; evaluate-v1.1 keeps every one.
    if v2:
        return [a for a in answers if normalize_answer(a)]
    return list(answers)


def score_prediction(prediction: str, question: SquadQuestion, v2: bool) -> tuple[float, float]:
    """(EM, F1) of one prediction, each 0 or 1 / 0..1, by the official rules of the dataset's version."""
    golds = _scoring_golds(question.answers, v2)
    return best_over_gold(exact_match, prediction, golds), best_over_gold(f1_score, prediction, golds)


def score_predictions(dataset: SquadDataset | str | Path, predictions: dict[str, str]) -> dict:
    """Score ``{question_id: answer_text}`` like the official script: percentages, plus the has/no-answer split.

    A question missing from ``predictions`` scores 0 (as in evaluate-v1.1) and is counted in ``missing``.
    """
    if not isinstance(dataset, SquadDataset):
        dataset = load_squad(dataset)
    v2 = dataset.is_v2
    exact, f1 = {}, {}
    missing = 0
    for q in dataset.questions():
        if q.id not in predictions:
            missing += 1
            exact[q.id] = f1[q.id] = 0.0
            continue
        exact[q.id], f1[q.id] = score_prediction(str(predictions[q.id]), q, v2)
    result = _percentages(exact, f1, [q.id for q in dataset.questions()])
    if v2:
        has = [q.id for q in dataset.questions() if q.answers]
        no = [q.id for q in dataset.questions() if not q.answers]
        for prefix, ids in (("HasAns", has), ("NoAns", no)):
            if ids:
                part = _percentages(exact, f1, ids)
                result.update({f"{prefix}_exact": part["exact"], f"{prefix}_f1": part["f1"],
                               f"{prefix}_total": part["total"]})
    result["missing"] = missing
    return result


def _percentages(exact: dict[str, float], f1: dict[str, float], ids: list[str]) -> dict:
    total = len(ids)
    if not total:
        return {"exact": 0.0, "f1": 0.0, "total": 0}
    return {"exact": 100.0 * sum(exact[i] for i in ids) / total,
            "f1": 100.0 * sum(f1[i] for i in ids) / total, "total": total}


# ---------------------------------------------------------------------------------------------------------------
# The dataset
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: tuple[str, ...]  # gold answer texts; empty for an unanswerable question (v2.0)
    is_impossible: bool
    article: int  # 1-based, in file order
    title: str


@dataclass(frozen=True)
class SquadArticle:
    number: int  # 1-based, in file order
    title: str
    contexts: tuple[str, ...]
    questions: tuple[SquadQuestion, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.contexts)

    @property
    def display_title(self) -> str:
        return self.title.replace("_", " ")


@dataclass(frozen=True)
class SquadDataset:
    path: str
    version: str
    articles: tuple[SquadArticle, ...]
    is_v2: bool = field(default=False)

    def questions(self) -> list[SquadQuestion]:
        return [q for a in self.articles for q in a.questions]


def load_squad(path: str | Path) -> SquadDataset:
    """Read an official SQuAD JSON file; raise DatasetError with one readable line when it is not one."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"no such dataset file: {str(path)!r}") from None
    except IsADirectoryError:
        raise DatasetError(f"{str(path)!r} is a folder, not a SQuAD JSON file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"cannot read {str(path)!r}: {error}") from None
    except json.JSONDecodeError as error:
        raise DatasetError(f"{str(path)!r} is not valid JSON (line {error.lineno}, column {error.colno}: "
                           f"{error.msg})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("data"), list):
        raise DatasetError(f"{str(path)!r} is not SQuAD JSON: expected an object with a \"data\" list")
    articles = []
    v2 = False
    try:
        for number, article in enumerate(raw["data"], 1):
            title = str(article.get("title") or f"Article {number}")
            contexts, questions = [], []
            for paragraph in article["paragraphs"]:
                contexts.append(str(paragraph["context"]))
                for qa in paragraph["qas"]:
                    impossible = bool(qa.get("is_impossible", False))
                    v2 = v2 or "is_impossible" in qa
                    answers = () if impossible else tuple(str(a["text"]) for a in qa.get("answers", ()))
                    questions.append(SquadQuestion(id=str(qa["id"]), question=str(qa["question"]),
                                                   answers=answers, is_impossible=impossible,
                                                   article=number, title=title))
            articles.append(SquadArticle(number, title, tuple(contexts), tuple(questions)))
    except (KeyError, TypeError, AttributeError) as error:
        raise DatasetError(f"{str(path)!r} is not SQuAD JSON: article {len(articles) + 1} is malformed "
                           f"({type(error).__name__}: {error})") from None
    version = str(raw.get("version", "")) or ("v2.0" if v2 else "1.1")
    return SquadDataset(path=str(path), version=version, articles=tuple(articles), is_v2=v2)


def parse_article_range(value: str | Sequence[int] | None) -> tuple[int, int] | None:
    """"1-24" -> (1, 24), "7" -> (7, 7); 1-based and inclusive."""
    if value is None:
        return None
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+)\s*(?:[-–:]\s*(\d+)\s*)?", value)
        if not match:
            raise EvalError(f"articles must look like 1-24 or 7, not {value!r}")
        start, end = int(match.group(1)), int(match.group(2) or match.group(1))
    else:
        start, end = (int(v) for v in value)
    if start < 1 or end < start:
        raise EvalError(f"articles must be a range like 1-24 with 1 <= start <= end, not {start}-{end}")
    return start, end


# ---------------------------------------------------------------------------------------------------------------
# The evaluation run
# ---------------------------------------------------------------------------------------------------------------

def contains_answer(text: str, golds: Iterable[str]) -> bool:
    """Whether a normalised gold answer occurs in the normalised text, on word boundaries ("5" is not in "50")."""
    haystack = f" {normalize_answer(text)} "
    for gold in golds:
        needle = normalize_answer(gold)
        if needle and f" {needle} " in haystack:
            return True
    return False


