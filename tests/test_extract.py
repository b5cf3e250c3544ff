from qa.extract import SentenceExtractor
from qa.retrieve import Retriever


def ask(assistant, embedder, question, top_k=5, **kwargs):
    vector = embedder.encode([question])[0]
    hits = Retriever(assistant.store).retrieve(question, vector, top_k)
    return SentenceExtractor(assistant.store, **kwargs).extract(question, vector, hits), hits


def test_best_sentence_is_the_one_that_answers(tiny_assistant, fake_embedder):
    extraction, _ = ask(tiny_assistant, fake_embedder, "Which country is the largest coffee producer?",
                        min_confidence=0.3)
    assert extraction.answerable
    assert extraction.sentences[0].text == "Brazil is the largest coffee producer in the world."


def test_quoted_sentences_are_verbatim_at_their_offsets(tiny_assistant, fake_embedder):
    extraction, _ = ask(tiny_assistant, fake_embedder, "When did Eyjafjallajökull erupt?")
    assert extraction.sentences
    for s in extraction.sentences:
        assert tiny_assistant.article(s.article_id).text[s.start : s.end] == s.text


def test_at_most_three_sentences_and_no_duplicates(tiny_assistant, fake_embedder):
    extraction, _ = ask(tiny_assistant, fake_embedder, "coffee producer Brazil Vietnam Yemen")
    assert 1 <= len(extraction.sentences) <= 3
    assert len({(s.article_id, s.start) for s in extraction.sentences}) == len(extraction.sentences)


def test_unrelated_question_abstains(tiny_assistant, fake_embedder):
    extraction, _ = ask(tiny_assistant, fake_embedder, "quantum chromodynamics lattice gauge", min_confidence=0.5)
    assert not extraction.answerable
    assert 0.0 <= extraction.confidence < 0.5


def test_scores_are_sorted_and_each_sentence_scored_once(tiny_assistant, fake_embedder):
    vector = fake_embedder.encode(["volcano"])[0]
    hits = Retriever(tiny_assistant.store).retrieve("volcano", vector, 10)
    scored = SentenceExtractor(tiny_assistant.store).score("volcano", vector, hits)
    assert [s.score for s in scored] == sorted((s.score for s in scored), reverse=True)
    assert len({(s.article_id, s.start) for s in scored}) == len(scored)
