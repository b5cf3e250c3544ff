import numpy as np
import pytest

from qa.tokens import DIMENSIONS, SentenceTokens, TokenBasis, TokenVectors


def _unit(rows):
    rows = np.asarray(rows, np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _store(sentences, dimension=8):
    """SentenceTokens over sentences given as lists of (id, vector); identity basis (no projection loss)."""
    basis = TokenBasis(np.zeros(dimension, np.float32), np.eye(dimension, dtype=np.float32))
    vectors = [v for sentence in sentences for _, v in sentence]
    ids = [i for sentence in sentences for i, _ in sentence]
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sentences])])
    quantised = basis.quantise(np.asarray(vectors, np.float32).reshape(-1, dimension))
    return SentenceTokens(basis, quantised, offsets, np.asarray(ids, np.int32))


def test_basis_projects_to_unit_rows_and_round_trips():
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((500, 32)).astype(np.float32) + 3.0  # a shared component, as in real models
    basis = TokenBasis.fit(vectors, dimensions=8)
    assert basis.components.shape == (32, 8)
    np.testing.assert_allclose(basis.components.T @ basis.components, np.eye(8), atol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(basis.project(vectors), axis=1), 1.0, atol=1e-5)
    again = TokenBasis.from_array(basis.to_array())
    np.testing.assert_array_equal(again.quantise(vectors), basis.quantise(vectors))
    assert basis.quantise(vectors).dtype == np.int8


def test_basis_from_too_few_tokens_pads_and_from_none_is_zero():
    few = TokenBasis.fit(np.eye(4, 16, dtype=np.float32), dimensions=DIMENSIONS)
    assert few.components.shape == (16, DIMENSIONS)
    empty = TokenBasis.fit(np.zeros((0, 16), np.float32))
    assert empty.components.shape == (16, DIMENSIONS) and not empty.components.any()


def test_idf_weights_favour_rare_tokens_and_unseen_ones_most():
    e = np.eye(8)
    store = _store([[(1, e[0]), (2, e[1])], [(1, e[0]), (3, e[2])], [(1, e[0]), (1, e[0])]])
    weights = store.weights(np.array([1, 3, 99]))
    assert weights.sum() == pytest.approx(1.0)
    assert weights[0] < weights[1] < weights[2]  # in every sentence < in one < in none
    assert store.idf[1] == pytest.approx(np.log(4 / 4))  # counted once per sentence, not per token


def test_best_matches_equal_a_brute_force_oracle():
    rng = np.random.default_rng(1)
    sentences = [[(int(rng.integers(100)), rng.standard_normal(8)) for _ in range(rng.integers(0, 7))]
                 for _ in range(30)]
    store = _store(sentences)
    question = _unit(rng.standard_normal((5, 8)))
    rows = [r for r in range(30) if r % 3]  # not every row, some empty ones among them
    found = store._best_matches(question, rows)
    assert found.shape == (len(rows), 5)
    for i, row in enumerate(rows):
        if not sentences[row]:
            assert not found[i].any()
            continue
        tokens = store.vectors[store.offsets[row]:store.offsets[row + 1]].astype(np.float32) / 127
        np.testing.assert_allclose(found[i], (question @ tokens.T).max(1), atol=1e-6)


def test_features_match_window_gain_and_wh_word():
    e = np.eye(8)
    # row 0: "Luther fell ill."  row 1: "He died in 1546."  row 2: unrelated; the question asks when Luther died
    store = _store([[(10, e[0]), (11, e[1])], [(12, e[2]), (13, e[3])], [(14, e[5]), (15, e[6])]])
    query = "When did Luther die?"
    tokens = TokenVectors(ids=np.array([20, 10, 12], np.int32), vectors=_unit([e[3] + 0.2 * e[4], e[0], e[2]]),
                          starts=np.array([0, 9, 16], np.int32))
    out = store.features(query, tokens, [0, 1, 2], [(0, 1), (1, 0), (1, 2), (2, 1)])
    match = {row: values[0] for row, values in out.items()}
    assert match[1] > match[0] > match[2]  # "died" and the date side hold more of the question
    assert out[1][1] > 0 and out[0][1] > 0  # read together, the pair holds every question token
    assert out[1][2] > 0.9 and out[2][2] < 0.1  # "When" sits near the date token only
    assert all(values[1] >= 0 for values in out.values())


def test_wh_word_must_be_a_whole_word():
    store = _store([[(1, np.eye(8)[0])]])
    vectors = _unit([np.eye(8)[0]])
    inside = TokenVectors(ids=np.array([5], np.int32), vectors=vectors, starts=np.array([4], np.int32))
    assert store.features("somewhat odd", inside, [0], [])[0][2] == 0.0  # "what" inside "somewhat"
    asked = TokenVectors(ids=np.array([5], np.int32), vectors=vectors, starts=np.array([0], np.int32))
    assert store.features("Whatever. What?", asked, [0], [])[0][2] == 0.0  # "Whatever" is not "What"
    assert store.features("What is it?", asked, [0], [])[0][2] == pytest.approx(1.0, abs=0.01)


def test_no_question_tokens_means_no_features():
    store = _store([[(1, np.eye(8)[0])]])
    empty = TokenVectors(ids=np.zeros(0, np.int32), vectors=np.zeros((0, 8), np.float32), starts=np.zeros(0, np.int32))
    assert store.features("?", empty, [0], []) == {}
