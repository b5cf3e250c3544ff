import json

import numpy as np
import pytest

from qa import stores
from qa.stores import IndexCorrupt, IndexMismatch, IndexMissing, VectorSearch


def unit(rows, dim, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_search_matches_exact_numpy_oracle():
    base, queries = unit(500, 32, 0), unit(20, 32, 1)
    search = VectorSearch.build(base)
    results = search.search(queries, 10)
    oracle = queries @ base.T
    for q, found in enumerate(results):
        expected = np.argsort(-oracle[q])[:10]
        assert [row for row, _ in found] == expected.tolist()
        assert np.allclose([s for _, s in found], oracle[q][expected], atol=1e-5)


def test_k_larger_than_the_index_never_returns_minus_one():
    search = VectorSearch.build(unit(3, 8, 2))
    found = search.search(unit(1, 8, 3), 10)[0]
    assert len(found) == 3 and all(row >= 0 for row, _ in found)


def test_round_trip_and_reconstruct(tmp_path):
    base = unit(50, 16, 4)
    VectorSearch.build(base).write(tmp_path / "v.faiss")
    again = VectorSearch.read(tmp_path / "v.faiss")
    assert np.allclose(again.vectors(), base)


def test_missing_index_names_the_command(tmp_path):
    with pytest.raises(IndexMissing, match="qa index"):
        stores.load(tmp_path / "none")


def test_manifest_records_what_was_built(tiny_assistant):
    manifest = tiny_assistant.store.manifest
    for key in ("format_version", "model", "dimension", "articles", "passages", "corpus_fingerprint",
                "faiss_version", "built_at", "files"):
        assert key in manifest
    assert manifest["model"] == "fake-hash-embedder" and manifest["dimension"] == 64
    assert manifest["articles"] == 4


def test_other_model_is_refused_with_rebuild_command(tiny_settings, tiny_assistant):
    with pytest.raises(IndexMismatch, match="qa index --full"):
        stores.load(tiny_settings.index, model="another-model")


def test_flipped_byte_falls_back_to_previous_version(tiny_settings, fake_embedder):
    from qa.pipeline import build_index

    first = build_index(tiny_settings, fake_embedder).version  # tiny_settings has no index yet
    (tiny_settings.corpus / "coffee.txt").write_text("Tea is grown in Assam and Darjeeling.")
    second = build_index(tiny_settings, fake_embedder).version
    assert stores.load(tiny_settings.index).manifest["version"] == second
    damaged = tiny_settings.index / "versions" / second / "sentence_vectors.npy"
    raw = bytearray(damaged.read_bytes())
    raw[-1] ^= 0xFF
    damaged.write_bytes(bytes(raw))
    assert stores.load(tiny_settings.index).manifest["version"] == first


def test_corrupt_without_fallback_is_refused_clearly(tiny_settings, tiny_assistant):
    version = tiny_assistant.store.manifest["version"]
    path = tiny_settings.index / "versions" / version / "passages.jsonl"
    path.write_text(path.read_text().replace("coffee", "coffeE"))
    with pytest.raises(IndexCorrupt, match="checksum mismatch.*qa index --full"):
        stores.load(tiny_settings.index)


def test_format_version_mismatch_is_refused(tiny_settings, tiny_assistant):
    version = tiny_assistant.store.manifest["version"]
    manifest_path = tiny_settings.index / "versions" / version / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 999
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch, match="format"):
        stores.load(tiny_settings.index)


def test_no_pickle_in_the_index(tiny_settings, tiny_assistant):
    arrays = list((tiny_settings.index / "versions").rglob("*.npy"))
    assert len(arrays) >= 2  # sentences and sentence vectors, at least
    for path in arrays:
        np.load(path, allow_pickle=False)  # raises if anything needed pickle


@pytest.mark.parametrize("kind", ["pq", "hnsw", "ivf"])
def test_approximate_indexes_agree_with_the_exact_oracle_on_clustered_data(kind):
    from qa.stores import VectorIndexSpec

    rng = np.random.default_rng(5)
    centres = unit(50, 32, 6)
    base = centres[rng.integers(0, 50, 4000)] + 0.15 * rng.standard_normal((4000, 32)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    queries = base[rng.integers(0, 4000, 50)] + 0.05 * rng.standard_normal((50, 32)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    search = VectorSearch.build(base, VectorIndexSpec(kind=kind, ef_search=128, nprobe=16))
    assert search.params["type"] == kind
    oracle = np.argsort(-(queries @ base.T), axis=1)[:, :10]
    found = search.search(queries, 10)
    recall = np.mean([len({r for r, _ in f} & set(o)) / 10 for f, o in zip(found, oracle)])
    assert recall >= 0.9


def test_pq_reaches_the_exact_top_10_even_on_structureless_vectors(tmp_path):
    """Uniform random vectors defeat graphs and inverted lists; pq scans every code, then re-scores."""
    from qa.stores import VectorIndexSpec

    base, queries = unit(20_000, 64, 11), unit(40, 64, 12)
    search = VectorSearch.build(base, VectorIndexSpec(kind="pq", pq_refine=1000))  # 5% of the codes
    search.write(tmp_path / "pq.faiss")
    loaded = VectorSearch.read(tmp_path / "pq.faiss", search.params)
    assert loaded.params == {"type": "pq", "m": 16, "refine": 1000}
    oracle = np.argsort(-(queries @ base.T), axis=1)[:, :10]
    found = loaded.search(queries, 10)
    recall = np.mean([len({r for r, _ in f} & set(o)) / 10 for f, o in zip(found, oracle)])
    assert recall >= 0.95
    # Scores come from the float16 copies: close to the exact inner products.
    exact = np.take_along_axis(queries @ base.T, np.array([[r for r, _ in f] for f in found]), axis=1)
    assert np.allclose(np.array([[s for _, s in f] for f in found]), exact, atol=2e-3)


def test_auto_picks_flat_for_small_and_pq_past_the_limit():
    from qa.stores import VectorIndexSpec

    assert VectorIndexSpec().resolve(1000) == "flat"
    assert VectorIndexSpec(flat_max=100).resolve(1000) == "pq"
    assert VectorIndexSpec.pq_m(384) == 96 and VectorIndexSpec.pq_m(10) == 5
    assert VectorIndexSpec(kind="pq").resolve(999) == "flat"  # too few to train the codebooks
    # By default 1% of the codes are re-scored, at least 4,000.
    assert VectorIndexSpec(kind="pq").factory(20_000)[1]["refine"] == 4000
    assert VectorIndexSpec(kind="pq").factory(1_000_000)[1]["refine"] == 10_000
    assert VectorIndexSpec(kind="ivf").factory(10_000)[1]["lists"] == 400


@pytest.mark.parametrize("kind", ["pq", "hnsw"])
def test_index_type_is_recorded_and_used_after_loading(tiny_settings, fake_embedder, kind):
    from dataclasses import replace

    from qa.pipeline import Assistant, build_index

    settings = replace(tiny_settings, index_type=kind)
    build_index(settings, fake_embedder)
    store = stores.load(settings.index)
    expected = "flat" if kind == "pq" else kind  # four passages are too few to train codebooks
    assert store.manifest["index_type"]["type"] == expected and store.passage_search.params["type"] == expected
    assert Assistant(store, fake_embedder, settings).ask("Which country is the largest coffee producer?").passages


def test_token_files_are_checksummed_read_back_and_checked_for_length(tiny_settings, tiny_assistant):
    tokens = tiny_assistant.store.tokens
    version = tiny_settings.index / "versions" / tiny_assistant.store.manifest["version"]
    files = tiny_assistant.store.manifest["files"]
    for name in ("basis", "vectors", "offsets", "ids"):
        assert f"tokens/{name}.npy" in files
    again = stores.load(tiny_settings.index).tokens
    np.testing.assert_array_equal(again.vectors, tokens.vectors)
    np.testing.assert_array_equal(again.offsets, tokens.offsets)
    np.testing.assert_array_equal(again.idf, tokens.idf)
    np.save(version / "tokens" / "offsets.npy", np.asarray(tokens.offsets)[:-1])  # one sentence short
    with pytest.raises(IndexCorrupt):
        stores.load_version(version, verify=False)
