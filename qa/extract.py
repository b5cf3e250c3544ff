"""Question + Hits -> the sentences to quote verbatim, a confidence, and whether to answer.

Each sentence of the retrieved passages gets a few features (its similarity to the question,
the share of the question's rare words it holds, its passage's retrieval scores, whether it holds
the kind of thing the question asks for); a logistic model fitted on held-out data (see
``bench/tune_extract.py``) turns them into the probability that the sentence holds the answer.
The passages holding the best sentences are the ones the reply shows (``rerank``). The reply's
confidence comes from a second logistic model over the best sentence (its score, its lead over the
runner-up, its own features), fitted with questions the corpus does not answer among the negatives
and then calibrated on answerable ones: P(the first quoted sentence holds the answer).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import chain
from typing import NamedTuple

import numpy as np

from qa.stores import IndexStore
from qa.blocks import (asked_definition, asked_heading, asked_options, asked_place, asked_subject, asks_summary,
                       defines, faq_match, field_label, field_match, has_layout, is_labelled_field, lead_start,
                       leads_in, names_another_field, option_match, place_match, reading_context, section_match,
                       section_scope, section_title, title_keys, title_project, title_words, whole_list, writes_code)
from qa.names import named_terms, times_named, unmentioned
from qa.polarity import contradicted
from qa.shortanswer import (answers_kind, asked_author_of, asks_consequence, asks_publication, asks_reason, asks_yes_no,
                            byline_author, byline_date, candidates, contact_form, counted_noun, names_someone,
                            question_terms, question_type, same_platform, short_answer, unsaid_event)
from qa.text import STOP_WORDS, stem, terms, words
from qa.tokens import TokenVectors
from qa.read import Reading
from qa.types import Article, Extraction, Hit, Passage, Ranking, ScoredSentence, ShortAnswer, Span

FEATURES = ("bias", "similarity", "overlap", "bigram_overlap", "passage_score", "passage_dense",
            "passage_lexical", "reciprocal_rank", "type_match", "new_words", "similarity_gap", "overlap_gap",
            "neighbour_overlap", "neighbour_similarity", "term_coverage", "term_density", "log_length",
            "typed_spans", "position_in_passage", "opens_with_reference", "title_overlap",
            "match_density", "log_new_names", "missing_rarest", "similarity_rank", "window_similarity",
            "window_gain", "token_match", "token_window_gain", "wh_token_match")
_REFERENCES = frozenset("he she it they this these those that his her its their".split())
# Units that cannot answer: a question of its own (a question word or an auxiliary first, after a list marker or
# emphasis, and "?" last), and a bold label alone ("**Objectives**", "__Note__").
_NON_ANSWER = re.compile(
    r"\s*(?:[-*+]\s+|\d{1,9}[.)]\s+)?[*_]*(?:what|when|where|which|who|whom|whose|why|how|is|are|was|were|do|does"
    r"|did|can|could|should|would|will|has|have)\b.*\?[\"'”’)*_]*\s*"
    r"|\s*(\*\*|__)[^*_\n]{1,60}?[^*_\n.!?:;,]\1\s*", re.I | re.A | re.S)
_NAME_OR_NUMBER = re.compile(r"\b[A-Z][\w'’-]*|\b\d[\d,.]*")


@dataclass(frozen=True)
class ExtractWeights:
    """Fitted on SQuAD v1.1 dev articles 1–24 (whole articles, never single questions) by
    ``bench/tune_extract.py``: a listwise (conditional logit) fit of the sentence ranking; Platt scaling
    of a sentence's score into a probability (which sentences are quoted, which passages shown); and
    the confidence model over the best sentence (``CONFIDENCE_FEATURES``)."""

    coefficients: tuple[float, ...] = (
        0.0, 0.0398, -0.6836, 0.9773, 3.0679, 2.0147, 1.9851, 0.4966, 1.6086, 5.9016, 0.0548, -0.3335, -0.5497,
        -1.6385, 3.4450, -0.1630, -0.2906, 0.1002, 0.0132, 0.3722, -0.4858, 0.2422, 0.0614, -0.3385, -0.0762,
        0.3277, 1.7503, 23.9406, 16.5006, 4.1587,
    )
    calibration: tuple[float, float] = (0.2388, -6.8428)  # scale, shift
    keep_margin: float = 0.15  # further sentences are quoted while their probability is this close
    max_sentences: int = 3
    duplicate_jaccard: float = 0.7
    untyped_cap: float = 0.2  # confidence ceiling when the best sentence lacks the kind of thing asked for
    # The same when the question names what the best sentence's document never mentions (``qa.names``): of the
    # SQuAD v2.0 dev 1–24 questions so answered, 15 of 160 were right (140 unanswerable, 5 wrong).
    unmentioned_cap: float = 0.2
    # Below this confidence, weaker evidence that the quote misses the point also caps it at ``untyped_cap``: a name
    # the question gives that the quote's passage never mentions, or a "how many" question's noun the quote lacks.
    # Not above: the surer replies are the right ones. Dev articles 1–24, SQuAD v1.1 first sentences lost against
    # SQuAD v2.0 unanswerable questions abstained, for a passage without a name its document gives at most twice:
    # below 0.5, 2 for 24; below 0.6, 5 for 41; below 0.7, 9 for 54 (any name: 5 for 26, 13 for 46, 25 for 64). The
    # held-out articles cost more than that foretold (at 0.6, with the other checks, 5 of 800 v1.1 first sentences
    # where 10 of 5,696 foretold 1.4), so the threshold is the cautious one.
    unsure_outside_passage: float = 0.5
    # Added to the calibrated log-odds of the units a question names by their place ("the fifth step", "Play 4"):
    # set by hand, not fitted (SQuAD has no numbered lists); large, since naming the place is the whole question.
    place_bonus: float = 6.0
    # The same for the opening sentence of the document a question asks about as a whole ("What is ripgrep?",
    # "What is the Contributor Covenant about?"): hand-set like ``place_bonus``; SQuAD dev 1–48 has six such
    # questions, each answered by its article's first sentence.
    lead_bonus: float = 6.0
    # Taken from the log-odds of a unit that cannot answer: a sentence that is itself a question ("What is a command
    # shell and why would I use one?", a lesson's list of questions) and a bold label on a line of its own
    # ("**Objectives**"). Hand-set; of SQuAD dev's 10,570 questions, none has its answer in such a unit (11 in
    # sentences that end in a quoted question, which do not count).
    non_answer_penalty: float = 4.0
    # P(the best sentence answers) from CONFIDENCE_FEATURES, fitted with questions the corpus does not
    # answer among the negatives; None: the Platt-scaled best logit
    confidence: tuple[float, ...] | None = (
        -1.9878, -0.3020, 0.2594, 0.7103, 2.3946, 0.4037, 1.3199, 1.1488, 0.6541, 0.1347, 0.3736, -2.7936, -1.2893,
        -0.5489, -0.4646, -0.2170, -0.1507, 0.0047, -0.0380, 0.0940, -0.0506, 0.0284, -0.4538, 0.2834, -0.0985,
        0.2301, -0.0077, 0.6796, -0.1406, 13.8264, 10.3760, 0.5063,
    )


LEXICAL_WEIGHTS = ExtractWeights(
    coefficients=(
        0.0, 3.5641, 0.1457, 1.1718, 4.3151, 3.0378, 2.6579, 0.4357, 2.2316, 5.3322, 4.9060, 0.0711, 0.0573,
        -3.4050, 4.4900, -0.0808, 0.2326, 0.1510, -0.0090, 0.4823, -0.5949, 0.2875, 0.1416, -0.4644, -0.0896,
        4.4461, 5.7521, 0.0, 0.0, 0.0,
    ),
    calibration=(0.2671, -4.6047),
    confidence=(
        -0.2539, 0.0164, 0.2509, 1.6649, 3.7568, 0.1098, 0.8395, 0.8019, -0.0290, 0.1652, -0.1094, -5.3737,
        -1.1243, -1.3582, -0.5000, -0.0137, -0.9498, 0.1597, 0.1862, 0.0392, -0.0327, -0.1432, -0.4103, 0.3657,
        -0.0779, 0.6212, 0.0293, 1.5393, -0.7621, 0.0000, 0.0000, 0.0000,
    ),
)
"""For an index without token vectors (built by an embedder that gives none, such as ``qa index --ray``):
the same fit without the three token features."""

CONFIDENCE_FEATURES = ("bias", "best_logit", "margin", *FEATURES[1:])
"""What the confidence model reads: the best sentence's ranking score, its lead over the runner-up,
and the best sentence's own features (how much of the question it covers, by words and by tokens)."""
_MAX_MARGIN = 10.0


def confidence_features(matrix: np.ndarray, logits: np.ndarray, best: int | None = None) -> np.ndarray:
    """CONFIDENCE_FEATURES of a question's best sentence (row ``best``, else the highest logit), from all
    its sentences' features and logits."""
    best = int(np.argmax(logits)) if best is None else best
    runner_up = np.delete(logits, best)
    margin = float(logits[best] - runner_up.max()) if len(runner_up) else _MAX_MARGIN
    return np.concatenate([[1.0, float(logits[best]), min(margin, _MAX_MARGIN)], matrix[best, 1:]])


_TYPED_COLUMNS = (FEATURES.index("type_match"), FEATURES.index("typed_spans"))
_MAX_TYPED_SPANS = 3


def features(query: str, query_vector: np.ndarray, hits: Sequence[Hit], store: IndexStore,
             query_tokens: TokenVectors | None = None):
    """(sentence rows, their best hit, feature matrix, texts) for every sentence of the hits, each once.

    The token features stay 0 unless the store has sentence tokens and ``query_tokens`` are given."""
    rows, row_hits, matrix, texts, fill_typed = _features(query, query_vector, hits, store, query_tokens)
    fill_typed(range(len(rows)))
    return rows, row_hits, matrix, texts


def _features(query: str, query_vector: np.ndarray, hits: Sequence[Hit], store: IndexStore,
              query_tokens: TokenVectors | None = None):
    """As ``features``, but the typed-span columns (the slow ones) stay 0 until ``fill_typed(indices)``."""
    best_hit: dict[int, Hit] = {}
    passage_start: dict[int, int] = {}
    for hit in hits:
        lo, hi = store.passage_rows[store.passage_row[hit.passage.id]]
        for row in range(lo, hi):
            if row not in best_hit:  # hits arrive best first
                best_hit[row], passage_start[row] = hit, lo
    rows = list(best_hit)
    if not rows:
        return rows, [], np.zeros((0, len(FEATURES)), np.float32), [], lambda indices: None
    query_vector = np.asarray(query_vector, np.float32)
    all_rows, pairs = _neighbour_pairs(rows, store.sentence_table)
    vectors = np.asarray(store.sentence_vectors[np.asarray(all_rows)], np.float32)
    similarity = dict(zip(all_rows, (vectors @ query_vector).tolist()))
    window = _window_similarity(rows, all_rows, pairs, vectors, similarity)
    question = _analyse(query)
    query_terms, query_bigrams = question.term_set, question.bigrams
    idf = store.idf
    mass = sum(idf.get(t, store.default_idf) for t in query_terms) or 1.0
    kind = question_type(query)
    asked = question_terms(query)
    # "Did Jeremy Clarkson ever write for the Star?" is confirmed by a list item "Jeremy Clarkson": a unit that adds no
    # word to the question cannot answer what it asks, but can say yes to it
    verifying = asks_yes_no(query)
    texts: dict[int, str] = {}
    overlap: dict[int, float] = {}
    analysed: dict[int, _Sentence] = {}
    articles = store.article_list
    for row, (article_row, start, end) in zip(all_rows, store.sentence_table[np.asarray(all_rows)].tolist()):
        texts[row] = articles[article_row].text[start:end]
        analysed[row] = _analyse(texts[row])
        overlap[row] = sum(idf.get(t, store.default_idf) for t in query_terms & analysed[row].term_set) / mass
    best_similarity = max(similarity[r] for r in rows)
    best_overlap = max(overlap[r] for r in rows)
    term_idf = {t: idf.get(t, store.default_idf) for t in query_terms}
    top_idf = max(term_idf.values(), default=0.0) or 1.0
    asked_words = set(words(query))
    similarity_rank = _ranks([similarity[r] for r in rows])
    matched_tokens = (store.tokens.features(query, query_tokens, rows, pairs)
                      if store.tokens is not None and query_tokens is not None else {})
    neighbours: dict[int, list[int]] = {}
    for row, neighbour in pairs:
        neighbours.setdefault(row, []).append(neighbour)
    matrix = np.zeros((len(rows), len(FEATURES)), np.float32)
    for i, row in enumerate(rows):
        sentence = analysed[row]
        own_terms = sentence.term_set
        hit = best_hit[row]
        around = neighbours.get(row, ())
        matched = query_terms & own_terms
        positions = [j for j, t in enumerate(sentence.terms) if t in query_terms]
        title_terms = _analyse(hit.title).term_set
        new_names = sum(1 for name in sentence.names if name not in asked_words and stem(name) not in query_terms)
        matrix[i] = (
            1.0,
            similarity[row],
            overlap[row],
            len(query_bigrams & sentence.bigrams) / len(query_bigrams) if query_bigrams else 0.0,
            hit.score,
            hit.dense,
            hit.lexical,
            1.0 / (1 + hit.rank),
            0.0,  # type_match: fill_typed
            1.0 if verifying or any(t not in asked for t in own_terms - STOP_WORDS) else 0.0,
            similarity[row] - best_similarity,
            overlap[row] - best_overlap,
            max((overlap[r] for r in around), default=0.0),
            max((similarity[r] for r in around), default=0.0),
            len(matched) / len(query_terms) if query_terms else 0.0,
            len(matched) / len(own_terms) if own_terms else 0.0,
            math.log1p(len(sentence.terms)),
            0.0,  # typed_spans: fill_typed
            min(row - passage_start[row], 5),
            1.0 if sentence.first_word in _REFERENCES else 0.0,
            len(title_terms & own_terms) / len(title_terms) if title_terms else 0.0,
            len(positions) / (positions[-1] - positions[0] + 1) if len(positions) >= 2 else 0.0,
            math.log1p(new_names),
            max((term_idf[t] for t in query_terms - own_terms), default=0.0) / top_idf,
            min(similarity_rank[i], 10),
            window[row],
            window[row] - similarity[row],
            *matched_tokens.get(row, (0.0, 0.0, 0.0)),
        )
    row_texts = [texts[r] for r in rows]
    type_match, typed_spans = _TYPED_COLUMNS

    def fill_typed(indices) -> None:
        if kind is None:
            return
        for i in indices:
            spans = len(candidates(row_texts[i], kind, query))
            matrix[i, type_match] = 1.0 if spans else 0.0
            matrix[i, typed_spans] = min(spans, _MAX_TYPED_SPANS)

    return rows, [best_hit[r] for r in rows], matrix, row_texts, fill_typed


@dataclass(frozen=True, slots=True)
class _Sentence:
    """What the features need from a sentence's text alone, computed once per distinct sentence."""

    terms: tuple[str, ...]
    term_set: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    names: tuple[str, ...]  # capitalised words and numbers, lower-cased
    first_word: str


@lru_cache(maxsize=32_768)
def _analyse(text: str) -> _Sentence:
    sentence_terms = tuple(terms(text))
    first = words(text[:40])[:1]
    return _Sentence(terms=sentence_terms, term_set=frozenset(sentence_terms),
                     bigrams=frozenset(zip(sentence_terms, sentence_terms[1:])),
                     names=tuple(m.lower() for m in _NAME_OR_NUMBER.findall(text)), first_word=first[0] if first else "")


def _neighbour_pairs(rows: list[int], table: np.ndarray) -> tuple[list[int], list[tuple[int, int]]]:
    """The rows with their neighbours in the same article (sorted), and the (row, neighbour) pairs.

    Neighbours lend their overlap and similarity; found in bulk, not row by row.
    """
    row_array = np.asarray(rows)
    around = np.concatenate([row_array - 1, row_array + 1])
    owner = np.concatenate([row_array, row_array])
    inside = (around >= 0) & (around < len(table))
    around, owner = around[inside], owner[inside]
    same_article = table[around, 0] == table[owner, 0]
    around, owner = around[same_article].tolist(), owner[same_article].tolist()
    return sorted(set(rows) | set(around)), list(zip(owner, around))


def _window_similarity(rows: list[int], all_rows: list[int], pairs: list[tuple[int, int]], vectors: np.ndarray,
                       similarity: dict[int, float]) -> dict[int, float]:
    """Each row read with its better neighbour ("He died in 1546." after "Luther fell ill."): the cosine
    of the question with the normalised sum of the two unit vectors; the row alone if it has none."""
    window: dict[int, float] = {}
    if pairs:
        position = {r: i for i, r in enumerate(all_rows)}
        left = vectors[[position[o] for o, _ in pairs]]
        right = vectors[[position[a] for _, a in pairs]]
        norms = np.sqrt(np.maximum(2.0 + 2.0 * np.einsum("ij,ij->i", left, right), 1e-12)).tolist()
        for (o, a), norm in zip(pairs, norms):
            window[o] = max(window.get(o, -1.0), (similarity[o] + similarity[a]) / norm)
    for row in rows:
        window.setdefault(row, similarity[row])
    return window


def _ranks(values: list[float]) -> list[int]:
    """0 for the largest value, 1 for the next, ...; ties keep their order."""
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[np.argsort(-np.asarray(values, dtype=np.float64), kind="stable")] = np.arange(len(values))
    return ranks.tolist()


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class ReadWeights:
    """How the reader's spans join the ranking, fitted on SQuAD dev articles 1–24 by ``bench/tune_reader.py``.

    The first quoted sentence maximises ``ranking * logit(sentence probability) + span score``; the
    confidence is a logistic model over the ranking's confidence (as a logit), the best "no answer"
    margin in the first windows read, whether reader and ranking agree on the sentence, and whether the
    sentence and the span hold the kind of thing asked (a date for "when", a place for "where"...).
    When that margin is below ``read_further_below``, the reader also reads further down the ranking;
    once a window holds a span with a margin of ``read_enough_above`` or more, it reads no more of the
    first windows (they come best first, and a span that sure is rarely beaten by a later one; 6 on the
    5,690 SQuAD dev 1–24 questions: 7 replies right that were not, 4 the other way, a quarter fewer tokens
    read at the median; 4 read less but lost 16 for 13).

    ``layout_ranking`` replaces ``ranking`` for quotes with layout (a code block, a list, table rows) and
    for labelled fields ("Languages: …", "Author: …"): the reader learnt to read SQuAD's prose and its
    spans there are weaker evidence, so the ranking counts for more. SQuAD has hardly any such quotes:
    chosen on the project's own questions about the mixed documents (``bench/mixed_docs.py``; 4 → 8:
    105 → 108 of 135 first sentences right, and 110 with the labelled fields). The ranking's logit counts
    relative to the first sentence's, so that weight penalises a lower-ranked quote with layout more rather
    than lifting it above the first (own mixed questions 396 → 400 of 475 answerable right, 101 → 100 of 155
    abstained), except for questions asking for a command, code or its output.
    """

    read_further_below: float = -2.0
    read_enough_above: float = 6.0
    ranking: float = 4.0
    layout_ranking: float = 8.0
    bias: float = -1.2405
    confidence: float = 0.2276
    margin: float = 0.1704
    agreement: float = 0.8037
    typed: float = 1.1124
    span_typed: float = 0.2422


class SentenceExtractor:
    def __init__(self, store: IndexStore, min_confidence: float = 0.5, weights: ExtractWeights | None = None,
                 lexical_weights: ExtractWeights = LEXICAL_WEIGHTS, read_weights: ReadWeights | None = None):
        self.store = store
        self.read_weights = read_weights or ReadWeights()
        self.min_confidence = min_confidence
        self.weights = weights or ExtractWeights()
        self.lexical_weights = lexical_weights
        self._id_rank: np.ndarray | None = None  # article row -> rank of its id, for ties
        self._titles: tuple[dict, dict] | None = None  # ``_title_index``: as written, stemmed
        self._project_names: tuple[str, ...] | None = None  # ``_projects``

    def weights_for(self, query_tokens: TokenVectors | None) -> ExtractWeights:
        """The token-feature weights where token vectors are at hand on both sides, else the lexical ones."""
        return self.weights if query_tokens is not None and self.store.tokens is not None else self.lexical_weights

    def score(self, query: str, query_vector: np.ndarray, hits: Sequence[Hit],
              query_tokens: TokenVectors | None = None) -> list[ScoredSentence]:
        """Every sentence of the retrieved passages with P(it holds the answer), best first."""
        return self._score(query, query_vector, hits, query_tokens)[0]

    def _score(self, query: str, query_vector: np.ndarray, hits: Sequence[Hit],
               query_tokens: TokenVectors | None = None) -> tuple[list[ScoredSentence], float]:
        """``score``, and the confidence that the best sentence answers (0 without sentences)."""
        rows, row_hits, matrix, texts, fill_typed = _features(query, query_vector, hits, self.store, query_tokens)
        if not rows:
            return [], 0.0
        chosen = self.weights_for(query_tokens)
        weights = np.asarray(chosen.coefficients, np.float32)
        logits = matrix @ weights
        self._add_typed(logits, matrix, weights, row_hits, fill_typed, chosen)
        scale, shift = chosen.calibration
        articles = self.store.article_list
        table = self.store.sentence_table[np.asarray(rows)]
        place_bonus = self._place_bonus(query, table, chosen)
        cannot = np.fromiter((_NON_ANSWER.fullmatch(text) is not None for text in texts), bool, len(texts))
        probabilities = _sigmoid(scale * logits + shift + place_bonus - chosen.non_answer_penalty * cannot)
        # best first; ties by article id, then position (the article rows' order by id, computed once)
        if self._id_rank is None:
            self._id_rank = np.argsort(np.argsort([a.id for a in articles], kind="stable"))
        order = np.lexsort((table[:, 1], self._id_rank[table[:, 0]], -probabilities)).tolist()
        confidence = float(probabilities[order[0]])
        if chosen.confidence is not None:
            confidence = float(_sigmoid(confidence_features(matrix, logits, order[0]) @ np.asarray(chosen.confidence)))
        if np.ndim(place_bonus) and place_bonus[order[0]]:
            # the unit the question names by its place: its own probability says how surely it answers (the
            # confidence model never saw the bonus, and reads four equal units of a section as a close call)
            confidence = max(confidence, float(probabilities[order[0]]))
        spans, probabilities = table.tolist(), probabilities.tolist()
        return [ScoredSentence(text=texts[i], article_id=articles[spans[i][0]].id, start=spans[i][1], end=spans[i][2],
                               score=probabilities[i], hit=row_hits[i]) for i in order], confidence

    def _place_bonus(self, query: str, table: np.ndarray, chosen: ExtractWeights) -> np.ndarray | float:
        """``chosen.place_bonus`` for each sentence row that is the unit the question names by its place or by its
        section's heading (less for a section's later units) or that holds the command-line options it names as
        written ("-H", not "-h"), ``chosen.lead_bonus`` for the opening sentence of a document the question asks
        about as a whole, else 0."""
        articles = self.store.article_list
        place = asked_place(query)
        if place is not None:
            return np.array([chosen.place_bonus * place_match(articles[article], start, place)
                             for article, start, _ in table.tolist()], np.float32)
        leads = self.leads(query)
        if leads:
            return np.array([chosen.lead_bonus * float(leads.get(article) == start)
                             for article, start, _ in table.tolist()], np.float32)
        heading = asked_heading(query)
        options = asked_options(query)

        def matched(article: int, start: int, end: int) -> float:
            found = faq_match(articles[article], start, query)
            if heading is not None:
                found = max(found, section_match(articles[article], start, heading),
                            field_match(articles[article], start, end, heading))
            if options:
                found = max(found, option_match(articles[article].text[start:end], options))
            return found

        scores = [matched(*row) for row in table.tolist()]
        return chosen.place_bonus * np.array(scores, np.float32) if any(scores) else 0.0

    def leads(self, query: str) -> dict[int, int]:
        """For a question about a whole document ("What is ripgrep?"): article row -> where the opening prose of
        each document whose title it names starts (``qa.blocks.lead_start``); else empty."""
        subject = asked_subject(query)
        if subject is None:
            return {}
        rows = self._title_index(stemmed=True).get(_stemmed(title_words(subject)), [])
        starts = {row: lead_start(self.store.article_list[row]) for row in rows}
        return {row: start for row, start in starts.items() if start is not None}

    def _title_index(self, stemmed: bool = False) -> dict[tuple[str, ...], list[int]]:
        """Title words (``title_keys``) -> article rows; stemmed, for a subject asked about ("What is a query
        parameter?" of "Query Parameters"), or as written, for a title named in passing (a stem would make
        "geological" name "Geology")."""
        if self._titles is None:
            exact: dict[tuple[str, ...], list[int]] = {}
            for row, article in enumerate(self.store.article_list):
                for key in title_keys(article.title):
                    exact.setdefault(key, []).append(row)
            stems: dict[tuple[str, ...], list[int]] = {}
            for key, rows in exact.items():
                group = stems.setdefault(_stemmed(key), [])
                group += [row for row in rows if row not in group]
            self._titles = (exact, stems)
        return self._titles[1] if stemmed else self._titles[0]

    def named_titles(self, query: str) -> tuple[str, ...]:
        """The documents' titles (``title_keys``, or the project a title's bracket names: ``title_project``; longest
        first) the question names in its words, as it writes them: "fd" in "Does fd search zip archives?", "uv" in
        "What licence is uv under?". A title names a document as a capitalised name does."""
        index = self._title_index()
        longest = max(map(len, index), default=0)
        found, spans = [], []
        tokens = [(m.group(), m.start(), m.end()) for m in re.finditer(r"\w+", query)]  # as ``title_words`` splits
        folded = [t.lower() for t, _, _ in tokens]
        for size in range(min(longest, len(tokens)), 0, -1):
            for i in range(len(tokens) - size + 1):
                if tuple(folded[i : i + size]) in index and not any(a < tokens[i + size - 1][2] and tokens[i][1] < b
                                                                    for a, b in spans):
                    spans.append((tokens[i][1], tokens[i + size - 1][2]))
                    found.append(query[tokens[i][1] : tokens[i + size - 1][2]])
        for project in self._projects():  # as the title writes it: "Requests" names the project, "requests" need not
            match = re.search(r"(?<!\w)" + re.escape(project) + r"(?!\w)", query)
            if match and not any(a < match.end() and match.start() < b for a, b in spans):
                spans.append(match.span())
                found.append(project)
        return tuple(found)

    def _projects(self) -> tuple[str, ...]:
        """The projects the documents' titles name in brackets (``title_project``), as written, longest first."""
        if self._project_names is None:
            named = {title_project(article.title) for article in self.store.article_list}
            self._project_names = tuple(sorted(filter(None, named), key=len, reverse=True))
        return self._project_names

    def lead_passages(self, query: str, article_id: str | None = None) -> list[int]:
        """The passage rows holding ``leads`` (within ``article_id`` when given): retrieval must not miss them."""
        store, found = self.store, []
        for row, start in self.leads(query).items():
            article = store.article_list[row]
            if article_id is not None and article.id != article_id:
                continue
            found += [p for p in store.passages_by_article.get(article.id, [])
                      if store.passages[p].start <= start < store.passages[p].end][:1]
        return found

    def _add_typed(self, logits: np.ndarray, matrix: np.ndarray, weights: np.ndarray, row_hits: list[Hit],
                   fill_typed, chosen: ExtractWeights) -> None:
        """Add the typed-span features, skipping sentences they could not lift to where they matter.

        Finding dates, numbers or names in every sentence is the slow part of scoring. A sentence
        needs them only if they could make it its passage's best (which ranks the passages) or bring
        it within ``keep_margin`` of the best sentence (which decides what is quoted), or make it the
        runner-up (whose score the confidence reads). Sentences are visited best first; one whose score
        plus the most the typed features can add stays below all three keeps its score without them,
        a lower bound that changes nothing shown.
        """
        type_match, typed_spans = _TYPED_COLUMNS
        most = max(weights[type_match], 0.0) + _MAX_TYPED_SPANS * max(weights[typed_spans], 0.0)
        scale, shift = chosen.calibration
        passage_best: dict[str, float] = {}
        best = second = -math.inf
        for i in np.argsort(-logits, kind="stable").tolist():
            passage = row_hits[i].passage.id
            bound = float(logits[i]) + most
            if (bound <= passage_best.get(passage, -math.inf) and bound <= second
                    and _sigmoid(scale * bound + shift) < _sigmoid(scale * best + shift) - chosen.keep_margin):
                continue
            fill_typed((i,))
            logits[i] = score = float(matrix[i] @ weights)
            passage_best[passage] = max(passage_best.get(passage, -math.inf), score)
            best, second = max(best, score), max(second, min(best, score))
        logits[:] = matrix @ weights  # the same arithmetic as scoring every row: no rounding differences

    def extract(self, query: str, query_vector: np.ndarray, hits: Sequence[Hit], top_k: int | None = None,
                query_tokens: TokenVectors | None = None) -> Extraction:
        """``decide(rank(...))`` without a reader."""
        return self.decide(query, self.rank(query, query_vector, hits, top_k, query_tokens))

    def rank(self, query: str, query_vector: np.ndarray, hits: Sequence[Hit], top_k: int | None = None,
             query_tokens: TokenVectors | None = None) -> Ranking:
        """Score every sentence of the hits and keep the top_k passages holding the best sentences."""
        ranked, confidence = self._score(query, query_vector, hits, query_tokens)
        kept = rerank(hits, ranked, len(hits) if top_k is None else top_k)
        kept_ids = {h.passage.id for h in kept}
        ranked = [s for s in ranked if s.hit.passage.id in kept_ids]
        lexical = query_tokens is None or self.store.tokens is None
        return Ranking(sentences=tuple(ranked), confidence=confidence, hits=tuple(kept), lexical=lexical)

    def read_enough(self, readings: Sequence[Reading]) -> bool:
        """Whether the windows read so far hold a span the reader is sure of (``ReadWeights``), so the
        rest of the first windows, which rank lower, need not be read."""
        return bool(readings) and _best_margin(readings) >= self.read_weights.read_enough_above

    def reads_further(self, readings: Sequence[Reading], ranking_confidence: float | None = None) -> bool:
        """Whether the reader found no likely answer in the windows it read first (``ReadWeights``), so the
        windows of sentences further down the ranking are worth reading: a reworded question's answer
        often ranks fourth or fifth. Not when, given the ranking's confidence, the reply would abstain
        whatever they hold: the confidence reads the first windows' margin only, so they could change
        no more than which passage an abstention shows, at the cost of the slowest questions' time."""
        if not readings or _best_margin(readings) >= self.read_weights.read_further_below:
            return False
        if ranking_confidence is None or not any(math.isfinite(r.span_score) for r in readings):
            return True  # without a span read, ``decide`` falls back on the ranking's confidence
        read = self.read_weights
        best_case = self._read_confidence(ranking_confidence, readings, read.agreement > 0, read.typed > 0,
                                          read.span_typed > 0)
        return best_case >= self.min_confidence

    def _read_confidence(self, ranking_confidence: float, readings: Sequence[Reading], agreement: bool, typed: bool,
                         span_typed: bool) -> float:
        """P(right) from the ranking's confidence, the first windows' best margin and what the quote holds."""
        read = self.read_weights
        return float(_sigmoid(read.bias + read.confidence * _logit(ranking_confidence)
                              + read.margin * min(_best_margin(readings), _MAX_READ_MARGIN)
                              + read.agreement * agreement + read.typed * typed + read.span_typed * span_typed))

    def decide(self, query: str, ranking: Ranking, readings: Sequence[Reading] = (),
               further: Sequence[Reading] = ()) -> Extraction:
        """What to quote (or to abstain), from the ranked sentences and, where given, the reader's spans.

        With readings, the first quoted sentence is the one holding the best span by the reader and the
        ranking together (``ReadWeights``), the short answer is that span, and the confidence reads the
        reader's "no answer" margin beside the ranking's confidence. ``further`` are the readings of the
        windows read after ``reads_further``: their spans compete for the quote, but the margin stays that
        of the first windows, so reading more never makes a reply surer (what the weights were fitted on).
        """
        w = self.lexical_weights if ranking.lexical else self.weights
        ranked = list(ranking.sentences)
        if not ranked:
            return Extraction(sentences=(), confidence=0.0, answerable=False, hits=ranking.hits)
        confidence = ranking.confidence
        spans = _spans_by_sentence(ranked, [*readings, *further])
        best = ranked[0]
        short = None
        byline_part = _byline_part(query)
        if spans:
            read = self.read_weights
            # the ranking counts relative to the first sentence's, so the larger weight of quotes with layout makes a
            # lower-ranked one lose more, not win: a code block ranked second does not beat the first sentence's
            # prose with a weak span ("How do I make a query parameter optional?"), unless code is what is asked
            top = 0.0 if _ASKS_FOR_CODE.search(query) else _logit(ranked[0].score)
            best = max(spans, key=lambda s: _ranking_weight(s, read) * (_logit(s.score) - top) + spans[s].span_score)
            byline = _byline_asked(query, best, ranked, byline_part)
            if byline is not None and self._unmentioned(query, best)[0]:
                byline = None  # another page is asked about: ``_mentioning`` finds the one that names it
            if byline is not None:
                best = byline
            elif ranked[0] in spans and self._asks_overview(query):
                # "What is Play 3?", "What is ripgrep?": the ranking has put the opening of what is named first;
                # a reader trained on factoid questions would rather quote a checklist item it can cut a span from
                best = ranked[0]
            else:
                margin = w.keep_margin
                best = (_definition(query, best, ranked, margin) or _with_form(query, best, ranked, margin)
                        or _current(query, best, ranked, margin) or self._mentioning(query, best, ranked, margin)
                        or best)
            reading = spans.get(best)
            whole = _whole_words(best, reading.start, reading.end) if reading else None
            span_text = _article_slice(best, *whole) if whole else best.text
            confidence = self._read_confidence(ranking.confidence, readings, best is ranked[0],
                                               answers_kind(best.text, query), answers_kind(span_text, query))
            if best is byline:  # the page's byline says it by its form, however the reader read it
                confidence = max(confidence, ranking.confidence)
            tidy = _balanced_span(best, *whole) if whole else None
            if not has_layout(best.text) and tidy is not None:
                short = ShortAnswer(text=_article_slice(best, *tidy), article_id=best.article_id,
                                    start=tidy[0], end=tidy[1])
        said = byline_part(best.text) if byline_part is not None else None
        if said is not None:  # "When was the hummus recipe posted?": the byline's date; "Who wrote …?": its author
            short = ShortAnswer(text=best.text[said[0] : said[1]], article_id=best.article_id,
                                start=best.start + said[0], end=best.start + said[1])
        echoed = short is not None and _echoes_code(short.text, query)
        if echoed:  # "What exception does r.json() raise …?" is not answered by "`r.json()`": the asker wrote it
            told = _code_told_next(best, query, self.store)
            if told is not None:  # "… raises an exception." + "For example, … raises `requests.exceptions.…`"
                best, short, echoed = *told, False
        contrary = contradicted(query, best.text)
        if (not answers_kind(best.text, query) or contrary is not None or echoed
                or (short is not None and said is None and not names_someone(short.text, query))):
            # "When ...?" answered by a sentence with no date (or "how many" with no number, "where"
            # with no place, "Who was the first public editor?" by "ombudsman") is a near miss on the topic, as is
            # "What is the least used type of reduction?" by "The most commonly used reduction is …"
            confidence = min(confidence, w.untyped_cap)
        missing, field = self._unmentioned(query, best)
        if missing:  # "Who was Bill Aiken's mother?" of an article that never names an Aiken
            confidence = min(confidence, w.unmentioned_cap)
        elif field is not None and names_another_field(query, field, best.text):
            confidence = min(confidence, w.untyped_cap)  # "national dish" of "National symbol(s): …"
        elif (self._named_elsewhere(query, best) or self._number_elsewhere(query, best)
              or self._no_command(query, best) or unsaid_event(best.text, query) or self._name_swapped(query, best)
              or (confidence < w.unsure_outside_passage
                  and (self._named_outside_passage(query, best) or self._uncounted(query, best)))):
            confidence = min(confidence, w.untyped_cap)
        listed = self._whole_list(query, best)
        if listed is not None:  # "What are the ingredients?": the list under that heading, whole
            best, short = listed, None
        else:
            led = _with_lead_in(query, best, self.store)
            if led is not None:  # "How do I update Rust?": "… is easy." and "run the following script:" + code
                best, short = led, None
            else:  # "This is particularly useful when …" says what "this" is only with the sentence before it
                article = self.store.articles.get(best.article_id)
                asks_why = asks_reason(query) or asks_consequence(query)
                best = (_with_antecedent(best, self.store) or (asks_why and _with_sequel(best, self.store))
                        or _with_table(best, article) or best)
        chosen = [best]
        chosen_terms = [_analyse(best.text).term_set]  # cached when the sentence was scored
        for candidate in ranked:
            if len(chosen) >= w.max_sentences or candidate.score < ranked[0].score - w.keep_margin or listed:
                break
            if (candidate.article_id, candidate.start) in ranking.nearby:
                continue  # close to the first only for following the last answer
            if candidate.article_id == best.article_id and best.start <= candidate.start < best.end:
                continue  # best itself, or a unit its widened quote holds
            candidate_terms = _analyse(candidate.text).term_set
            if any(_jaccard(candidate_terms, t) >= w.duplicate_jaccard for t in chosen_terms):
                continue
            chosen.append(candidate)
            chosen_terms.append(candidate_terms)
        if short is None and not spans and not has_layout(best.text):
            # A quoted code block, list or table is the answer as laid out: no phrase is cut from it.
            span = short_answer(best.text, query)
            if span is not None:
                short = ShortAnswer(text=best.text[span[0] : span[1]], article_id=best.article_id,
                                    start=best.start + span[0], end=best.start + span[1])
        if asks_summary(query):  # "Tell me about fd": the quote answers; a phrase cut from it would not
            short = None
        return Extraction(sentences=tuple(chosen), confidence=round(confidence, 4),
                          answerable=confidence >= self.min_confidence, short_answer=short, hits=ranking.hits,
                          unmentioned=missing, unmentioned_field=field if missing else None, contradicted=contrary)

    def _asks_overview(self, query: str) -> bool:
        """Whether the question asks what a named section (by its place) or a document (by its title) is."""
        place = asked_place(query)
        return (place is not None and place.overview) or bool(self.leads(query))

    def _unmentioned(self, query: str, best: ScoredSentence) -> tuple[tuple[str, ...], str | None]:
        """The names the question gives (and the documents' titles it names) that the quoted document never mentions;
        for a fact sheet's field, that neither the document's title nor the field mentions: "Capital: Thimphu" of
        Bhutan's fact sheet does not answer "What is the capital of Nepal?", though the sheet names Nepal elsewhere.
        With them, the field's label when the quote is a field."""
        article = self.store.articles.get(best.article_id)
        if article is None:
            return (), None
        text = article.text
        label = field_label(best.text, text[best.start - 1 : best.start] if best.start else "",
                            text[best.end : best.end + 1])
        scope = best.text if label is not None else text
        return _unnamed(query, article.title, scope, self.named_titles(query)), label

    def _named_elsewhere(self, query: str, best: ScoredSentence) -> bool:
        """Whether a name the question gives is only in other sections of the quoted document: "What satisfaction
        rating did users give ClimateCorps.gov?" is not answered under "## Federal Audit Clearinghouse", whose
        helpdesk is "trending over 95%"."""
        article = self.store.articles.get(best.article_id)
        scope = section_scope(article, best.start) if article is not None else None
        return scope is not None and bool(_unnamed(query, article.title, scope))

    def _named_outside_passage(self, query: str, best: ScoredSentence) -> bool:
        """Whether a name or number the question gives is neither in the quote's passage nor in the headings above it,
        and its document names it no more than twice: "Where was the first settlement in Canberra?" is not answered by
        a passage on Victoria's first settlement. A name the document gives often is what it is about, and its
        passages leave it out ("the Panthers" of an article on the Carolina Panthers). Not for yes/no questions,
        which may propose what the text does not say."""
        article = self.store.articles.get(best.article_id)
        if article is None or asks_yes_no(query):
            return False
        missing = _unnamed(query, section_title(article, best.start), best.hit.passage.text, cache=False)
        return any(times_named(name, article.text) <= _RARELY_NAMED for name in missing)

    def _name_swapped(self, query: str, best: ScoredSentence) -> bool:
        """Whether a name of several words the question gives is not in the quote's passage, and the quote gives
        another in its place: one sharing a word with it ("Gallery Weekend", "Charles") and having one of its own,
        while a word of the question's name is nowhere in the passage. "When is the Ujazdow Gallery Weekend held?" is
        not answered by "Since 2011 Warsaw Gallery Weekend is held on last weekend of September.", nor "What are
        the sources of American Union law?" by "… European Union …". A part of the name is no other name ("Climate
        Corps positions" are the American Climate Corps'), nor is one whose own words the question gives ("the
        French House" of "House of Guise"), nor a shared "New" or "Western" ("New York" of "New Amsterdam"); a
        numeral ("World War II") is no word. Not for yes/no questions, which may propose one."""
        article = self.store.articles.get(best.article_id)
        if (article is None or asks_yes_no(query)
                or not any(len(_name_words(name)) >= 2 for name in named_terms(query))):
            return False  # no name of several words: spare the passage's vocabulary, built afresh for each reply
        passage = best.hit.passage.text
        for name in _unnamed(query, section_title(article, best.start), passage, cache=False):
            parts = _name_words(name)
            if len(parts) < 2:
                continue
            for other in _NAME_RUN.finditer(best.text):
                given = _name_words(other.group())
                own = {w for w in parts if not any(_same_word(w, g) for g in given)}
                other_own = {w for w in given - parts if re.search(rf"\b{re.escape(w)}\b", query) is None}
                if (len(given) >= 2 and (parts & given) - _PLACE_MODIFIERS and own and other_own
                        and any(re.search(rf"\b{re.escape(w[:5])}", passage, re.I) is None for w in own)):
                    return True
        return False

    def _number_elsewhere(self, query: str, best: ScoredSentence) -> bool:
        """Whether a number the question gives is not in the quote's passage, though its document has it: "How
        many Huguenots lived in West Frisia in 1705?" is not answered by a passage on Virginia's Huguenots that gives
        no 1705. A century or a decade is there as a year within it ("the 16th century" as "In 1564", "the 1700s" as
        "1708"); a year the document gives often is its setting, and its passages leave it out ("in 2015" of an
        article on the 2015 season); not a century ("the 11th century" of the Normans) nor another number."""
        if asks_yes_no(query):  # "Is it ok to leave the dough in the fridge for 30 hours?" proposes its own number
            return False
        if not any(_BARE_NUMBER.fullmatch(term) for term in named_terms(query)):
            return False  # most questions give none: no vocabulary of the passage is built
        text = best.hit.passage.text
        article = self.store.articles.get(best.article_id)
        return any(_BARE_NUMBER.fullmatch(term) and not _year_within(term, text)
                   and (article is None or not _YEAR.fullmatch(term)
                        or times_named(term, article.text) <= _RARELY_NAMED)
                   for term in unmentioned(query, best.hit.title, text, cache=False))

    def _no_command(self, query: str, best: ScoredSentence) -> bool:
        """Whether a question asks which command, option or flag and the quote writes none in its document's code:
        "Which command does Nelle use to check the length of a file?" is not answered by "Nelle needs to know how
        to: … check the length of a file". Only where the document writes code, so prose ("What option did the
        council choose?") is left alone."""
        if not _ASKS_FOR_COMMAND.search(query) or writes_code(best.text):
            return False
        article = self.store.articles.get(best.article_id)
        return article is not None and writes_code(article.text)

    def _uncounted(self, query: str, best: ScoredSentence) -> bool:
        """Whether a "how many" question counts what the quote (with its table's header row) never names: "How many
        members does the Arts Club of Chicago have?" is not answered by "… which had 30 commercial art galleries"."""
        noun = counted_noun(query)
        if noun is None:
            return False
        article = self.store.articles.get(best.article_id)
        header = reading_context(article, best.start) if article is not None else ""
        return stem(noun) not in {stem(word) for word in words(f"{header}\n{best.text}")}

    def _mentioning(self, query: str, best: ScoredSentence, ranked: Sequence[ScoredSentence],
                    margin: float) -> ScoredSentence | None:
        """When ``best``'s document never mentions a name the question gives, the best ranked sentence within
        ``margin`` of the first whose document does: "When was the 18F at ten post published?" is answered by that
        post's byline, not another post's."""
        if not self._unmentioned(query, best)[0]:
            return None
        return next((s for s in ranked if s.score >= ranked[0].score - margin and not self._unmentioned(query, s)[0]),
                    None)

    def _whole_list(self, query: str, best: ScoredSentence) -> ScoredSentence | None:
        """``best`` widened to its whole list when it is an item of the section the question asks for by its heading
        (``qa.blocks.whole_list``), else None."""
        heading = asked_heading(query)
        if heading is None or asked_place(query) is not None:
            return None
        article = self.store.articles.get(best.article_id)
        span = whole_list(article, best.start) if article and section_match(article, best.start, heading) else None
        if span is None:
            return None
        return replace(best, text=article.text[span[0] : span[1]], start=span[0], end=span[1])


_MAX_READ_MARGIN = 20.0
# A name its document gives at most this often is one its passages do not leave out (``_named_outside_passage``).
_RARELY_NAMED = 2
_NO_SPAN_MARGIN = -20.0  # the margin of windows where no span could be read (all cut off by the token limit)
# A name of capitalised words ("Warsaw Gallery Weekend", "Sir Charles Lyell", "University of Warsaw") and its words
_NAME_RUN = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:(?:of|de|von|van|the)\s+)?[A-Z][\w’'-]*)+")
_NAME_WORD = re.compile(r"\b(?!(?:The|A|An|[IVX]+)\b)[A-Z][\w’'-]*")  # not an article or a numeral ("II")
# Words many names share that set none apart: "New York" is no swap for "New Amsterdam"
_PLACE_MODIFIERS = frozenset("New Old North South East West Northern Southern Eastern Western Central Upper Lower "
                             "Great Greater Saint St San Santa Los Las El Le La".split())


def _name_words(name: str) -> set[str]:
    return set(_NAME_WORD.findall(name))


def _same_word(one: str, other: str) -> bool:
    """Whether two words of names are one ("Europe", "European"): the shorter begins the longer."""
    shorter, longer = sorted((one.lower(), other.lower()), key=len)
    return longer.startswith(shorter[: max(4, len(shorter) - 1)]) if len(shorter) >= 4 else shorter == longer


def _unnamed(query: str, title: str, text: str, also: Sequence[str] = (), cache: bool = True) -> tuple[str, ...]:
    """``qa.names.unmentioned``, an operating system counted as named by any of its names ("Mac" by "macOS")."""
    return tuple(name for name in unmentioned(query, title, text, also, cache) if not same_platform(name, text))


_ASKS_FOR_COMMAND = re.compile(r"\b(?:what|which)\s+(?:[\w-]+\s+)?(?:command|option|flag|switch|subcommand)s?\b", re.I)
# "Which command checks the installed version?", "What error message does FastAPI return?": asked for what a code
# block shows, where the reader, trained on prose, reads weak spans
_ASKS_FOR_CODE = re.compile(r"\b(?:commands?|code|snippets?|syntax|examples?|errors?|output|messages?)\b", re.I)


def _definition(query: str, best: ScoredSentence, ranked: Sequence[ScoredSentence],
                margin: float) -> ScoredSentence | None:
    """For "What is a linker?", the best ranked sentence that says what a linker is (``qa.blocks.defines``) when
    ``best`` does not and it ranks within ``margin`` of the first: the reader, trained on SQuAD's factoids, would
    rather cut "a C compiler" from "… install a C compiler, which will typically include a linker"."""
    term = asked_definition(query)
    if term is None or defines(best.text, term):
        return None
    return _first_close(ranked, margin, lambda text: defines(text, term))


def near_last_answer(ranking: Ranking, question: str, earlier_answer: str | None, bonus: float | None = None,
                     reach: int | None = None) -> Ranking:
    """The ranking with the sentences just after the last answer's raised by ``bonus`` (as a logit), for a follow-up:
    one is most often about what the text says next ("Who built it?" after "When did the new site launch?" is
    answered two sentences on), unless it lacks a name the question gives ("And if I'm on NetBSD?" is not about the
    Ubuntu line after the last answer). Found by the ranked sentence the last answer quoted; unchanged without it.
    The raised sentences are marked ``nearby``: no reason to quote one beside another answer."""
    bonus = FOLLOW_UP_NEARBY if bonus is None else bonus
    reach = FOLLOW_UP_REACH if reach is None else reach
    if not earlier_answer or not bonus:
        return ranking
    anchor = next((s for s in ranking.sentences if s.text in earlier_answer), None)
    if anchor is None:
        return ranking
    named = bool(named_terms(question))
    nearby = frozenset((s.article_id, s.start) for s in ranking.sentences
                       if s.article_id == anchor.article_id and anchor.end <= s.start < anchor.end + reach
                       and not (named and unmentioned(question, "", s.text, cache=False)))
    raised = [replace(s, score=float(_sigmoid(_logit(s.score) + bonus))) if (s.article_id, s.start) in nearby else s
              for s in ranking.sentences]
    return replace(ranking, sentences=tuple(sorted(raised, key=lambda s: -s.score)), nearby=nearby)


def without_repeats(ranking: Ranking, question: str, earlier_question: str, earlier_answer: str | None) -> Ranking:
    """The ranking less the sentences the last answer quoted, for a follow-up: "Why is that such a problem?" after
    "What does the playbook say about data centers …?" asks for more than the sentence already shown. A repeated
    sentence stays when it holds the kind of thing asked and that is news to both questions: "When was that?" after
    "Who founded the Star?" is answered by the founding sentence's "1892", but "When did she die?" after "Who was
    elected president in 1918?" not by its "1918". The confidence is the best remaining sentence's at most."""
    if not earlier_answer or not ranking.sentences:
        return ranking
    kind = question_type(question)
    asked = f"{earlier_question} {question}".lower()

    def news(sentence: ScoredSentence) -> bool:
        spans = candidates(sentence.text, kind, question) if kind is not None else []
        return any(sentence.text[a:b].lower() not in asked for a, b in spans)

    kept = tuple(s for s in ranking.sentences if s.text not in earlier_answer or news(s))
    if not kept or len(kept) == len(ranking.sentences):
        return ranking
    return replace(ranking, sentences=kept, confidence=min(ranking.confidence, kept[0].score))


def _with_form(query: str, best: ScoredSentence, ranked: Sequence[ScoredSentence],
               margin: float) -> ScoredSentence | None:
    """For "What is the website to install Rust?", the best ranked sentence holding a web address
    (``qa.shortanswer.contact_form``) when ``best`` holds none and it ranks within ``margin`` of the first, and for
    "Which option …?" the best one that writes code when ``best`` writes none. Not so for a measure: "Preheat oven to
    500 F" holds a temperature, but not the water's."""
    if _ASKS_FOR_COMMAND.search(query) and not writes_code(best.text):
        # "Which option makes fd search hidden directories?" is answered by the sentence that writes `-H`, not by
        # "By default, fd does not search hidden directories", and first by the one right after that says how to
        # change it ("To disable this behavior, we can use the `-H` (or `--hidden`) option:")
        return next((s for s in ranked if s.score >= ranked[0].score - margin and s.article_id == best.article_id
                     and 0 <= s.start - best.end <= 1 and writes_code(s.text)), None) or _first_close(
                         ranked, margin, writes_code)
    form = contact_form(query)
    if form is None or form.search(best.text):
        return None
    return _first_close(ranked, margin, form.search)


def _byline_part(query: str) -> Callable[[str], tuple[int, int] | None] | None:
    """What the question asks of a page's byline, as the function that finds it there: the date
    (``byline_date``) when it asks when the page was published, the author (``byline_author``) when who wrote it."""
    if asks_publication(query):
        return byline_date
    return byline_author if asked_author_of(query) is not None else None


def _byline_asked(query: str, best: ScoredSentence, ranked: Sequence[ScoredSentence],
                  part: Callable[[str], tuple[int, int] | None] | None) -> ScoredSentence | None:
    """Asked when the page itself was published ("On what date was the NORAD Tracks Santa App story published?") or
    who wrote it ("Who wrote the seven tips on unplanned topics?", named by its title), the byline of ``best``'s
    document that says so (``part``, from ``_byline_part``), wherever it ranks: the page's own date, not one its story
    tells ("on December 24th")."""
    if part is None or (part is byline_author and not _names_page(asked_author_of(query), best.hit.title)):
        return None
    if part(best.text):
        return best
    return next((s for s in ranked if s.article_id == best.article_id and part(s.text)), None)


# Words that name a page by its kind, not by its title: "the post", "this recipe"
_PAGE_WORDS = frozenset(stem(w) for w in "post blog story article entry announcement recipe piece page it this".split())


def _names_page(written: str, title: str) -> bool:
    """Whether what the question says was written names the page: its kind ("this post") or its title's words ("the
    seven tips on unplanned topics" of "Seven tips on facilitating unplanned topics in meetings")."""
    named = {stem(w) for w in words(written)} - STOP_WORDS - _PAGE_WORDS
    return named <= {stem(w) for w in words(title)}


# "Who is Bhutan's king right now?", "Who's the publisher these days?": the holder a list or record marks as current
# ("Who designed the club's current building?" asks about the building, not who holds it now)
_ASKS_CURRENT = re.compile(r"\b(?:right now|now|these days|nowadays|currently|today|at present|at the moment)\b"
                           r"|(?:\bis|\bare|'s|’s)\s+(?:the|its|their)\s+current\b", re.I)
_SAYS_CURRENT = re.compile(r"\(\s*since\b|\bsince\s+\d|[–-]\s*(?:present|now|today)\b|\bincumbent\b"
                           r"|\bcurrent(?:ly)?\b|\bpresent\)", re.I)


def _current(query: str, best: ScoredSentence, ranked: Sequence[ScoredSentence],
             margin: float) -> ScoredSentence | None:
    """For a question about who or what is current, the best ranked unit within ``margin`` that marks its holder as
    current ("King Jigme Khesar Namgyel WANGCHUCK (since 14 December 2006)", "John Cruickshank (2009–present)") when
    ``best`` marks none: "Ugyen WANGCHUCK … had served as the de facto ruler" was king once."""
    if not _ASKS_CURRENT.search(query) or _SAYS_CURRENT.search(best.text):
        return None
    return _first_close(ranked, margin, _SAYS_CURRENT.search)


# A number as a question gives it: "1705", "3", "1990s", "16th", "5%" (not "O2", a formula, nor "Windows 95", a name)
_BARE_NUMBER = re.compile(r"\d[\d,.]*(?:s|st|nd|rd|th|%)?")
_YEAR = re.compile(r"1\d{3}|20\d{2}")


def _year_within(term: str, text: str) -> bool:
    """Whether ``text`` gives a year of the century ("16th") or decade ("1700s", "1990s") ``term`` names (or, for
    "1700s", the century by its number)."""
    century = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)", term)
    if century:
        prefix = str(int(century.group(1)) - 1)
    elif re.fullmatch(r"\d{3}0s", term):
        prefix = term[:3] if term[2] != "0" else term[:2]
        if term.endswith("00s") and re.search(rf"\b{int(prefix) + 1}(?:st|nd|rd|th)[\s-]+century", text, re.I):
            return True  # "the 1700s" as "the early 18th century"
    else:
        return False
    return re.search(rf"(?<![\d.,]){prefix}\d{{{4 - len(prefix)}}}(?![\d.,]\d)", text) is not None


def _first_close(ranked: Sequence[ScoredSentence], margin: float, holds) -> ScoredSentence | None:
    """The best ranked sentence within ``margin`` of the first whose text ``holds`` what is asked, if any."""
    return next((s for s in ranked if s.score >= ranked[0].score - margin and holds(s.text)), None)


def _ranking_weight(sentence: ScoredSentence, read: ReadWeights) -> float:
    """``read.layout_ranking`` for a quote with layout or a labelled field on a line of its own, else
    ``read.ranking``."""
    if has_layout(sentence.text):
        return read.layout_ranking
    passage = sentence.hit.passage
    at, to = sentence.start - passage.start, sentence.end - passage.start
    field = is_labelled_field(sentence.text, passage.text[at - 1 : at] if at > 0 else "", passage.text[to : to + 1])
    return read.layout_ranking if field else read.ranking


def _best_margin(readings: Sequence[Reading]) -> float:
    return max((r.margin for r in readings if math.isfinite(r.span_score)), default=_NO_SPAN_MARGIN)


# What a follow-up adds (as a logit) to the sentences just after the last answer's, and how far on (characters).
FOLLOW_UP_NEARBY = 1.5
FOLLOW_UP_REACH = 600


def _logit(probability: float) -> float:
    p = min(max(probability, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _spans_by_sentence(ranked: Sequence[ScoredSentence], readings: Sequence[Reading]) -> dict[ScoredSentence, Reading]:
    """Each ranked sentence that holds the start of a reader span, with its best such span."""
    by_article: dict[str, list[ScoredSentence]] = {}
    for sentence in ranked:
        by_article.setdefault(sentence.article_id, []).append(sentence)
    out: dict[ScoredSentence, Reading] = {}
    for reading in readings:
        if not math.isfinite(reading.span_score):
            continue
        for sentence in by_article.get(reading.article_id, ()):
            if sentence.start <= reading.start < sentence.end:
                if sentence not in out or reading.span_score > out[sentence].span_score:
                    out[sentence] = reading
                break
    return out


def _whole_words(sentence: ScoredSentence, start: int, end: int) -> tuple[int, int]:
    """The reader's span widened to whole words within the sentence: its tokens are word pieces, and "18" cut from
    "18F" reads as a number where the text names an office."""
    while start > sentence.start and _article_slice(sentence, start - 1, start).isalnum() \
            and _article_slice(sentence, start, start + 1).isalnum():
        start -= 1
    while end < sentence.end and _article_slice(sentence, end, end + 1).isalnum() \
            and _article_slice(sentence, end - 1, end).isalnum():
        end += 1
    return start, end


def _balanced_span(sentence: ScoredSentence, start: int, end: int) -> tuple[int, int] | None:
    """The reader's span with its inline code whole, or None when it holds no letter or digit.

    The reader learnt on prose and may cut inside inline code ("rustup` tool", "a `pyproject" of
    "a `pyproject.toml`"); an end that falls inside code moves out to the code's edge, so the chat shows
    "`rustup` tool" and "a `pyproject.toml`".
    """
    text = _article_slice(sentence, start, end)
    if not any(c.isalnum() for c in text):
        return None
    quote = _article_slice(sentence, sentence.start, sentence.end)
    ticks = [sentence.start + i for i, c in enumerate(quote) if c == "`"]
    if len(ticks) % 2:  # a stray backtick opens no code
        ticks.pop()
    for opening, closing in zip(ticks[::2], ticks[1::2]):
        if opening < start <= closing:
            start = opening
        if opening < end <= closing:
            end = closing + 1
    return start, end


# "How do I …?", "How can you …?", "How to …": asks for steps, which documents often show after a colon
_ASKS_HOW_TO = re.compile(r"\s*how\s+(?:(?:do|can|could|should|would|might|must)\s+(?:i|you|we|one)\b|to\b)", re.I)


_CONTRAST = re.compile(r"\s*(?:but|however|alternatively|instead|otherwise|on the other hand|conversely)\b", re.I)


def _with_lead_in(query: str, best: ScoredSentence, store: IndexStore | None = None) -> ScoredSentence | None:
    """For a how-to question (or one asking which command) quoting prose that the next unit of its passage carries on
    by a colon into a code block or list ("Updating is easy." + "From your shell, run the following update script:" +
    the command), both as one quote; else None. The prose says what can be done, the lead-in how."""
    if not (_ASKS_HOW_TO.match(query) or _ASKS_FOR_COMMAND.search(query)) or has_layout(best.text):
        return None
    following = _adjacent(best, 1, store)
    if (following is None or following.between.strip() or not leads_in(following.text)
            or _CONTRAST.match(following.text)):
        return None  # "But when you want it required, …:" after "… make it optional, set …" is another case
    return _joined(best, following)


# "This is …", "These mean …", "Such a change would …": a sentence whose subject is what the one before said
_POINTS_BACK = re.compile(r"(?:This|These|Such)(?:\s+an?\s+\w+)?\s+(?:is|are|was|were|means?|meant|makes?|made|allows?"
                          r"|lets|has|had|have|will|would|can|could|may|might|should|includes?|led|leads?|gives?"
                          r"|became|becomes|happens|explains?|helps?|keeps?|ensures?|avoids?|works?)\b")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _with_antecedent(best: ScoredSentence, store: IndexStore | None = None) -> ScoredSentence | None:
    """``best`` with the sentence before it in its paragraph when it opens by pointing back to it ("This is
    particularly useful when the form has multiple elements that use the same key:" says what is useful only with
    "You can also pass a list of tuples …"); else None."""
    if not _POINTS_BACK.match(best.text):
        return None
    previous = _adjacent(best, -1, store)
    if previous is None or _BLANK_LINE.search(previous.between) or has_layout(previous.text):
        return None  # another paragraph, a code block or list: not the sentence "this" points to
    return _joined(best, previous)


def _with_sequel(best: ScoredSentence, store: IndexStore | None = None) -> ScoredSentence | None:
    """``best`` with the sentence after it in its paragraph when that one opens by pointing back to it: asked why, "…
    an `exclude-newer` field …" gives its reason only with "This is useful for improving the reproducibility …";
    asked what happens if one does not, "… you have to add `--`" gives it only with "Otherwise, the pattern will be
    interpreted as a command-line option."; asked why, "… place the closing quotes on a line by themselves" with "This
    way, Emacs' `fill-paragraph` command can be used on it."; else None."""
    if has_layout(best.text):
        return None
    following = _adjacent(best, 1, store)
    if (following is None or _BLANK_LINE.search(following.between) or has_layout(following.text)
            or not (_POINTS_BACK.match(following.text) or _CONSEQUENCE.match(following.text))):
        return None
    return _joined(best, following)


# a sentence saying what follows when the one before is done ("This way, …") or not ("Otherwise, …"): its
# consequence, and so its reason
_CONSEQUENCE = re.compile(r"(?:Otherwise|If\s+not|Failing\s+that|Failure\s+to\s+do\s+so"
                          r"|(?:This|That|In\s+this)\s+way)\b")


class _Adjacent(NamedTuple):
    unit: Span
    between: str  # the text between it and the quote
    text: str
    passage: Passage  # one that holds both


def _adjacent(best: ScoredSentence, step: int, store: IndexStore | None = None) -> _Adjacent | None:
    """The unit ``step`` (1 or -1) away from ``best`` in its passage or, at that passage's edge, in another passage
    of its article in ``store`` (passages overlap by a sentence: "*fd* can be called with no arguments." ends the
    passage before the one that opens with "This is very useful …"); None at the article's edge."""
    rows = () if store is None else store.passages_by_article.get(best.article_id, ())
    # the article's other passages are only looked at when the quote's own lacks the unit
    for passage in chain((best.hit.passage,), (store.passages[row] for row in rows)):
        units = passage.sentences
        place = next((i for i, unit in enumerate(units) if unit.start == best.start), None)
        if place is None or not 0 <= place + step < len(units):
            continue
        unit = units[place + step]
        lo, hi = (best.end, unit.start) if step > 0 else (unit.end, best.start)
        return _Adjacent(unit, passage.text[lo - passage.start : hi - passage.start],
                         passage.text[unit.start - passage.start : unit.end - passage.start], passage)
    return None


_INLINE_CODE = re.compile(r"`([^`\n]+)`")


def _echoes_code(span: str, query: str) -> bool:
    """Whether a short answer is only inline code the question itself writes ("`r.json()`" of "What exception does
    r.json() raise?"), asked for more than yes or no."""
    code = _INLINE_CODE.fullmatch(span.strip())
    return code is not None and code.group(1) in query and not asks_yes_no(query)


def _code_told_next(best: ScoredSentence, query: str, store: IndexStore) -> tuple[ScoredSentence, ShortAnswer] | None:
    """``best`` with the sentence after it in its paragraph, and the first inline code that sentence writes and the
    question does not, when there is such code; else None."""
    following = _adjacent(best, 1, store)
    if following is None or _BLANK_LINE.search(following.between) or has_layout(following.text):
        return None
    code = next((m for m in _INLINE_CODE.finditer(following.text) if m.group(1) not in query), None)
    if code is None:
        return None
    start = following.unit.start + code.start()
    return _joined(best, following), ShortAnswer(text=code.group(), article_id=best.article_id, start=start,
                                                  end=start + len(code.group()))


def _joined(best: ScoredSentence, adjacent: _Adjacent) -> ScoredSentence:
    """``best`` widened to take in the unit next to it: still a verbatim slice."""
    passage, unit = adjacent.passage, adjacent.unit
    start, end = min(best.start, unit.start), max(best.end, unit.end)
    return replace(best, text=passage.text[start - passage.start : end - passage.start], start=start, end=end)


_TABLE_QUOTE_CHARS = 2000  # a table is quoted to the last row that fits: its rows are units that answer too
_TABLE_AFTER = re.compile(r"[ \t]*\n(?:[ \t]*\n)?(?P<rows>(?:[ \t]*\|[^\n]*(?:\n|$))+)")  # a table after a lead-in
_RULE_ROW = re.compile(r"[|\s:-]+")  # "| ---- | :--: |"
_ROWS_UNDER = re.compile(r"[ \t]*\n(?P<rows>[ \t]*\|[ \t]*:?-{3,}[^\n]*\n(?:[ \t]*\|[^\n]*(?:\n|$))+)")  # rule, rows


def _with_table(best: ScoredSentence, article: Article | None) -> ScoredSentence | None:
    """``best`` with the table it announces when it ends in ':' right before one ("Here is a comparison between ripgrep,
    ugrep and GNU grep on a file cached in memory:" says nothing without its rows, which are units of their own), or
    with the rows under it when it is a table's header row ("| Tool | Command | Time |"), as many as keep the quote
    within ``_TABLE_QUOTE_CHARS``; else None."""
    header = best.text.startswith("|") and "\n" not in best.text.strip()
    if article is None or not (header or best.text.rstrip().endswith(":")) or has_layout(best.text):
        return None
    table = (_ROWS_UNDER if header else _TABLE_AFTER).match(article.text, best.end)
    if table is None:
        return None
    end, rows = best.end, 0
    for line in re.finditer(r"[^\n]+", table.group("rows")):
        stop = table.start("rows") + line.end()
        if stop - best.start > _TABLE_QUOTE_CHARS:
            break
        end, rows = stop, rows + (not _RULE_ROW.fullmatch(line.group()))
    return replace(best, text=article.text[best.start : end], end=end) if rows else None


def _article_slice(sentence: ScoredSentence, start: int, end: int) -> str:
    """``article.text[start:end]``, read from the sentence's passage (which is a slice of the article)."""
    passage = sentence.hit.passage
    return passage.text[start - passage.start : end - passage.start]


def rerank(hits: Sequence[Hit], ranked: Sequence[ScoredSentence], top_k: int) -> list[Hit]:
    """The top_k hits ordered by their best sentence's score (retrieval order breaks ties), renumbered.

    Retrieval scores a passage as a whole; the sentence scorer reads each sentence against the
    question, so a passage whose best sentence scores higher is the better one to show.
    """
    best: dict[str, float] = {}
    for sentence in ranked:
        best.setdefault(sentence.hit.passage.id, sentence.score)  # ranked is best first
    order = sorted(hits, key=lambda h: (-best.get(h.passage.id, -1.0), h.rank))[:top_k]
    return [replace(h, rank=rank) for rank, h in enumerate(order)]


def _stemmed(words: tuple[str, ...]) -> tuple[str, ...]:
    """Title words compared stemmed: "a query parameter" names "Query Parameters"."""
    return tuple(stem(word) for word in words)


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0
