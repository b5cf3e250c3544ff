from dataclasses import replace

import numpy as np
import pytest

from qa.config import Settings
from qa.extract import SentenceExtractor
from qa.retrieve import Retriever


def ask(assistant, embedder, question, top_k=5, **kwargs):
    vector = embedder.encode([question])[0]
    hits = Retriever(assistant.store).retrieve(question, vector, top_k)
    return SentenceExtractor(assistant.store, **kwargs).extract(question, vector, hits), hits


def markdown_assistant(tmp_path, fake_embedder, files: dict[str, str], **settings):
    """An Assistant over the given Markdown files, indexed with the fake embedder and no reader."""
    from qa.pipeline import Assistant, build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    settings = Settings.from_env({}, corpus=corpus, index=tmp_path / "index", model="fake-hash-embedder",
                                 reader="off", **settings)
    build_index(settings, fake_embedder)
    return Assistant.load(settings, fake_embedder)


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


def _hit(passage_id, rank):
    from qa.types import Hit, Passage

    passage = Passage(id=passage_id, article_id="a", start=rank * 10, end=rank * 10 + 5, text="x" * 5,
                      sentences=(), hash=passage_id)
    return Hit(passage=passage, title="A", score=1.0 - rank / 10, rank=rank)


def _sentence(hit, score):
    from qa.types import ScoredSentence

    return ScoredSentence(text="x", article_id="a", start=hit.passage.start, end=hit.passage.end, score=score, hit=hit)


def test_rerank_orders_passages_by_their_best_sentence():
    from qa.extract import rerank

    hits = [_hit(f"p{i}", i) for i in range(5)]
    scored = sorted([_sentence(hits[3], 0.9), _sentence(hits[0], 0.5), _sentence(hits[3], 0.2),
                     _sentence(hits[1], 0.5), _sentence(hits[4], 0.7)], key=lambda s: -s.score)
    kept = rerank(hits, scored, 3)
    # p3 and p4 hold the best sentences; p0 and p1 tie at 0.5, so retrieval order decides
    assert [h.passage.id for h in kept] == ["p3", "p4", "p0"]
    assert [h.rank for h in kept] == [0, 1, 2]
    assert [h.passage.id for h in rerank(hits, scored, 10)] == ["p3", "p4", "p0", "p1", "p2"]  # p2: no sentence


def test_extraction_keeps_top_k_passages_led_by_the_quoted_sentence(tiny_assistant, fake_embedder):
    question = "Which country is the largest coffee producer?"
    vector = fake_embedder.encode([question])[0]
    pool = Retriever(tiny_assistant.store).retrieve(question, vector, 10)
    extraction = SentenceExtractor(tiny_assistant.store, min_confidence=0.0).extract(question, vector, pool, top_k=2)
    assert len(extraction.hits) == 2
    assert extraction.hits[0].passage.id == extraction.sentences[0].hit.passage.id
    kept = {h.passage.id for h in extraction.hits}
    assert all(s.hit.passage.id in kept for s in extraction.sentences)


@pytest.mark.parametrize("question", [
    "When did Eyjafjallajökull erupt?", "How many volcanic mountains does Iceland have?",
    "Which country is the largest coffee producer?", "Who grows the most coffee?", "Where was coffee first grown?",
])
def test_skipping_typed_features_changes_nothing_shown(tiny_assistant, fake_embedder, question):
    class EveryRow(SentenceExtractor):
        def _add_typed(self, logits, matrix, weights, row_hits, fill_typed, chosen):
            fill_typed(range(len(row_hits)))
            logits[:] = matrix @ weights

    vectors, tokens = fake_embedder.encode_with_tokens([question])
    vector = vectors[0]
    pool = Retriever(tiny_assistant.store).retrieve(question, vector, 12)
    fast = SentenceExtractor(tiny_assistant.store, min_confidence=0.0).extract(question, vector, pool, 3, tokens[0])
    full = EveryRow(tiny_assistant.store, min_confidence=0.0).extract(question, vector, pool, 3, tokens[0])
    assert fast == full


def test_window_similarity_reads_a_sentence_with_its_neighbour(tiny_assistant, fake_embedder):
    import numpy as np

    from qa.extract import FEATURES, features

    store = tiny_assistant.store
    question = "When did Eyjafjallajökull erupt?"
    vector = fake_embedder.encode([question])[0]
    rows, _, matrix, _ = features(question, vector, Retriever(store).retrieve(question, vector, 12), store)
    vectors, article = np.asarray(store.sentence_vectors, np.float64), store.sentence_table[:, 0]
    window, gain = FEATURES.index("window_similarity"), FEATURES.index("window_gain")
    with_neighbour = 0
    for i, row in enumerate(rows):
        own = float(vectors[row] @ vector)
        sums = [vectors[row] + vectors[n] for n in (row - 1, row + 1)
                if 0 <= n < len(article) and article[n] == article[row]]
        expected = max(float(s @ vector / np.linalg.norm(s)) for s in sums) if sums else own
        with_neighbour += bool(sums)
        assert matrix[i, window] == pytest.approx(expected, abs=1e-5)
        assert matrix[i, gain] == pytest.approx(expected - own, abs=1e-5)
    assert with_neighbour  # the check covered sentences with neighbours


def test_token_features_are_filled_and_pick_the_token_weights(tiny_assistant, fake_embedder):
    from qa.extract import FEATURES, LEXICAL_WEIGHTS, ExtractWeights, features

    question = "Where do emperor penguins breed?"
    vectors, tokens = fake_embedder.encode_with_tokens([question])
    store = tiny_assistant.store
    pool = Retriever(store).retrieve(question, vectors[0], 12)
    _, _, with_tokens, texts = features(question, vectors[0], pool, store, tokens[0])
    _, _, without, _ = features(question, vectors[0], pool, store)
    columns = [FEATURES.index(f) for f in ("token_match", "token_window_gain", "wh_token_match")]
    best = texts.index(next(t for t in texts if "breed" in t))
    assert with_tokens[best, columns[0]] > 0.5 and not without[:, columns].any()
    np.testing.assert_array_equal(np.delete(with_tokens, columns, axis=1), np.delete(without, columns, axis=1))
    extractor = SentenceExtractor(store)
    assert extractor.weights_for(tokens[0]) == ExtractWeights() and extractor.weights_for(None) is LEXICAL_WEIGHTS
    assert len(ExtractWeights().coefficients) == len(LEXICAL_WEIGHTS.coefficients) == len(FEATURES)


def test_confidence_features_read_the_best_sentence_and_its_lead():
    from qa.extract import CONFIDENCE_FEATURES, FEATURES, confidence_features

    matrix = np.arange(3 * len(FEATURES), dtype=np.float64).reshape(3, len(FEATURES))
    logits = np.array([1.0, 4.0, 2.5])
    row = confidence_features(matrix, logits)
    assert len(row) == len(CONFIDENCE_FEATURES)
    assert row[:3].tolist() == [1.0, 4.0, 1.5]  # bias, the best logit, its lead over the runner-up
    np.testing.assert_array_equal(row[3:], matrix[1, 1:])  # the best sentence's own features
    # a given best row (ties broken elsewhere) and a lone sentence, whose lead is capped
    assert confidence_features(matrix, np.array([3.0, 3.0, 0.0]), best=1)[2] == 0.0
    assert confidence_features(matrix[:1], logits[:1])[2] == 10.0


def test_the_reply_confidence_is_the_confidence_model_of_the_best_sentence(tiny_assistant, fake_embedder):
    from qa.extract import CONFIDENCE_FEATURES, ExtractWeights, confidence_features, features

    weights = ExtractWeights()
    assert weights.confidence is not None and len(weights.confidence) == len(CONFIDENCE_FEATURES)
    question = "Which country is the largest coffee producer?"  # no date, place or number asked: no cap
    vectors, tokens = fake_embedder.encode_with_tokens([question])
    store = tiny_assistant.store
    pool = Retriever(store).retrieve(question, vectors[0], 12)
    extractor = SentenceExtractor(store, min_confidence=0.0)
    extraction = extractor.extract(question, vectors[0], pool, 5, tokens[0])
    _, _, matrix, texts = features(question, vectors[0], pool, store, tokens[0])
    logits = matrix @ np.asarray(weights.coefficients, np.float32)
    best = texts.index(extraction.sentences[0].text)
    expected = 1 / (1 + np.exp(-(confidence_features(matrix, logits, best) @ np.asarray(weights.confidence))))
    assert extraction.confidence == pytest.approx(expected, abs=1e-4)
    # not the Platt-scaled score of the best sentence, which the quoted sentences still carry
    assert extraction.confidence != pytest.approx(extraction.sentences[0].score, abs=1e-3)


PLACES = """# Hummus

## Directions

1. Drain and rinse the garbanzo beans.
2. Boil the beans for twenty minutes; this step softens their skins.
3. Blend the garlic with lemon juice while the beans boil.
4. Drain the beans again and rinse them with cold water.
5. Add the tahini to the food processor and blend until creamy.
6. Serve at once; the next step is up to you.
"""


@pytest.mark.parametrize(("question", "quoted"), [
    ("What is the fifth step?", "Add the tahini"),
    ("What is step 3 of the hummus?", "Blend the garlic"),
    ("And the last step?", "Serve at once"),
])
def test_a_question_naming_a_step_by_its_place_quotes_that_step(tmp_path, fake_embedder, question, quoted):
    assistant = markdown_assistant(tmp_path, fake_embedder, {"hummus.md": PLACES}, min_confidence=0.3)
    reply, _ = ask(assistant, fake_embedder, question, min_confidence=0.3)
    assert reply.answerable and reply.sentences[0].text.startswith(quoted)


PLATFORMS = ("Debian", "Fedora", "Arch", "Alpine", "Gentoo", "NixOS", "FreeBSD", "OpenBSD", "NetBSD", "Homebrew",
             "MacPorts", "Windows", "Chocolatey", "Scoop", "Void", "Guix")
README = "# ripgrep (README)\n\n*Published by the ripgrep authors*\n\nripgrep is a line-oriented search tool that " \
         "recursively searches the current directory for a regex pattern.\n\n## Installation\n\n" + "".join(
             f"If you use {name}, ripgrep is available: ripgrep is packaged for {name} and ripgrep is kept current "
             f"there, so installing ripgrep on {name} is one command.\n\n" for name in PLATFORMS)


@pytest.mark.parametrize("question", ["What is ripgrep?", "Tell me about ripgrep.", "ripgrep"])
def test_a_question_about_a_whole_document_quotes_its_opening(tmp_path, fake_embedder, question):
    # one passage retrieved: the opening must be brought in, not only lifted once found
    assistant = markdown_assistant(tmp_path, fake_embedder, {"ripgrep.md": README, "hummus.md": PLACES},
                                   min_confidence=0.3, rerank_pool=1, top_k=1)
    reply = assistant.ask(question)
    assert reply.answerable and reply.sentences[0].text.startswith("ripgrep is a line-oriented search tool")


def test_a_question_about_a_whole_document_may_name_its_title_in_the_singular(tmp_path, fake_embedder):
    guide = ("# Query Parameters (tutorial)\n\nFunction parameters that are not path parameters are read from the "
             "URL as query parameters.\n\n## Defaults\n\n" + "".join(
                 f"A query parameter may have a default value, such as {n}, and a query parameter without one is "
                 f"required.\n\n" for n in range(6)))
    assistant = markdown_assistant(tmp_path, fake_embedder, {"query.md": guide}, min_confidence=0.3, rerank_pool=1,
                                   top_k=1)
    reply = assistant.ask("What is a query parameter?")
    assert reply.answerable and reply.sentences[0].text.startswith("Function parameters that are not path")


LESSON = """# Introducing widgets

**Questions**

- What is a widget and why would I use a widget?

**Objectives**

- Frame a picture.

## Background

A widget is a small tool that frames your pictures.
"""


def test_a_sentence_that_is_itself_a_question_is_not_the_answer(tmp_path, fake_embedder):
    assistant = markdown_assistant(tmp_path, fake_embedder, {"lesson.md": LESSON}, min_confidence=0.0)
    reply = assistant.ask("What is a widget and why would I use a widget?")
    assert reply.sentences[0].text == "A widget is a small tool that frames your pictures."
    # nor is a bold label on a line of its own
    assert [s.text for s in assistant.ask("Objectives?").sentences][:1] == ["Frame a picture."]


RECIPES = {"hummus.md": """# Hummus

## Ingredients

- One can of chickpeas
- Half a cup of tahini
- The juice of a lemon

## Directions

Blend the chickpeas with the tahini. Add the lemon juice and blend until smooth.
""", "bread.md": """# Bread

## Ingredients

- Flour
- Water

## Directions

Mix the flour with the water and bake the dough.
"""}


@pytest.mark.parametrize("question", ["What are the ingredients of the hummus?", "List the hummus ingredients.",
                                      "hummus ingredients"])
def test_a_question_for_what_a_section_lists_quotes_the_whole_list(tmp_path, fake_embedder, question):
    reply = markdown_assistant(tmp_path, fake_embedder, RECIPES, min_confidence=0.0).ask(question)
    whole = "- One can of chickpeas\n- Half a cup of tahini\n- The juice of a lemon"
    assert [s.text for s in reply.sentences] == [whole]  # the list alone, verbatim, markers and all
    assert reply.short_answer is None


FACTS = """# Bhutan

## Geography

Location: Southern Asia, between China and India

Area: total: 38,394 sq km; land: 38,394 sq km

Area - comparative: slightly larger than Maryland

Terrain: mostly mountainous

## Forests

What is the area of Bhutan under forest is a question the area of Bhutan's foresters answer each year.
"""


def test_a_question_for_a_labelled_field_quotes_that_field(tmp_path, fake_embedder):
    assistant = markdown_assistant(tmp_path, fake_embedder, {"bhutan.md": FACTS}, min_confidence=0.0)
    assert assistant.ask("What is the area of Bhutan?").sentences[0].text.startswith("Area: total")


def test_a_question_naming_what_the_document_never_mentions_abstains_and_says_so(tmp_path, fake_embedder):
    assistant = markdown_assistant(tmp_path, fake_embedder, {"fresno.md": (
        "# Fresno\n\nFresno is a city in the San Joaquin Valley of California.\n\n"
        "The mayor of Fresno from 2009 to 2017 was Ashley Swearengin, a Republican.\n")})
    answered = assistant.ask("Who was the mayor of Fresno in 2009?")
    assert answered.answerable and "Swearengin" in answered.sentences[0].text
    for question, name in (("Who was the mayor of Fresno in 2025?", "2025"),
                           ("Who was the mayor of Fresno before Alan Autry?", "Alan Autry")):
        reply = assistant.ask(question)
        assert not reply.answerable and reply.confidence <= 0.2
        assert f"never mentions “{name}”" in reply.answer and "“Fresno”" in reply.answer
        assert reply.unmentioned == (name,) and reply.to_dict()["unmentioned"] == (name,)


def test_an_operating_system_is_mentioned_by_any_of_its_names(tmp_path, fake_embedder):
    assistant = markdown_assistant(tmp_path, fake_embedder, {"install.md": (
        "# Install\n\nOn macOS, install a C compiler by running xcode-select --install in a terminal.\n")})
    reply = assistant.ask("How do I install a C compiler on my Mac?")  # "Mac" is there as "macOS"
    assert reply.unmentioned == () and reply.sentences[0].text.startswith("On macOS")
    assert assistant.ask("How do I install a C compiler on my Amiga?").unmentioned == ("Amiga",)
    check_unsure_below(assistant, 1.0)  # and the unsure reply's passage check names it likewise
    assert assistant.ask("How do I install a C compiler on my Mac?").confidence > 0.2


def test_a_question_its_best_sentence_says_the_opposite_of_abstains_and_says_so(tmp_path, fake_embedder):
    assistant = markdown_assistant(tmp_path, fake_embedder, {"reductions.md": (
        "# Reductions\n\nThe most commonly used reduction is a polynomial-time reduction.\n\n"
        "The ability to make probabilistic decisions often helps algorithms solve problems more efficiently.\n")})
    for question, sentence in (("What is the most commonly used reduction?", "The most commonly used"),
                               ("What often helps algorithms solve problems more efficiently?", "The ability")):
        answered = assistant.ask(question)
        assert answered.answerable and answered.sentences[0].text.startswith(sentence)
    reply = assistant.ask("What is the least commonly used reduction?")
    assert not reply.answerable and reply.confidence <= 0.2
    assert reply.answer.endswith("The closest one, “Reductions”, says “most”, not “least”.")
    reply = assistant.ask("What does not often help algorithms solve problems more efficiently?")
    assert not reply.answerable and reply.answer.endswith("says it without the question’s “not”.")


def test_a_number_the_question_gives_must_be_in_the_quotes_passage(tmp_path, fake_embedder):
    filler = " ".join(f"Its hall seats {n} guests in each row of the old wing." for n in "some many all".split() * 3)
    assistant = markdown_assistant(tmp_path, fake_embedder, {"council.md": (
        f"# Council\n\nThe council meets every 6 months in Brussels to set the budget. {HALL_FILLER}\n\n"
        f"A smaller committee gathers every 3 weeks to check the accounts. {filler.replace('old', 'new')}\n")},
        min_confidence=0.0)
    passages = assistant.store.passages_by_article
    assert len(next(iter(passages.values()))) >= 2  # the 6 and the 3 in passages of their own
    answered = assistant.ask("Where does the council meet every 6 months?")
    assert answered.sentences[0].text.startswith("The council meets") and answered.confidence > 0.2
    elsewhere = assistant.ask("Where does the council meet every 3 months?")
    assert elsewhere.sentences[0].text.startswith("The council meets") and elsewhere.confidence <= 0.2


def test_a_number_the_document_gives_often_need_not_be_in_the_quotes_passage(tmp_path, fake_embedder):
    season = ("The 2015 season was long; the 2015 draft came first, and 2015 ended with the 2016 final. "
              "The 11th century hall, the 11th century gate and the 11th century wall stand. ")
    assistant = markdown_assistant(tmp_path, fake_embedder, {"council.md": (
        f"# Council\n\nThe council meets every 6 months in Brussels to set the budget. {HALL_FILLER}\n\n"
        f"{season}{HALL_FILLER.replace('west', 'east')}\n")}, min_confidence=0.0)
    reply = assistant.ask("Where did the council meet every 6 months in 2015?")
    assert reply.sentences[0].text.startswith("The council meets") and reply.confidence > 0.2
    for other in ("in 2016", "in the 11th century"):  # a year named once, a century (not a setting) in another passage
        reply = assistant.ask(f"Where did the council meet every 6 months {other}?")
        assert reply.sentences[0].text.startswith("The council meets") and reply.confidence <= 0.2, other


# Two passages' worth of text around the sentences a test asks about
HALL_FILLER = " ".join(f"Its old hall seats {n} guests in each row of the west wing."
                       for n in "some many all".split() * 3)


def check_unsure_below(assistant, confidence: float) -> None:
    """Set the confidence below which the extractor checks a reply's passage and "how many" noun."""
    extractor = assistant._engine.extractor
    extractor.weights = replace(extractor.weights, unsure_outside_passage=confidence)
    extractor.lexical_weights = replace(extractor.lexical_weights, unsure_outside_passage=confidence)


def test_an_unsure_reply_whose_passage_never_mentions_a_name_the_question_gives_abstains(tmp_path, fake_embedder):
    assistant = markdown_assistant(tmp_path, fake_embedder, {"victoria.md": (
        f"# Victoria\n\nThe first settlement in the area occurred in 1803 at Sullivan Bay. {HALL_FILLER}\n\n"
        "Canberra later became the capital of the whole country, with its parliament on the lake. "
        f"{HALL_FILLER.replace('west', 'east')}\n")}, min_confidence=0.0)
    assert len(next(iter(assistant.store.passages_by_article.values()))) == 2
    answered = assistant.ask("Where was the first settlement in the area?")
    assert answered.sentences[0].text.startswith("The first settlement") and answered.confidence > 0.7

    def canberra(unsure_below: float) -> float:
        check_unsure_below(assistant, unsure_below)
        reply = assistant.ask("Where was the first settlement in Canberra?")
        assert reply.sentences[0].text.startswith("The first settlement")
        return reply.confidence

    unchecked = canberra(0.0)
    assert unchecked > 0.2 and canberra(unchecked + 0.01) <= 0.2
    assert canberra(unchecked - 0.01) == unchecked  # a reply surer than the threshold keeps its confidence


def test_the_passage_check_leaves_out_a_name_its_document_gives_often(tmp_path, fake_embedder):
    assistant = markdown_assistant(tmp_path, fake_embedder, {"victoria.md": (
        f"# Victoria\n\nThe first settlement in the area occurred in 1803 at Sullivan Bay. {HALL_FILLER}\n\n"
        "Canberra later became the capital; Canberra grew fast, and Canberra now holds the parliament. "
        f"{HALL_FILLER.replace('west', 'east')}\n")}, min_confidence=0.0)
    check_unsure_below(assistant, 1.0)  # checked whatever the confidence
    reply = assistant.ask("Where was the first settlement in Canberra?")
    assert reply.sentences[0].text.startswith("The first settlement") and reply.confidence > 0.2


def test_the_passage_check_counts_the_headings_above_it_and_leaves_yes_no_questions_alone(tmp_path, fake_embedder):
    assistant = markdown_assistant(tmp_path, fake_embedder, {"victoria.md": (
        "# Victoria\n\n## Sullivan Bay\n\n"
        f"The first settlement in the area occurred in 1803 at the bay. {HALL_FILLER}\n\n"
        f"## Canberra\n\nCanberra later became the capital, with its parliament on the lake. {HALL_FILLER}\n")},
        min_confidence=0.0)
    check_unsure_below(assistant, 1.0)  # checked whatever the confidence
    assert assistant.ask("Where was the first settlement in Sullivan Bay?").confidence > 0.2
    assert assistant.ask("Where was the first settlement in Canberra?").confidence <= 0.2
    (tmp_path / "corpus" / "victoria.md").write_text(
        f"# Victoria\n\nThe first settlement in the area occurred in 1803 at Sullivan Bay. {HALL_FILLER}\n\n"
        f"Canberra later became the capital, with its parliament on the lake. {HALL_FILLER}\n", encoding="utf-8")
    from qa.pipeline import Assistant, build_index
    build_index(assistant.settings, fake_embedder)
    assistant = Assistant.load(assistant.settings, fake_embedder)
    check_unsure_below(assistant, 1.0)
    assert assistant.ask("Where was the first settlement in Canberra?").confidence <= 0.2
    assert assistant.ask("Was the first settlement in the area at Canberra?").confidence > 0.2


def test_an_unsure_reply_that_never_names_what_a_how_many_question_counts_abstains(tmp_path, fake_embedder):
    assistant = markdown_assistant(tmp_path, fake_embedder, {"club.md": (
        "# Arts Club\n\nThe Chicago art scene had 30 commercial art galleries in 1916.\n\n"
        "The club was founded by collectors.\n")}, min_confidence=0.0)

    def confidence(question: str, unsure_below: float) -> float:
        check_unsure_below(assistant, unsure_below)
        reply = assistant.ask(question)
        assert reply.sentences[0].text.startswith("The Chicago art scene")
        return reply.confidence

    assert confidence("How many galleries did the Chicago art scene have?", 1.0) > 0.7
    unchecked = confidence("How many members did the Chicago art scene have?", 0.0)
    assert unchecked > 0.2 and confidence("How many members did the Chicago art scene have?", unchecked + 0.01) <= 0.2


def test_a_question_naming_another_document_by_its_title_abstains_on_a_quote_that_never_mentions_it(
        tmp_path, fake_embedder):
    assistant = markdown_assistant(tmp_path, fake_embedder, {
        "fd.md": "# fd (README)\n\nfd is a simple, fast and user-friendly alternative to find.\n",
        "ripgrep.md": "# ripgrep (README)\n\nripgrep can search compressed zip archives with the -z flag.\n"})
    assert assistant._engine.extractor.named_titles("Can fd search compressed zip archives?") == ("fd",)
    assert assistant.ask("Can ripgrep search compressed zip archives?").answerable
    reply = assistant.ask("Can fd search compressed zip archives?")
    assert not reply.answerable and "“ripgrep (README)”, never mentions “fd”" in reply.answer


def test_a_fact_sheets_field_answers_only_for_the_sheets_subject(tmp_path, fake_embedder):
    sheet = ("# Bhutan\n\nCapital: name: Thimphu\n\nArea: total: 38,394 sq km\n\n"
             "Refugees: more than 100,000 ethnic Nepali refugees fled to Nepal in the 1990s.\n")
    assistant = markdown_assistant(tmp_path, fake_embedder, {"bhutan.md": sheet})
    answered = assistant.ask("What is the capital of Bhutan?")
    assert answered.answerable and answered.sentences[0].text.startswith("Capital:")
    reply = assistant.ask("What is the capital of Nepal?")
    assert not reply.answerable and "“Bhutan”, gives its own “Capital”, not that of “Nepal”." in reply.answer


def test_a_fact_sheets_field_does_not_answer_for_another_field_of_the_same_first_word(tmp_path, fake_embedder):
    sheet = "# Bhutan\n\nNational symbol(s): mythical thunder dragon (druk)\n\nCapital: name: Thimphu\n"
    assistant = markdown_assistant(tmp_path, fake_embedder, {"bhutan.md": sheet}, min_confidence=0.0)
    named = assistant.ask("What is Bhutan's national symbol?")
    assert named.sentences[0].text.startswith("National symbol(s):") and named.confidence > 0.2
    other = assistant.ask("What is Bhutan's national dish?")
    assert other.sentences[0].text.startswith("National symbol(s):") and other.confidence <= 0.2


def test_asked_which_command_a_quote_without_code_is_no_answer_if_its_document_has_code(tmp_path, fake_embedder):
    task = "Nelle needs to know how to check the length of a file and chain commands together."
    assistant = markdown_assistant(tmp_path, fake_embedder, {
        "shell.md": f"# Shell\n\n{task}\n\nList a folder with `ls`.\n",
        "prose.md": f"# Prose\n\n{task.replace('Nelle', 'Mara')}\n"}, min_confidence=0.0)
    for name, capped in (("Nelle", True), ("Mara", False)):  # only the document with code expects it in the quote
        reply = assistant.ask(f"Which command does {name} use to check the length of a file?")
        assert reply.sentences[0].text.startswith(name)
        assert (reply.confidence <= 0.2) is capped
    reply = assistant.ask("How does Nelle check the length of a file?")  # no command asked for
    assert reply.sentences[0].text.startswith("Nelle") and reply.confidence > 0.2


def test_a_faq_question_quotes_the_section_its_heading_asks(tmp_path, fake_embedder):
    readme = ("# ripgrep (README)\n\nripgrep searches files.\n\n### Why should I use ripgrep?\n\n"
              "It is faster than the other tools.\n\n### Why shouldn't I use ripgrep?\n\n"
              "You should not use ripgrep if you need a tool you can use everywhere ripgrep is not installed.\n")
    assistant = markdown_assistant(tmp_path, fake_embedder, {"ripgrep.md": readme}, min_confidence=0.0)
    assert assistant.ask("Why should I use ripgrep?").sentences[0].text == "It is faster than the other tools."
    assert assistant.ask("Why shouldn't I use ripgrep?").sentences[0].text.startswith("You should not use ripgrep")


def test_a_question_naming_an_option_quotes_the_unit_that_says_what_it_does(tmp_path, fake_embedder):
    readme = ("# fd (README)\n\nfd finds entries in your filesystem.\n\n## Options\n\n"
              "For a short help message, run `fd -h`.\n\n"
              "By default, fd skips hidden files. To show hidden files, use the `-H` flag:\n\n"
              "```\n> fd -H pre-commit\n```\n\n"
              "For example, to remove all `.DS_Store` files, run:\n\n```\n> fd -H '^\\.DS_Store$' -X rm\n```\n")
    assistant = markdown_assistant(tmp_path, fake_embedder, {"fd.md": readme}, min_confidence=0.0)
    # the ranking's words are lowercased: "-H" and "-h" look alike to it
    assert assistant.ask("What does fd -H do?").sentences[0].text.startswith("To show hidden files")
    assert assistant.ask("What does fd -h do?").sentences[0].text.startswith("For a short help message")


def test_a_how_to_question_quotes_the_prose_with_the_lead_in_that_carries_it_on(tmp_path, fake_embedder):
    guide = ("# Tool guide\n\nThe tool is small.\n\n## Updating\n\n"
             "Once the tool is installed, updating the tool is easy. From your shell, run the following script:\n\n"
             "```console\n$ tool self-update\n```\n\nTo remove it, run:\n\n```console\n$ tool self uninstall\n```\n")
    assistant = markdown_assistant(tmp_path, fake_embedder, {"guide.md": guide}, min_confidence=0.0)
    reply = assistant.ask("How do I update the tool?")
    quoted = [s.text for s in reply.sentences]
    assert quoted[0] == ("Once the tool is installed, updating the tool is easy. From your shell, run the following "
                         "script:\n\n```console\n$ tool self-update\n```")
    assert guide[reply.sentences[0].start : reply.sentences[0].end] == quoted[0]
    assert not any(text.startswith("From your shell") or text.startswith("Once the") for text in quoted[1:])
    assert reply.short_answer is None  # a phrase cut from the prose ("easy") would not say how
    # not a how-to question: the prose alone answers
    assert assistant.ask("Is updating the tool easy?").sentences[0].text.endswith("updating the tool is easy.")
    # asked which command: the lead-in and its code block say it
    assert assistant.ask("What command updates the tool?").sentences[0].text.endswith("$ tool self-update\n```")


def test_a_how_to_quote_does_not_take_along_a_lead_in_that_turns_to_another_case(tmp_path, fake_embedder):
    guide = ("# Parameters\n\n## Optional parameters\n\n"
             "To make the parameter optional, set its default to `None`. But when you want to make the parameter "
             "required, declare no default:\n\n```python\nasync def read(q: str): ...\n```\n")
    assistant = markdown_assistant(tmp_path, fake_embedder, {"guide.md": guide}, min_confidence=0.0)
    reply = assistant.ask("How do I make the parameter optional?")
    assert reply.sentences[0].text == "To make the parameter optional, set its default to `None`."


def test_a_follow_up_quotes_more_than_the_last_answer_showed(tmp_path, fake_embedder):
    hosting = ("# Hosting\n\nOur services are crippled when we host them in data centers that call themselves cloud "
               "hosting. This outdated practice wastes time and weakens recovery plans.\n")
    assistant = markdown_assistant(tmp_path, fake_embedder, {"hosting.md": hosting}, min_confidence=0.0)
    first = assistant.ask("What about data centers that call themselves cloud hosting?")
    assert first.sentences[0].text.startswith("Our services are crippled")
    shown = f"{first.sentences[0].text} [1]"  # what the last reply quoted
    follow_up = assistant.ask("Why is that such a problem?", history=[(first.question, shown)])
    assert follow_up.sentences[0].text.startswith("This outdated practice")


def test_the_step_after_that_is_the_unit_after_the_one_the_last_answer_quoted(tmp_path, fake_embedder):
    recipe = ("# Bread\n\n## Directions\n\n1. Mix the flour and water.\n2. Add sea salt.\n"
              "3. Wet hands and fold the dough.\n4. Add drops of water until supple.\n")
    assistant = markdown_assistant(tmp_path, fake_embedder, {"bread.md": recipe}, min_confidence=0.0)
    last = ("What do I do after adding the salt?", "Wet hands and fold the dough. [1]")
    after = assistant.ask("And the step after that?", history=[last])
    assert after.query == "What is the fourth step? (What do I do after adding the salt?)"
    assert after.sentences[0].text == "Add drops of water until supple."
    before = assistant.ask("What comes before that?", history=[("Q?", "3. Wet hands and fold the dough.")])
    assert before.sentences[0].text == "Add sea salt."
    # the last answer is at no numbered place: the question is expanded as any other follow-up
    assert assistant.ask("What's next?", history=[("Q?", "Bread is good. [1]")]).query != "What is the second step?"


def test_a_question_naming_another_documents_project_gets_no_answer_from_a_document_that_never_names_it(
        tmp_path, fake_embedder):
    files = {"scripts.md": "# Running scripts (uv documentation)\n\nA script runs with its dependencies.\n",
             "rg.md": "# ripgrep (README)\n\nripgrep searches files.\n\n## License\n\nDual-licensed under MIT.\n",
             "quick.md": "# Quickstart (Requests documentation)\n\nMaking a request is simple.\n"}
    assistant = markdown_assistant(tmp_path, fake_embedder, files, min_confidence=0.3)
    reply = assistant.ask("What license is uv released under?")
    assert not reply.answerable and reply.unmentioned == ("uv",)
    assert assistant.ask("What license is ripgrep released under?").unmentioned == ()
    # a project is named as its title writes it: "requests" in passing is a word, "Requests" the project
    named = assistant._engine.extractor.named_titles
    assert named("Does Requests have a license?") == ("Requests",)
    assert named("Are the license's requests listed?") == ()


def test_a_unit_of_only_the_questions_words_can_confirm_a_yes_no_question(tmp_path, fake_embedder):
    from qa.extract import FEATURES, features

    star = {"star.md": "# The Star\n\nThe Star is a daily paper.\n\n## Columnists\n\n- Greg Clark\n- Jeremy Clarkson\n"}
    assistant = markdown_assistant(tmp_path, fake_embedder, star)
    store, new_words = assistant.store, FEATURES.index("new_words")

    def new_words_of(question: str, unit: str) -> float:
        vector = fake_embedder.encode([question])[0]
        rows, _, matrix, texts = features(question, vector, Retriever(store).retrieve(question, vector, 5), store)
        return float(matrix[texts.index(unit), new_words])

    # asked what he did, the unit naming him adds nothing; asked whether he wrote for the paper, it says yes
    assert new_words_of("What did Jeremy Clarkson write?", "Jeremy Clarkson") == 0.0
    assert new_words_of("Did Jeremy Clarkson write for the Star?", "Jeremy Clarkson") == 1.0
    assert new_words_of("Did Jeremy Clarkson write for the Star?", "Greg Clark") == 1.0


def test_a_quote_giving_another_name_in_place_of_the_questions_is_no_answer(tmp_path, fake_embedder):
    assistant = markdown_assistant(tmp_path, fake_embedder, {"warsaw.md": (
        f"# Warsaw\n\nSince 2011 Warsaw Gallery Weekend is held on the last weekend of September. {HALL_FILLER}\n\n"
        "The Ujazdow Castle hosts the Centre for Contemporary Art, and the American Climate Corps met there. "
        f"{HALL_FILLER.replace('west', 'east')}\n\n"
        f"The Amboise plot tried to wrest power in France from the House of Guise. {HALL_FILLER}\n\n"
        f"The French court met at Blois. {HALL_FILLER.replace('west', 'east')}\n\n"
        f"## Jobs\n\nThe website lists nearly 2,000 Climate Corps positions in 36 states. {HALL_FILLER}\n")},
        min_confidence=0.0)
    check_unsure_below(assistant, 0.0)  # not the unsure reply's passage check: this one holds at any confidence
    assert len(next(iter(assistant.store.passages_by_article.values()))) >= 3
    named = assistant.ask("When is the Warsaw Gallery Weekend held?")
    assert named.sentences[0].text.startswith("Since 2011") and named.confidence > 0.2
    swapped = assistant.ask("When is the Ujazdow Gallery Weekend held?")
    assert swapped.sentences[0].text.startswith("Since 2011") and swapped.confidence <= 0.2
    # a part of the question's name is no other name: "Climate Corps positions" are the American Climate Corps'
    part = assistant.ask("How many positions does the American Climate Corps website list?")
    assert part.sentences[0].text.startswith("The website lists") and part.confidence > 0.2
    # the quote's name holds no word of its own: "House of Guise" is the question's "French House" of Guise
    plot = assistant.ask("What plot tried to wrest power from the French House of Guise?")
    assert plot.sentences[0].text.startswith("The Amboise plot") and plot.confidence > 0.2
