"""QA_BACKEND=onnx-int8 (the default): the bundled model exported locally to ONNX, int8 weights, run by ONNX Runtime.

The export (about 5-10 s) goes into a temporary cache folder, once for the module.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging

import numpy as np
import pytest

from qa.config import DEFAULT_MODEL, Settings, SettingsError
from qa.embed import BackendUnavailable, OnnxInt8Embedder, SentenceTransformerEmbedder
from qa.pipeline import make_embedder


SENTENCES = [
    "A cat sits on the mat.",
    "A kitten is sitting on a rug.",
    "Stock markets fell sharply on Monday after the central bank raised interest rates.",
    "Eyjafjallajökull erupted in 2010 and disrupted air travel across Europe for six days.",
    "Dr. Smith of the U.S. Department of Agriculture studied coffee rust on Jan. 5, 1990.",
    "word " * 400,  # longer than the model's 256 tokens: truncated like sentence-transformers does
]


def test_backend_setting_is_checked():
    assert Settings.from_env({}).backend == "onnx-int8"
    assert Settings.from_env({"QA_BACKEND": "torch"}).backend == "torch"
    with pytest.raises(SettingsError, match="QA_BACKEND='tensorrt' must be torch or onnx-int8"):
        Settings.from_env({"QA_BACKEND": "tensorrt"})


def test_onnx_is_the_default_and_torch_keeps_the_plain_model_name():
    default = make_embedder(Settings.from_env({}))
    assert type(default) is OnnxInt8Embedder and default.name == f"{DEFAULT_MODEL}+onnx-int8"
    embedder = make_embedder(Settings.from_env({"QA_BACKEND": "torch"}))
    assert type(embedder) is SentenceTransformerEmbedder
    assert embedder.name == DEFAULT_MODEL


def test_serving_gives_onnx_one_thread_per_question_and_builds_every_core():
    assert make_embedder(Settings.from_env({}), serving=True).threads == 1
    assert make_embedder(Settings.from_env({})).threads == 0
    assert make_embedder(Settings.from_env({"QA_TORCH_THREADS": "3"}), serving=True).threads == 3


def test_without_the_extra_the_message_names_the_install_command(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxruntime" else real_find_spec(name, *a))
    with pytest.raises(BackendUnavailable) as caught:
        make_embedder(Settings.from_env({"QA_BACKEND": "onnx-int8"}))
    message = str(caught.value)
    assert "pip install onnxruntime onnx" in message and "QA_BACKEND=torch" in message and "\n" not in message


EXPORT = {}


@pytest.fixture(scope="module")
def onnx_embedder(tmp_path_factory):
    embedder = OnnxInt8Embedder(cache_dir=tmp_path_factory.mktemp("onnx-cache"))
    root = logging.getLogger()
    pytest_handlers = list(root.handlers)
    for handler in pytest_handlers:  # as in `qa index`: a root logger without handlers
        root.removeHandler(handler)
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            embedder.encode(["warm up"])  # exports and quantises into the temporary cache
        EXPORT["new_root_handlers"] = list(root.handlers)
        EXPORT["said"] = said.getvalue()
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in pytest_handlers:
            root.addHandler(handler)
    return embedder


@pytest.mark.model
def test_onnx_vectors_are_unit_length_and_close_to_torch(onnx_embedder, real_embedder):
    onnx_vectors = onnx_embedder.encode(SENTENCES)
    torch_vectors = real_embedder.encode(SENTENCES)
    assert onnx_vectors.shape == torch_vectors.shape == (len(SENTENCES), 384)
    assert onnx_vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    cosine = (onnx_vectors * torch_vectors).sum(axis=1)
    assert cosine.min() > 0.98, cosine
    # A text's vector does not depend on the texts encoded with it (one text per run).
    alone = onnx_embedder.encode([SENTENCES[2]])[0]
    assert np.allclose(alone, onnx_vectors[2], atol=1e-6)
    assert onnx_vectors[0] @ onnx_vectors[1] > onnx_vectors[0] @ onnx_vectors[2] + 0.3
    assert onnx_embedder.encode([]).shape == (0, 384)


@pytest.mark.model
def test_the_backend_is_part_of_the_model_identity(onnx_embedder, real_embedder):
    assert onnx_embedder.name == f"{DEFAULT_MODEL}+onnx-int8" != real_embedder.name
    # Chunking sees the same tokenizer and limit as with torch.
    assert onnx_embedder.max_tokens == real_embedder.max_tokens == 256
    assert onnx_embedder.count_tokens("hello world") == real_embedder.count_tokens("hello world") == 4
    assert onnx_embedder.dimension == 384


@pytest.mark.model
def test_the_export_is_cached_and_reused(onnx_embedder):
    folder = onnx_embedder.cache_path()
    assert (folder / "model_qint8.onnx").is_file() and not (folder / "model.onnx").exists()
    again = OnnxInt8Embedder(cache_dir=onnx_embedder.cache_dir)
    again.encode(["reused"])
    assert again.export_seconds is None  # loaded from the cache, not exported again
    assert onnx_embedder.export_seconds is not None
    # The first use says what it does and how long it took; a cache hit says nothing.
    said = EXPORT["said"].splitlines()
    assert len(said) == 1 and "exporting it with int8 weights" in said[0] and str(folder) in said[0]
    assert said[0].endswith(f"… done in {onnx_embedder.export_seconds:.1f} s")
    # The quantiser's logging.warning() must not leave a root handler behind (it would print every
    # library's debug lines during `qa index`).
    assert EXPORT["new_root_handlers"] == []


@pytest.mark.model
def test_an_index_built_with_onnx_is_refused_by_torch(tmp_path, tiny_corpus, onnx_embedder, real_embedder):
    from qa.pipeline import Assistant, IndexMismatch, build_index

    settings = Settings.from_env({}, corpus=tiny_corpus, index=tmp_path / "index", backend="onnx-int8")
    build_index(settings, onnx_embedder)
    reply = Assistant.load(settings, onnx_embedder).ask("When did Eyjafjallajökull erupt?")
    assert "2010" in reply.answer
    with pytest.raises(IndexMismatch) as refused:
        Assistant.load(settings, real_embedder)
    message = str(refused.value)
    assert "built with QA_BACKEND=onnx-int8" in message and "this qa runs QA_BACKEND=torch" in message
    assert f"qa index --full --index {settings.index}" in message


@pytest.mark.model
def test_onnx_token_vectors_line_up_with_torchs(onnx_embedder, real_embedder):
    texts = ["Russia\nNikolai Patrushev was born on July 11, 1951.", "When was Patrushev born?"]
    vectors, tokens = onnx_embedder.encode_with_tokens(texts, [len("Russia\n"), 0])
    np.testing.assert_allclose(vectors, onnx_embedder.encode(texts), atol=1e-6)
    _, reference = real_embedder.encode_with_tokens(texts, [len("Russia\n"), 0])
    for found, expected in zip(tokens, reference):
        np.testing.assert_array_equal(found.ids, expected.ids)
        np.testing.assert_array_equal(found.starts, expected.starts)
        cosines = (found.vectors * expected.vectors).sum(1)
        assert cosines.min() > 0.9, cosines  # int8 weights move each token a little, never far


@pytest.mark.model
def test_a_build_runs_texts_on_every_core_with_the_same_vectors(onnx_embedder):
    import os

    texts = [f"Sentence {i} says the Golden Gate Bridge opened in {1900 + i}." for i in range(40)]
    building = OnnxInt8Embedder(cache_dir=onnx_embedder.cache_dir, threads=0)
    serving = OnnxInt8Embedder(cache_dir=onnx_embedder.cache_dir, threads=1)
    assert building.model.workers == len(os.sched_getaffinity(0)) and serving.model.workers == 1
    built, built_tokens = building.encode_with_tokens(texts, [0] * len(texts))
    served, served_tokens = serving.encode_with_tokens(texts, [0] * len(texts))
    np.testing.assert_array_equal(built, served)  # in input order, each text alone as always
    for a, b in zip(built_tokens, served_tokens):
        np.testing.assert_array_equal(a.vectors, b.vectors)
        np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(building.encode(texts), serving.encode(texts))
