import threading

import pytest

from qa.ingest import CorpusError
from qa.pipeline import Assistant, RebuildRunning, build_index, rebuild_lock


def test_incremental_build_embeds_only_what_changed(tiny_settings, fake_embedder):
    first = build_index(tiny_settings, fake_embedder)
    assert first.added == 4 and first.reused == 0
    calls = fake_embedder.calls
    (tiny_settings.corpus / "coffee.txt").write_text("Tea is grown in Assam. It is picked by hand.")
    (tiny_settings.corpus / "feed.jsonl").unlink()
    (tiny_settings.corpus / "new.txt").write_text("A brand new article about kites.")
    second = build_index(tiny_settings, fake_embedder)
    assert (second.added, second.changed, second.removed, second.unchanged) == (1, 1, 1, 2)
    embedded_now = fake_embedder.calls - calls
    assert embedded_now == second.embedded and 0 < embedded_now < first.embedded
    assistant = Assistant.load(tiny_settings, fake_embedder)
    assert assistant.article("penguins-1") is None
    assert "Assam" in assistant.article("coffee").text
    full = build_index(tiny_settings, fake_embedder, full=True)
    assert full.reused == 0
    assert (full.added, full.unchanged) == (0, 4)


def test_nothing_changed_keeps_the_live_version(tiny_settings, fake_embedder):
    first = build_index(tiny_settings, fake_embedder)
    calls = fake_embedder.calls
    again = build_index(tiny_settings, fake_embedder)
    assert again.up_to_date and again.version == first.version and fake_embedder.calls == calls
    assert "up to date" in again.summary()
    (tiny_settings.corpus / "coffee.txt").write_text((tiny_settings.corpus / "coffee.txt").read_text() + " More.")
    assert build_index(tiny_settings, fake_embedder).version != first.version


def test_another_reader_writes_a_version_naming_it_without_embedding_again(tiny_settings, fake_embedder):
    from dataclasses import replace

    from qa import stores

    first = build_index(tiny_settings, fake_embedder)
    calls = fake_embedder.calls
    with_reader = replace(tiny_settings, reader="bundled")
    second = build_index(with_reader, fake_embedder)
    assert not second.up_to_date and second.version != first.version and fake_embedder.calls == calls
    manifest = stores.load(tiny_settings.index).manifest
    assert manifest["reader"]["name"] == "qa-reader" and len(manifest["reader"]["sha256"]) == 16
    assert build_index(with_reader, fake_embedder).up_to_date


def test_incremental_vectors_equal_a_full_build(tiny_settings, fake_embedder, tmp_path):
    import numpy as np
    from dataclasses import replace

    build_index(tiny_settings, fake_embedder)
    (tiny_settings.corpus / "coffee.txt").write_text("Tea is grown in Assam.")
    build_index(tiny_settings, fake_embedder)
    other = replace(tiny_settings, index=tmp_path / "other")
    build_index(other, fake_embedder, full=True)
    a, b = Assistant.load(tiny_settings, fake_embedder).store, Assistant.load(other, fake_embedder).store
    assert [p.id for p in a.passages] == [p.id for p in b.passages]
    assert np.allclose(a.passage_search.vectors(), b.passage_search.vectors())
    assert np.allclose(a.sentence_vectors, b.sentence_vectors)


def test_empty_corpus_is_a_clear_error(tmp_path, fake_embedder, tiny_settings):
    from dataclasses import replace

    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no articles found"):
        build_index(replace(tiny_settings, corpus=tmp_path / "empty"), fake_embedder)


def test_second_rebuild_is_refused_while_one_runs(tiny_settings, fake_embedder):
    with rebuild_lock(tiny_settings.index):
        with pytest.raises(RebuildRunning, match="already running"):
            build_index(tiny_settings, fake_embedder)


def test_wait_blocks_until_the_running_rebuild_ends(tiny_settings, fake_embedder):
    done = []
    with rebuild_lock(tiny_settings.index):
        worker = threading.Thread(target=lambda: done.append(build_index(tiny_settings, fake_embedder, wait=True)))
        worker.start()
        worker.join(0.5)
        assert not done  # still waiting for the lock
    worker.join(30)
    assert done and done[0].articles == 4


def test_health_and_articles(tiny_assistant):
    health = tiny_assistant.health()
    assert health["status"] == "ok" and health["articles"] == 4 and health["model"] == "fake-hash-embedder"
    listed = {a["id"]: a for a in tiny_assistant.articles()}
    assert listed["coffee"]["source"] == "coffee.txt" and listed["coffee"]["passages"] >= 1


def test_example_questions_come_from_the_corpus(tmp_path, fake_embedder):
    from qa.config import Settings
    from qa.pipeline import example_questions

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "Ada Lovelace (born December 10, 1815) was an English mathematician. She worked with Charles Babbage.\n"
        "Charles Babbage designed the Analytical Engine. The Royal Astronomical Society (RAS) honoured Charles Babbage.\n"
    )
    settings = Settings.from_env({}, corpus=corpus, index=tmp_path / "i")
    build_index(settings, fake_embedder)
    questions = example_questions(Assistant.load(settings, fake_embedder).store)
    assert questions[:2] == ["Who is Ada Lovelace?", "What is the RAS?"]
    assert "What is said about Charles Babbage?" in questions


def test_passages_and_sentences_are_embedded_with_their_title_and_reused_on_rebuild(tiny_settings, fake_embedder):
    import numpy as np

    from qa import stores
    from qa.chunk import embedding_text
    from qa.pipeline import build_index

    build_index(tiny_settings, fake_embedder)
    store = stores.load(tiny_settings.index)
    passage = store.passages[0]
    title = store.articles[passage.article_id].title
    expected = fake_embedder.encode([embedding_text(title, passage.text)])[0]
    assert np.allclose(store.passage_vectors()[0], expected)
    assert embedding_text(title, passage.text) == f"{title}\n{passage.text}"
    article, start, end = store.sentence_text(0)
    assert np.allclose(store.sentence_vectors[0], fake_embedder.encode([f"{article.title}\n{article.text[start:end]}"])[0])
    (tiny_settings.corpus / "extra.txt").write_text("A new article about tea. Tea grows in India.\n")
    report = build_index(tiny_settings, fake_embedder)
    assert report.embedded <= 3  # only the new article's passage and sentences


def test_an_index_from_before_titled_texts_is_re_embedded_once(tiny_settings, fake_embedder):
    import json

    from qa import stores
    from qa.pipeline import build_index

    first = build_index(tiny_settings, fake_embedder)
    store = stores.load(tiny_settings.index)
    manifest_path = store.path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest[stores.TITLED]  # as written before texts carried their title
    manifest_path.write_text(json.dumps(manifest))
    report = build_index(tiny_settings, fake_embedder)
    assert not report.up_to_date and report.embedded == first.passages + first.sentences and report.reused == 0
    assert build_index(tiny_settings, fake_embedder).up_to_date


def test_ask_and_retrieve_show_the_same_reranked_passages(tiny_assistant):
    question = "Which country is the largest coffee producer?"
    reply = tiny_assistant.ask(question, top_k=2)
    shown = [p.passage_id for p in reply.passages]
    assert len(shown) == 2
    assert shown == [p.passage_id for p in tiny_assistant.retrieve(question, 2)]
    assert reply.answerable
    assert reply.citations[0].passage_id == shown[0]  # the passage holding the quoted sentence comes first


def test_rerank_pool_is_validated():
    import pytest

    from qa.config import Settings, SettingsError

    assert Settings.from_env({"QA_RERANK_POOL": "20"}).rerank_pool == 20
    with pytest.raises(SettingsError, match="QA_RERANK_POOL"):
        Settings.from_env({"QA_RERANK_POOL": "0"})


def test_sentence_tokens_are_stored_and_reused_in_the_same_basis(tiny_settings, fake_embedder, tmp_path):
    import numpy as np
    from dataclasses import replace

    build_index(tiny_settings, fake_embedder)
    built = Assistant.load(tiny_settings, fake_embedder).store
    first = built.tokens
    assert first is not None and len(first.offsets) == len(built.sentence_table) + 1
    (tiny_settings.corpus / "new.txt").write_text("Kites were invented in China. They fly on strings.")
    calls = fake_embedder.calls
    build_index(tiny_settings, fake_embedder)
    store = Assistant.load(tiny_settings, fake_embedder).store
    assert fake_embedder.calls - calls == 3  # the new article's passage and two sentences, nothing else
    np.testing.assert_array_equal(store.tokens.basis.to_array(), first.basis.to_array())
    other = replace(tiny_settings, index=tmp_path / "other")
    build_index(other, fake_embedder, full=True)  # from scratch: the basis is fitted anew, tokens the same words
    fresh = Assistant.load(other, fake_embedder).store
    np.testing.assert_array_equal(fresh.tokens.ids, store.tokens.ids)
    np.testing.assert_array_equal(fresh.tokens.offsets, store.tokens.offsets)


def test_an_embedder_without_token_vectors_builds_an_index_answered_with_lexical_weights(tiny_settings):
    from qa.embed import FakeEmbedder
    from qa.extract import LEXICAL_WEIGHTS

    class VectorsOnly:  # like the Ray embedder: encode and nothing else
        def __init__(self):
            self.inner = FakeEmbedder()
            self.name, self.dimension, self.max_tokens = self.inner.name, self.inner.dimension, self.inner.max_tokens

        def count_tokens(self, text):
            return self.inner.count_tokens(text)

        def encode(self, texts, **kwargs):
            return self.inner.encode(texts, **kwargs)

    build_index(tiny_settings, VectorsOnly())
    assistant = Assistant.load(tiny_settings, VectorsOnly())
    assert assistant.store.tokens is None
    assert assistant._engine.extractor.weights_for(None) is LEXICAL_WEIGHTS
    reply = assistant.ask("Where do emperor penguins breed?")
    assert reply.answerable and "Antarctic" in reply.sentences[0].text
    question_tokens = FakeEmbedder().encode_with_tokens(["x"])[1][0]  # token weights need tokens on both sides
    assert assistant._engine.extractor.weights_for(question_tokens) is LEXICAL_WEIGHTS
    upgrade = FakeEmbedder()  # an embedder with token vectors: the same corpus is no longer "up to date"
    report = build_index(tiny_settings, upgrade)
    assert not report.up_to_date and upgrade.calls == report.sentences == report.embedded  # sentences again
    assert report.reused == report.passages  # passages reused, and nothing counted both ways
    assert Assistant.load(tiny_settings, upgrade).store.tokens is not None


class _RecordingReader:
    """Stands in for the span reader: every unit reads with the given margin; the windows read are kept."""

    def __init__(self, margin: float):
        self.margin, self.calls = margin, []

    def read(self, question, windows, enough=None):
        from qa.read import Reading

        self.calls.append(list(windows))
        readings = []
        for row, w in enumerate(windows):
            readings += [Reading(row, w.article_id, lo, lo + 1, 1.0, 1.0 - self.margin) for lo, _ in w.unit_spans]
            if enough is not None and enough(readings):
                self.calls[-1] = self.calls[-1][: row + 1]  # the windows it read
                break
        return readings


@pytest.mark.parametrize(("margin", "further", "rounds"), [(-9.0, 3, 2), (5.0, 3, 1), (-9.0, 0, 1)])
def test_the_reader_reads_further_down_the_ranking_only_when_the_first_windows_hold_no_answer(
        tiny_assistant, margin, further, rounds):
    from dataclasses import replace

    from qa.read import windows_around

    reader = _RecordingReader(margin)
    tiny_assistant.reader = reader
    tiny_assistant.settings = replace(tiny_assistant.settings, read_windows=1, read_further=further)
    question = "Which country is the largest coffee producer?"
    tiny_assistant.ask(question)
    assert len(reader.calls) == rounds
    engine = tiny_assistant._engine
    vector, tokens = tiny_assistant._embed_query(question)
    hits = engine.retriever.retrieve(question, vector, tiny_assistant.settings.rerank_pool, None)
    ranked = engine.extractor.rank(question, vector, hits, 5, tokens).sentences
    assert reader.calls[0] == windows_around(ranked, 1, context=engine.reading_context)
    if rounds == 2:  # the next sentences down the ranking, after the one read first
        assert reader.calls[1] == windows_around(ranked[1:], further, context=engine.reading_context,
                                                 already_read=reader.calls[0])


@pytest.mark.parametrize(("margin", "read"), [(9.0, 1), (0.0, 2)])
def test_the_reader_stops_at_the_first_window_that_holds_a_sure_span(tiny_assistant, margin, read):
    from dataclasses import replace

    from qa.read import windows_around

    reader = _RecordingReader(margin)
    tiny_assistant.reader = reader
    tiny_assistant.settings = replace(tiny_assistant.settings, read_windows=3, read_further=3)
    question = "What opened in 1937 and what erupted in 2010?"
    engine = tiny_assistant._engine
    vector, tokens = tiny_assistant._embed_query(question)
    hits = engine.retriever.retrieve(question, vector, tiny_assistant.settings.rerank_pool, None)
    ranked = engine.extractor.rank(question, vector, hits, 5, tokens).sentences
    windows = windows_around(ranked, 3, context=engine.reading_context)
    assert len(windows) == 2  # two articles
    assert margin >= engine.extractor.read_weights.read_enough_above or read == 2
    tiny_assistant.ask(question)
    assert reader.calls == [windows[:read]]  # and nothing read further: the margin is not below the bar


RECIPES = {
    "hummus.md": "# Hummus\n\n## Directions\n\n1. Drain the chickpeas.\n2. Blend them with tahini.\n"
                 "3. Serve the hummus with warm bread.\n",
    "bread.md": "# Bread\n\n## Directions\n\n1. Mix the flour with water.\n2. Knead the dough for ten minutes.\n"
                "3. Bake the loaf until it sounds hollow.\n4. Let the loaf cool before slicing.\n",
    "bhutan.md": "# Bhutan\n\nBhutan is a kingdom in the Himalayas. Its capital is Thimphu.\n",
}


def recipes_assistant(tmp_path, fake_embedder) -> Assistant:
    from qa.config import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in RECIPES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    settings = Settings.from_env({}, corpus=corpus, index=tmp_path / "index", model="fake-hash-embedder",
                                 min_confidence=0.3, reader="off")
    build_index(settings, fake_embedder)
    return Assistant.load(settings, fake_embedder)


def test_a_follow_up_is_answered_from_the_document_of_the_last_answer_first(tmp_path, fake_embedder):
    assistant = recipes_assistant(tmp_path, fake_embedder)
    for answer, last in (("Drain the chickpeas.", "Serve the hummus with warm bread."),
                         ("Mix the flour with water.", "Let the loaf cool before slicing.")):
        reply = assistant.ask("What is the last step?", history=[("How do I start?", answer)])
        assert reply.answerable and reply.sentences[0].text == last
    # a question the document of the last answer does not answer is answered from the whole collection
    reply = assistant.ask("What is the capital of Bhutan?", history=[("How do I start?", "Drain the chickpeas.")])
    assert reply.sentences[0].article_id == "bhutan"


def test_a_follow_up_ranks_what_follows_the_last_answer_higher(tmp_path, fake_embedder, monkeypatch):
    import qa.pipeline.assistant as assistant_module

    assistant = recipes_assistant(tmp_path, fake_embedder)
    original, seen = assistant_module.near_last_answer, []

    def spy(ranking, question, earlier_answer, *args, **kwargs):
        raised = original(ranking, question, earlier_answer, *args, **kwargs)
        seen.append((earlier_answer, ranking, raised))
        return raised

    monkeypatch.setattr(assistant_module, "near_last_answer", spy)
    assistant.ask("What do I do then?", history=[("How do I start the bread?", "Mix the flour with water.")])
    answer, before, after = seen[0]
    assert answer == "Mix the flour with water."
    following = next(s for s in after.sentences if s.text.endswith("Knead the dough for ten minutes."))
    assert following.score > next(s for s in before.sentences if s.start == following.start).score
    asked = len(seen)
    assistant.ask("What do I do then?")  # no history: not asked
    assert len(seen) == asked


def test_which_follow_ups_stay_with_the_document_of_the_last_answer(tmp_path, fake_embedder):
    from qa.pipeline.assistant import _conversation_article
    from qa.retrieve import Turn

    engine = recipes_assistant(tmp_path, fake_embedder)._engine
    after_bread = [Turn("How do I start?", "Mix the flour with water.")]

    def stays(question: str, turns=after_bread) -> str | None:
        return _conversation_article(engine, question, question, turns)

    assert stays("What is the last step?") == "bread"
    assert stays("What is the last step?", [Turn("How do I start?", "Mix the flour.\nThen knead.")]) is None
    assert stays("What is Bhutan?") is None  # names another document by its title
    assert stays("Where is Thimphu?") is None  # names what the bread recipe never mentions
    assert stays("What is the last step?", [Turn("How?", "The articles do not say.")]) is None
    assert stays("What is the last step?", []) is None
