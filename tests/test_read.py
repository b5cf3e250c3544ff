"""The read stage: span decoding, windows, "no answer", and how the spans drive what is quoted."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pytest

from qa.extract import SentenceExtractor
from qa.read import Reading, SpanReader, Window, best_spans, windows_around
from qa.types import Article, Hit, Passage, Ranking, ScoredSentence, Span

ARTICLE = ("Iceland has about 130 volcanic mountains. Hekla is one of the most active volcanoes in the country. "
           "Eyjafjallajökull erupted in 2010 and disrupted air travel across Europe for six days. "
           "Scientists at the University of Iceland monitor seismic activity around the clock.")


def sentence_spans(text: str) -> tuple[Span, ...]:
    spans, start = [], 0
    for part in text.split(". "):
        end = start + len(part) + (1 if not part.endswith(".") else 0)
        spans.append(Span(start, end))
        start = end + 1
    return tuple(spans)


def ranked_sentences(order: list[int], offset: int = 0, text: str = ARTICLE) -> list[ScoredSentence]:
    spans = sentence_spans(text)
    passage = Passage(id="p0", article_id="volcanoes", start=offset, end=offset + len(text), text=text,
                      sentences=tuple(Span(s.start + offset, s.end + offset) for s in spans), hash="h")
    hit = Hit(passage=passage, title="Volcanoes", score=1.0, rank=0)
    return [ScoredSentence(text=text[spans[i].start : spans[i].end], article_id="volcanoes",
                           start=spans[i].start + offset, end=spans[i].end + offset, score=0.9 - 0.2 * rank, hit=hit)
            for rank, i in enumerate(order)]


def test_best_span_is_the_highest_start_plus_end_inside_the_allowed_tokens():
    start = np.array([9.0, 1.0, 5.0, 0.0, 2.0])
    end = np.array([9.0, 0.0, 1.0, 4.0, 3.0])
    allowed = np.array([False, True, True, True, True])  # token 0 ([CLS]) is never an answer
    assert best_spans(start, end, allowed) == (2, 3, 9.0)
    assert best_spans(start, end, allowed, max_answer_tokens=1) == (2, 2, 6.0)  # one token at most
    assert best_spans(start, end, np.zeros(5, bool))[:2] == (-1, -1)


def test_end_never_precedes_start():
    start = np.array([0.0, 0.0, 8.0])
    end = np.array([0.0, 7.0, 0.0])
    first, last, _ = best_spans(start, end, np.array([False, True, True]))
    assert first <= last


def test_windows_take_each_candidate_with_its_neighbours_and_merge_overlaps():
    offset = 1000  # the passage sits further into its article: windows keep article offsets
    windows = windows_around(ranked_sentences([2, 3, 0], offset), count=2)
    assert len(windows) == 1  # sentence 2 ± 1 and sentence 3 ± 1 overlap: one window, sentences 1..3
    spans = sentence_spans(ARTICLE)
    assert windows[0].start == spans[1].start + offset
    assert windows[0].text == ARTICLE[spans[1].start : spans[3].end]
    assert windows[0].units == tuple((s.start + offset, s.end + offset) for s in spans[1:4])  # read one by one
    apart = windows_around(ranked_sentences([0, 3]), count=2, neighbours=0)
    assert [w.text for w in apart] == [ARTICLE[spans[0].start : spans[0].end], ARTICLE[spans[3].start : spans[3].end]]


def test_windows_come_in_the_order_of_their_best_sentence_not_of_the_text():
    spans = sentence_spans(ARTICLE)
    windows = windows_around(ranked_sentences([3, 0]), count=2, neighbours=0)
    # the reader may stop after a sure window: the best sentence's must come first, though the text has it last
    assert [w.start for w in windows] == [spans[3].start, spans[0].start]


def test_windows_read_further_skip_the_sentences_read_already():
    spans = sentence_spans(ARTICLE)
    ranked = ranked_sentences([1, 2, 3])
    read = windows_around(ranked, count=1)  # sentence 1 with sentences 0 and 2
    further = windows_around(ranked[1:], count=2, already_read=read)
    # sentence 2 was read (as a neighbour): not again; sentence 3 is read without it, though it neighbours it
    assert [w.units for w in further] == [((spans[3].start, spans[3].end),)]
    assert further[0].text == ARTICLE[spans[3].start : spans[3].end]
    assert windows_around(ranked[1:], count=2, already_read=read + further) == []


def test_decide_quotes_the_sentence_holding_the_span_and_cuts_the_short_answer_there(tiny_assistant):
    ranked = ranked_sentences([0, 2, 1, 3])
    at = ARTICLE.index("2010")
    reading = Reading(window=0, article_id="volcanoes", start=at, end=at + 4, span_score=12.0, null_score=-3.0)
    weak = Reading(window=1, article_id="volcanoes", start=ARTICLE.index("130"), end=ARTICLE.index("130") + 3,
                   span_score=1.0, null_score=4.0)
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    ranking = Ranking(sentences=tuple(ranked), confidence=0.6, hits=(ranked[0].hit,))
    extraction = extractor.decide("When did Eyjafjallajökull erupt?", ranking, [weak, reading])
    assert extraction.sentences[0].text.startswith("Eyjafjallajökull erupted in 2010")
    assert extraction.short_answer.text == "2010"
    assert (extraction.short_answer.start, extraction.short_answer.end) == (at, at + 4)
    without = extractor.decide("When did Eyjafjallajökull erupt?", ranking)
    assert without.sentences[0].text.startswith("Iceland has about 130")  # the ranking alone


def test_a_question_asking_what_something_is_quotes_the_sentence_that_says_it(tiny_assistant):
    ranked = ranked_sentences([0, 1, 2, 3])
    at = ARTICLE.index("130")
    reading = [Reading(0, "volcanoes", at, at + 3, 12.0, -3.0)]  # the reader's factoid: "130" of the first sentence
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    close = (ranked[0], replace(ranked[1], score=ranked[0].score - 0.05), *ranked[2:])
    ranking = Ranking(sentences=close, confidence=0.6, hits=(ranked[0].hit,))
    defined = extractor.decide("What is Hekla?", ranking, reading)
    assert defined.sentences[0].text.startswith("Hekla is one of the most active volcanoes")
    # a definition far below the first sentence, or a question for a fact about something, keeps the reader's span
    far = Ranking(sentences=tuple(ranked), confidence=0.6, hits=(ranked[0].hit,))
    assert extractor.decide("What is Hekla?", far, reading).sentences[0].text.startswith("Iceland has about 130")
    assert extractor.decide("How many volcanic mountains does Iceland have?", ranking,
                            reading).sentences[0].text.startswith("Iceland has about 130")


def second_close_behind_first(text: str) -> tuple[list[ScoredSentence], Ranking]:
    """``text``'s first three sentences ranked in order, the second just behind the first."""
    ranked = ranked_sentences([0, 1, 2], text=text)
    close = (ranked[0], replace(ranked[1], score=ranked[0].score - 0.05), ranked[2])
    return ranked, Ranking(sentences=close, confidence=0.6, hits=(ranked[0].hit,))


def test_a_question_asking_for_a_website_quotes_a_sentence_that_gives_one(tiny_assistant):
    text = ("Iceland's volcano office monitors Hekla daily. Its reports are at https://vedur.is/hekla for everyone. "
            "Hekla last erupted in 2000")
    ranked, ranking = second_close_behind_first(text)
    at = text.index("Hekla daily")
    reading = [Reading(0, "volcanoes", at, at + 5, 12.0, -3.0)]
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    assert "https://vedur.is/hekla" in extractor.decide("What is the website of the volcano office?", ranking,
                                                         reading).sentences[0].text
    # an email address is asked for, and no sentence gives one: the reply is capped, whatever the reader's span
    email = extractor.decide("What email address does the volcano office use?", ranking, reading)
    assert email.confidence <= extractor.weights.untyped_cap and not email.answerable


def test_asked_which_option_the_quote_is_the_close_sentence_that_writes_one(tiny_assistant):
    text = "By default, fd does not search hidden directories. Use `-H` to search them too. Hekla last erupted in 2000"
    ranked, ranking = second_close_behind_first(text)
    reading = [Reading(0, "volcanoes", 0, len("By default"), 12.0, -3.0)]  # the reader likes the prose
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    assert "`-H`" in extractor.decide("Which option makes fd search hidden directories?", ranking,
                                      reading).sentences[0].text
    # no option asked for: the reader's choice stands
    assert extractor.decide("Does fd search hidden directories?", ranking, reading).sentences[0].text.startswith("By")


def test_asked_which_option_the_code_right_after_the_first_sentence_comes_before_other_close_code(tiny_assistant):
    text = "By default, fd does not search hidden directories. Use `-H` to search them too. Or show all with `-HI`"
    ranked = ranked_sentences([0, 2, 1], text=text)  # another sentence that writes code ranks just behind the first
    ranking = Ranking(sentences=(ranked[0], replace(ranked[1], score=0.85), replace(ranked[2], score=0.8)),
                      confidence=0.6, hits=(ranked[0].hit,))
    reading = [Reading(0, "volcanoes", 0, len("By default"), 12.0, -3.0)]  # the reader likes the prose
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    assert extractor.decide("Which option makes fd search hidden directories?", ranking,
                            reading).sentences[0].text.startswith("Use `-H`")
    # the sentence after the first too far below it: the close one that writes code
    far = Ranking(sentences=(ranked[0], replace(ranked[1], score=0.85), replace(ranked[2], score=0.5)),
                  confidence=0.6, hits=(ranked[0].hit,))
    assert extractor.decide("Which option makes fd search hidden directories?", far,
                            reading).sentences[0].text.startswith("Or show all")


def test_a_question_about_who_holds_a_post_now_quotes_the_holder_marked_current(tiny_assistant):
    text = ("Ugyen Wangchuck served as the de facto ruler of Bhutan before 1907. "
            "Chief of state: King Jigme Khesar Namgyel Wangchuck (since 14 December 2006). Hekla last erupted in 2000")
    ranked, ranking = second_close_behind_first(text)
    reading = [Reading(0, "volcanoes", 0, len("Ugyen Wangchuck"), 12.0, -3.0)]  # the reader likes the older king
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    for question in ("Who is Bhutan's king right now?", "Who is the current king of Bhutan?"):
        assert extractor.decide(question, ranking, reading).sentences[0].text.startswith("Chief of state")
    # not asked about now: the reader's choice stands
    assert extractor.decide("Who ruled Bhutan before 1907?", ranking, reading).sentences[0].text.startswith("Ugyen")
    far = Ranking(sentences=(ranked[0], replace(ranked[1], score=0.2), ranked[2]), confidence=0.6,
                  hits=(ranked[0].hit,))  # far below the first: no reason to move
    assert extractor.decide("Who is Bhutan's king right now?", far, reading).sentences[0].text.startswith("Ugyen")


def test_asked_when_the_page_was_published_the_quote_is_its_dated_byline(tiny_assistant):
    text = "*Published 2012-12-18*. The apps count down to Santa's flight on December 24th. Hekla last erupted in 2000"
    ranked = ranked_sentences([1, 0, 2], text=text)
    ranking = Ranking(sentences=(ranked[0], replace(ranked[1], score=ranked[0].score - 0.05), ranked[2]),
                      confidence=0.6, hits=(ranked[0].hit,))
    at = text.index("December 24th")
    reading = [Reading(0, "volcanoes", at, at + len("December 24th"), 12.0, -3.0)]  # the reader likes the story's date
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    dated = extractor.decide("On what date was this story published?", ranking, reading)
    assert dated.sentences[0].text.startswith("*Published 2012-12-18*")
    assert dated.short_answer.text == text[dated.short_answer.start : dated.short_answer.end] == "2012-12-18"
    # a date the story tells is asked: the reader's choice stands
    told = extractor.decide("When is Santa's flight?", ranking, reading)
    assert told.sentences[0].text.startswith("The apps") and told.short_answer.text == "December 24th"


def test_asked_who_wrote_the_page_the_quote_is_its_byline_wherever_it_ranks(tiny_assistant):
    text = "*Published 2023-08-22 by Qituwra Anderson*. These tips help you run a workshop. Hekla last erupted in 2000"
    ranked = ranked_sentences([1, 0, 2], text=text)  # the byline far behind the first sentence
    ranking = Ranking(sentences=tuple(ranked), confidence=0.8, hits=(ranked[0].hit,))
    reading = [Reading(0, "volcanoes", text.index("These"), text.index(" help"), 12.0, -3.0)]
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    for question in ("Who wrote the volcanoes post?", "Who is the author of this article?"):
        wrote = extractor.decide(question, ranking, reading)
        assert wrote.sentences[0].text.startswith("*Published") and wrote.answerable
        assert wrote.short_answer.text == text[wrote.short_answer.start : wrote.short_answer.end] == "Qituwra Anderson"
    # who wrote something the page tells of, not the page (its title): the reader's choice stands
    assert extractor.decide("Who wrote the workshop tips on Hekla?", ranking,
                            reading).sentences[0].text.startswith("These tips")


def test_a_short_answer_that_is_only_code_the_question_writes_gives_way_to_the_code_told_next(tiny_assistant):
    text = ("If decoding fails, `r.json()` raises an exception. For example, invalid JSON makes `r.json()` raise "
            "`JSONDecodeError`. Hekla last erupted in 2000")
    ranked = ranked_sentences([0, 1, 2], text=text)
    ranking = Ranking(sentences=tuple(ranked), confidence=0.8, hits=(ranked[0].hit,))
    at = text.index("`r.json()`")
    reading = [Reading(0, "volcanoes", at, at + len("`r.json()`"), 12.0, -3.0)]  # the reader echoes the question
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    told = extractor.decide("What exception does r.json() raise when decoding fails?", ranking, reading)
    assert told.sentences[0].text == text[: text.index(" Hekla")]  # the sentence with the one that tells, verbatim
    assert told.short_answer.text == text[told.short_answer.start : told.short_answer.end] == "`JSONDecodeError`"
    # nothing told after it: the echo is no answer
    alone = "If decoding fails, `r.json()` raises an exception. Hekla last erupted in 2000. Iceland has volcanoes"
    ranked = ranked_sentences([0, 1, 2], text=alone)
    echoed = extractor.decide("What exception does r.json() raise when decoding fails?",
                              Ranking(sentences=tuple(ranked), confidence=0.8, hits=(ranked[0].hit,)), reading)
    assert echoed.confidence <= extractor.weights.untyped_cap and not echoed.answerable
    # asked yes or no, the quote answers whatever its span
    assert extractor.decide("Does r.json() raise an exception when decoding fails?", ranking, reading).answerable


def test_a_name_asked_of_one_section_is_not_answered_by_another_sections_quote(tiny_assistant):
    text = ("# Launches\n\nWe launched two sites.\n\n## ClimateCorps.gov launch\n\n### What\n\nA site for the "
            "American Climate Corps.\n\n### Impact\n\nIt lists nearly 2,000 positions.\n\n## Audit Clearinghouse "
            "launch\n\n### Impact\n\nCustomer satisfaction with the helpdesk is trending over 95%.\n")
    store = copy.copy(tiny_assistant.store)
    store.articles = {**store.articles, "launches": Article(id="launches", title="Launches", text=text, source="l.md")}
    units = ["Customer satisfaction with the helpdesk is trending over 95%.", "It lists nearly 2,000 positions."]
    passage = Passage(id="l0", article_id="launches", start=0, end=len(text), text=text,
                      sentences=tuple(Span(text.index(u), text.index(u) + len(u)) for u in units), hash="l")
    hit = Hit(passage=passage, title="Launches", score=1.0, rank=0)
    ranked = tuple(ScoredSentence(text=u, article_id="launches", start=text.index(u), end=text.index(u) + len(u),
                                  score=0.9 - 0.1 * i, hit=hit) for i, u in enumerate(units))
    extractor = SentenceExtractor(store, min_confidence=0.3)
    elsewhere = extractor.decide("What satisfaction rating did ClimateCorps.gov get?", Ranking(ranked, 0.9, (hit,)))
    assert elsewhere.confidence <= extractor.weights.untyped_cap and not elsewhere.answerable
    # named in a sibling subsection of the same top section: that section speaks of it
    own = extractor.decide("How many positions does the American Climate Corps site list?",
                           Ranking(ranked[::-1], 0.9, (hit,)))
    assert own.confidence > extractor.weights.untyped_cap and own.answerable


def test_a_follow_up_is_not_answered_by_the_sentence_the_last_answer_quoted():
    from qa.extract import without_repeats

    ranked = ranked_sentences([2, 1, 3])  # Eyjafjallajökull's eruption first
    ranking = Ranking(sentences=tuple(ranked), confidence=0.9, hits=(ranked[0].hit,))
    shown = f"{ranked[0].text} [1]"
    why = without_repeats(ranking, "Why did it matter?", "Which volcano disrupted air travel?", shown)
    assert why.sentences == ranking.sentences[1:] and why.confidence == ranked[1].score
    # the repeated sentence holds what is asked, and it is news: it stays
    when = without_repeats(ranking, "When did it erupt?", "Which volcano disrupted air travel?", shown)
    assert when.sentences[0] == ranked[0]
    # ... unless the last question said it already
    again = without_repeats(ranking, "When did it erupt?", "Which volcano erupted in 2010?", shown)
    assert again.sentences[0] == ranked[1]
    assert without_repeats(ranking, "Why did it matter?", "Which volcano?", None) == ranking  # nothing shown


def test_a_follow_up_looks_first_just_after_the_last_answer(tiny_assistant):
    from qa.extract import near_last_answer

    ranked = ranked_sentences([1, 0, 2, 3])  # Hekla, then the sentence before it, then the two after it
    ranking = Ranking(sentences=tuple(ranked), confidence=0.9, hits=(ranked[0].hit,))
    near = near_last_answer(ranking, "What came next?", f"{ranked[0].text} [1]")
    assert [s.text for s in near.sentences][:2] == [ranked[0].text, ranked[2].text]  # raised past the one before
    assert near.sentences[1].score > ranked[2].score and near.sentences[1].start == ranked[2].start
    # raised to be read and quoted first, not to be quoted beside another answer
    assert ("volcanoes", ranked[2].start) in near.nearby
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.0)
    assert [s.text for s in extractor.decide("What came next?", near).sentences] == [ranked[0].text]
    shown = f"{ranked[0].text} [1]"
    assert near_last_answer(ranking, "What came next?", shown, reach=1) == ranking  # the next one starts beyond
    assert near_last_answer(ranking, "And in Chile?", shown) == ranking  # a name the next sentences lack
    assert near_last_answer(ranking, "And in Europe?", shown).sentences[1].text == ranked[2].text  # one it has
    assert near_last_answer(ranking, "What came next?", "Something the ranking never held.") == ranking
    assert near_last_answer(ranking, "What came next?", None) == ranking


def test_no_answer_margin_lowers_the_confidence(tiny_assistant):
    ranked = ranked_sentences([2, 0])
    at = ARTICLE.index("2010")
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    ranking = Ranking(sentences=tuple(ranked), confidence=0.5, hits=(ranked[0].hit,))
    sure = extractor.decide("When did Eyjafjallajökull erupt?", ranking,
                            [Reading(0, "volcanoes", at, at + 4, 12.0, -4.0)])
    unsure = extractor.decide("When did Eyjafjallajökull erupt?", ranking,
                              [Reading(0, "volcanoes", at, at + 4, -5.0, 30.0)])  # "no answer" far ahead
    assert sure.confidence > unsure.confidence
    assert sure.answerable and not unsure.answerable


def test_reading_further_may_change_the_quote_but_never_the_confidence(tiny_assistant):
    ranked = ranked_sentences([0, 1, 3, 2])  # the answer sentence ranks fourth
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    below = extractor.read_weights.read_further_below
    off_topic = ARTICLE.index("130")
    first = [Reading(0, "volcanoes", off_topic, off_topic + 3, 1.0, 1.0 - below + 2.0)]  # margin below the bar
    assert extractor.reads_further(first)
    assert not extractor.reads_further([Reading(0, "volcanoes", off_topic, off_topic + 3, 1.0, 1.0 - below - 0.5)])
    assert not extractor.reads_further([])  # nothing was read: no reader, nothing to read further for
    at = ARTICLE.index("2010")
    further = [Reading(0, "volcanoes", at, at + 4, 14.0, -6.0)]
    ranking = Ranking(sentences=tuple(ranked), confidence=0.6, hits=(ranked[0].hit,))
    question = "When did Eyjafjallajökull erupt?"
    alone = extractor.decide(question, ranking, first)
    assert alone.sentences[0].text.startswith("Iceland has about 130")
    read_on = extractor.decide(question, ranking, first, further)
    assert read_on.sentences[0].text.startswith("Eyjafjallajökull erupted in 2010")
    assert read_on.short_answer.text == "2010"
    # the margin is the first windows' (what the confidence was fitted on): further spans do not raise it
    assert read_on.confidence <= extractor.decide(question, ranking, [*first, *further]).confidence


def test_no_reading_further_when_the_reply_would_abstain_whatever_it_found(tiny_assistant):
    ranked = ranked_sentences([0, 1, 3, 2])
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    off_topic, at = ARTICLE.index("130"), ARTICLE.index("2010")
    weak = [Reading(0, "volcanoes", off_topic, off_topic + 3, 1.0, 9.0)]  # margin -8: read further, unless hopeless
    further = [Reading(0, "volcanoes", at, at + 4, 14.0, -6.0)]
    question = "When did Eyjafjallajökull erupt?"
    assert extractor.reads_further(weak)  # without the ranking's confidence, as before
    assert extractor.reads_further(weak, 0.999)
    assert not extractor.reads_further(weak, 0.001)
    unsure = Ranking(sentences=tuple(ranked), confidence=0.001, hits=(ranked[0].hit,))
    assert not extractor.decide(question, unsure, weak, further).answerable  # what it skipped could not answer
    cut_off = [Reading(0, "volcanoes", 0, 0, float("-inf"), 9.0)]  # no span read: the ranking decides alone
    assert extractor.reads_further(cut_off, 0.001)


def _two_units(first: str, second: str) -> tuple[str, Ranking]:
    """Two quotes of one passage, the ranking's favourite first (0.93 against 0.85)."""
    text = first + "\n\n" + second
    passage = Passage(id="p0", article_id="doc", start=0, end=len(text), text=text,
                      sentences=(Span(0, len(first)), Span(len(text) - len(second), len(text))), hash="h")
    hit = Hit(passage=passage, title="Doc", score=1.0, rank=0)
    ranked = tuple(ScoredSentence(text=t, article_id="doc", start=s.start, end=s.end, score=p, hit=hit)
                   for t, s, p in zip((first, second), passage.sentences, (0.93, 0.85)))
    return text, Ranking(sentences=ranked, confidence=0.6, hits=(hit,))


def _quoted(store, question: str, text: str, ranking: Ranking, weak: str, strong: str) -> str:
    """The first quote when the reader finds a weak span in the first unit and a strong one in the second."""
    extractor = SentenceExtractor(store, min_confidence=0.3)
    at, to = text.index(weak), text.index(strong)
    readings = [Reading(0, "doc", at, at + len(weak), 0.8, 2.8), Reading(0, "doc", to, to + len(strong), 5.9, 2.8)]
    return extractor.decide(question, ranking, readings).sentences[0].text


@pytest.mark.parametrize("layout", [True, False])
def test_the_ranking_counts_for_more_in_quotes_with_layout(tiny_assistant, layout):
    code = "\n\n```\n$ {}\n```" if layout else " Run {}."
    text, ranking = _two_units(
        "If you're a **Homebrew** user, install ripgrep from homebrew-core:" + code.format("brew install ripgrep"),
        "If you're a **MacPorts** user, install ripgrep from the official ports:" + code.format("port install ripgrep"))
    quoted = _quoted(tiny_assistant.store, "How do you install ripgrep with Homebrew?", text, ranking,
                     "homebrew-core", "the official ports")
    # The reader, trained on prose, prefers the MacPorts span; in prose its word stands, beside code the ranking's.
    assert quoted.startswith("If you're a **Homebrew**" if layout else "If you're a **MacPorts**")


def test_a_quote_with_layout_ranked_below_prose_does_not_win_on_its_weight_unless_code_is_asked(tiny_assistant):
    code = "```python\nasync def read(q: str): ...\n```"
    text, ranking = _two_units("To make a parameter optional, set its default to None.",
                               f"To make it required, declare no default:\n\n{code}")
    weak, strong = "set its default to None", "declare no default"
    quoted = _quoted(tiny_assistant.store, "How do I make a parameter optional?", text, ranking, weak, strong)
    assert quoted.startswith("To make a parameter optional")
    quoted = _quoted(tiny_assistant.store, "Which code makes a parameter required?", text, ranking, weak, strong)
    assert quoted.startswith("To make it required")


def test_the_ranking_counts_for_more_in_labelled_fields(tiny_assistant):
    text, ranking = _two_units("Languages: Sharchopkha 28%, Dzongkha (official) 24%, Lhotshamkha 22%",
                               "Ethnic groups: Ngalop 50%, ethnic Nepali 35%, indigenous or migrant tribes 15%")
    quoted = _quoted(tiny_assistant.store, "What languages are spoken in Bhutan?", text, ranking,
                     "Sharchopkha 28%, Dzongkha", "indigenous or migrant tribes")
    assert quoted.startswith("Languages:")


def _sentence(text: str) -> ScoredSentence:
    """``text`` as the one sentence of a passage of article "rust"."""
    passage = Passage(id="p0", article_id="rust", start=0, end=len(text), text=text,
                      sentences=(Span(0, len(text)),), hash="h")
    return ScoredSentence(text=text, article_id="rust", start=0, end=len(text), score=0.9,
                          hit=Hit(passage=passage, title="Rust", score=1.0, rank=0))


def test_short_answer_keeps_inline_code_whole_and_is_never_bare_markup(tiny_assistant):
    text = "The script installs the `rustup` tool, which installs **Rust** itself."
    sentence = _sentence(text)
    ranking = Ranking(sentences=(sentence,), confidence=0.6, hits=(sentence.hit,))
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    cut = text.index("rustup")  # the reader's span starts after the backtick: "rustup` tool"
    short = extractor.decide("Which tool?", ranking, [Reading(0, "rust", cut, cut + 12, 9.0, -2.0)]).short_answer
    assert short.text == "`rustup` tool" and text[short.start : short.end] == short.text
    bold = text.index("**")
    assert extractor.decide("Which tool?", ranking, [Reading(0, "rust", bold, bold + 2, 9.0, -2.0)]).short_answer is None
    plain = text.index("Rust")
    short = extractor.decide("What?", ranking, [Reading(0, "rust", plain, plain + 4, 9.0, -2.0)]).short_answer
    assert short.text == "Rust"
    inside = text.index("rustup") + 2  # "stup` tool": both ends move out of the code
    short = extractor.decide("Which tool?", ranking, [Reading(0, "rust", inside, inside + 10, 9.0, -2.0)]).short_answer
    assert short.text == "`rustup` tool"
    cut_in_code = "Running it installs a `pyproject.toml` first."
    sentence = _sentence(cut_in_code)
    ranking_of_code = Ranking(sentences=(sentence,), confidence=0.6, hits=(sentence.hit,))
    opened = cut_in_code.index("a `py")  # the reader stops at the file name's dot: "a `pyproject"
    span = [Reading(0, "rust", opened, opened + 12, 9.0, -2.0)]
    short = extractor.decide("What?", ranking_of_code, span).short_answer
    assert short.text == "a `pyproject.toml`" and cut_in_code[short.start : short.end] == short.text
    # an account of a subject: the quote is the answer, no phrase cut from it ("What is …?" keeps its phrase)
    span = [Reading(0, "rust", cut, cut + 12, 9.0, -2.0)]
    assert extractor.decide("What is rustup?", ranking, span).short_answer.text == "`rustup` tool"
    for question in ("Tell me about rustup.", "Describe rustup"):
        assert extractor.decide(question, ranking, span).short_answer is None, question


@pytest.fixture(scope="module")
def reader() -> SpanReader:
    return SpanReader()


@pytest.mark.model
def test_spans_map_back_into_the_article_text_exactly(reader):
    article = "Intro line.\n\n" + ARTICLE  # the window starts past the article's start, and holds 'ö'
    lo = article.index("Eyjafjallajökull")
    window = Window("volcanoes", lo, article[lo : article.index("six days.") + len("six days.")])
    questions = {"When did Eyjafjallajökull erupt?": "2010", "For how long was air travel disrupted?": "six days"}
    for question, expected in questions.items():
        (reading,) = reader.read(question, [window])
        assert article[reading.start : reading.end] == expected
        assert lo <= reading.start < reading.end <= lo + len(window.text)
        assert reading.margin > 0


@pytest.mark.model
def test_the_context_is_read_but_never_answers(reader):
    table = "| Tool | Time |\n| --- | --- |\n| ack | 2.935s |\n| grep | 0.9s |"
    lo = table.index("| ack")
    row = table[lo : table.index("|\n| grep") + 1]
    question = "How long did ack take?"
    bare = reader.read(question, [Window("bench", lo, row)])
    (read,) = reader.read(question, [Window("bench", lo, row, context="| Tool | Time |")])
    assert lo <= read.start < read.end <= lo + len(row)  # article offsets, inside the row, never in the context
    assert table[read.start : read.end] == "2.935s"
    assert (read.span_score, read.null_score) != (bare[0].span_score, bare[0].null_score)  # it was read
    windows = windows_around(ranked_sentences([1]), count=1, context=lambda article_id, start: f"{article_id}@{start}")
    assert windows[0].context == f"volcanoes@{windows[0].start}"


@pytest.mark.model
def test_each_sentence_of_a_window_gets_its_own_span(reader):
    spans = sentence_spans(ARTICLE)
    window = Window("volcanoes", 0, ARTICLE, tuple((s.start, s.end) for s in spans))
    readings = reader.read("When did Eyjafjallajökull erupt?", [window])
    assert len(readings) == len(spans)
    for reading, unit in zip(readings, spans):
        assert unit.start <= reading.start < reading.end <= unit.end
    best = max(readings, key=lambda r: r.span_score)
    assert ARTICLE[best.start : best.end] == "2010"


@pytest.mark.model
def test_a_window_that_does_not_say_reads_as_no_answer(reader):
    window = Window("volcanoes", 0, ARTICLE)
    (unsaid,) = reader.read("Who painted the Mona Lisa?", [window])
    (said,) = reader.read("How many volcanic mountains does Iceland have?", [window])
    assert said.margin > 0 > unsaid.margin
    assert reader.read("anything", []) == []


@pytest.mark.model
def test_identity_names_the_weights(reader):
    identity = reader.identity
    assert identity["name"] == "qa-reader" and len(identity["sha256"]) == 16 and identity["step"] > 0


@pytest.mark.model
def test_a_window_reads_the_same_whatever_is_read_beside_it(reader):
    lo = ARTICLE.index("Eyjafjallajökull")
    short = Window("volcanoes", lo, ARTICLE[lo : ARTICLE.index("six days.") + len("six days.")])
    long = Window("volcanoes", 0, ARTICLE)  # read beside it, the short window would be padded
    question = "When did Eyjafjallajökull erupt?"
    (alone,) = reader.read(question, [short])
    beside = reader.read(question, [long, short])
    assert beside[0].window == 0 and beside[1].window == 1
    assert (beside[1].start, beside[1].end, beside[1].span_score, beside[1].null_score) == \
        (alone.start, alone.end, alone.span_score, alone.null_score)


@pytest.mark.model
def test_reading_stops_after_the_window_whose_readings_are_enough(reader):
    lo = ARTICLE.index("Eyjafjallajökull")
    windows = [Window("volcanoes", lo, ARTICLE[lo : ARTICLE.index("six days.") + len("six days.")]),
               Window("volcanoes", 0, ARTICLE[: ARTICLE.index("mountains.") + len("mountains.")])]
    question = "When did Eyjafjallajökull erupt?"
    both = reader.read(question, windows)
    assert [r.window for r in both] == [0, 1]
    assert reader.read(question, windows, enough=lambda readings: True) == both[:1]
    assert reader.read(question, windows, enough=lambda readings: False) == both


def test_a_sure_span_is_enough_reading(tiny_assistant):
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    enough = extractor.read_weights.read_enough_above
    at = ARTICLE.index("2010")
    assert extractor.read_enough([Reading(0, "volcanoes", at, at + 4, 2.0, 2.0 - enough)])
    assert not extractor.read_enough([Reading(0, "volcanoes", at, at + 4, 2.0, 2.0 - enough + 0.5)])
    assert not extractor.read_enough([Reading(0, "volcanoes", at, at, float("-inf"), -9.0)])  # no span read
    assert not extractor.read_enough([])


def _coffee_sentence(score: float) -> ScoredSentence:
    text = "Dr. Smith of the U.S. Department of Agriculture studied coffee rust on Jan. 5, 1990."
    passage = Passage(id="c0", article_id="coffee", start=0, end=len(text), text=text, sentences=(Span(0, len(text)),),
                      hash="c")
    return ScoredSentence(text=text, article_id="coffee", start=0, end=len(text), score=score,
                          hit=Hit(passage=passage, title="coffee", score=1.0, rank=1))


def test_a_quote_whose_document_never_mentions_a_name_asked_gives_way_to_one_whose_document_does(tiny_assistant):
    volcano = ranked_sentences([2])[0]  # "Eyjafjallajökull erupted in 2010 …"
    date = _coffee_sentence(0.9).text.index("Jan. 5, 1990")
    readings = [Reading(0, "coffee", date, date + 12, 12.0, -3.0),  # the reader likes the coffee sentence's date
                Reading(1, "volcanoes", volcano.start + 28, volcano.start + 32, 2.0, -1.0)]
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    question = "When did Eyjafjallajökull disrupt air travel?"
    close = Ranking(sentences=(_coffee_sentence(0.9), replace(volcano, score=0.85)), confidence=0.6,
                    hits=(volcano.hit,))
    assert extractor.decide(question, close, readings).sentences[0].text.startswith("Eyjafjallajökull erupted")
    # far below the first sentence it is no answer either: the coffee quote stays, capped as never mentioning the name
    far = Ranking(sentences=(_coffee_sentence(0.9), replace(volcano, score=0.3)), confidence=0.6, hits=(volcano.hit,))
    kept = extractor.decide(question, far, readings)
    assert kept.sentences[0].text.startswith("Dr. Smith") and kept.unmentioned == ("Eyjafjallajökull",)
    assert not kept.answerable


def test_a_quote_that_opens_by_pointing_back_is_quoted_with_the_sentence_it_points_to(tiny_assistant):
    text = ("You can pass a list of tuples to the data argument. This is particularly useful when a form repeats "
            "a key. This year the office moved to Reykjavik. Hekla last erupted in 2000")
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.0)
    ranked = ranked_sentences([1, 2, 3], text=text)
    pointing = extractor.decide("When is a list of tuples useful?", Ranking(tuple(ranked), 0.6, (ranked[0].hit,)))
    quote = pointing.sentences[0]
    assert quote.text == ("You can pass a list of tuples to the data argument. This is particularly useful when a "
                          "form repeats a key.")
    assert text[quote.start : quote.end] == quote.text  # still a verbatim slice
    ranked = ranked_sentences([2, 1, 3], text=text)  # "This year …" points to a time, not back
    dated = extractor.decide("Where did the office move?", Ranking(tuple(ranked), 0.6, (ranked[0].hit,)))
    assert dated.sentences[0].text == "This year the office moved to Reykjavik."


def test_the_sentence_pointed_back_to_is_found_in_the_passage_before_when_the_quote_opens_its_own(tiny_assistant):
    # passages overlap by one sentence, so the one a quote opens may begin with "This is …"
    text = ("fd can be called with no arguments. This is very useful to get a quick overview of all entries. "
            "Hekla last erupted in 2000")
    units = [Span(s.start, s.end) for s in sentence_spans(text)]
    before = Passage(id="f0", article_id="fd", start=0, end=units[1].end, text=text[: units[1].end],
                     sentences=tuple(units[:2]), hash="f0")
    after = Passage(id="f1", article_id="fd", start=units[1].start, end=len(text), text=text[units[1].start :],
                    sentences=tuple(units[1:]), hash="f1")
    store = copy.copy(tiny_assistant.store)
    store.passages = [*store.passages, before, after]
    store.passages_by_article = {**store.passages_by_article, "fd": [len(store.passages) - 2, len(store.passages) - 1]}
    hit = Hit(passage=after, title="fd", score=1.0, rank=0)
    ranked = [ScoredSentence(text=text[u.start : u.end], article_id="fd", start=u.start, end=u.end, score=0.9 - 0.2 * i,
                             hit=hit) for i, u in enumerate(units[1:])]
    question, ranking = "Is there a quick way to see every entry?", Ranking(tuple(ranked), 0.6, (hit,))
    quote = SentenceExtractor(store, min_confidence=0.0).decide(question, ranking).sentences[0]
    assert quote.text == text[: units[1].end] and (quote.start, quote.end) == (0, units[1].end)
    # the passage alone, as before: no sentence before it to take
    alone = copy.copy(store)
    alone.passages_by_article = {**store.passages_by_article, "fd": [len(store.passages) - 1]}
    lone = SentenceExtractor(alone, min_confidence=0.0).decide(question, ranking)
    assert lone.sentences[0].text == text[units[1].start : units[1].end]


def first_then_third(text: str) -> Ranking:
    """``text``'s first sentence ranked first, its third second, its second (what may follow the first) third."""
    ranked = ranked_sentences([0, 2, 1], text=text)
    return Ranking(tuple(ranked), 0.6, (ranked[0].hit,))


def test_asked_why_a_quote_takes_the_sentence_after_it_that_gives_the_reason(tiny_assistant):
    text = ("uv supports an exclude-newer field in the script metadata. This is useful for improving reproducibility. "
            "The date is a timestamp. Hekla last erupted in 2000")
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.0)
    ranking = first_then_third(text)
    quote = extractor.decide("Why would I set exclude-newer?", ranking).sentences[0]
    assert quote.text == ("uv supports an exclude-newer field in the script metadata. This is useful for improving "
                          "reproducibility.")
    assert text[quote.start : quote.end] == quote.text  # still a verbatim slice
    what = extractor.decide("What field does uv support in the script metadata?", ranking).sentences[0]
    assert what.text == "uv supports an exclude-newer field in the script metadata."  # not asked why: one sentence
    ranked = ranked_sentences([2, 0, 1], text=text)  # "Hekla …" does not point back
    alone = extractor.decide("Why is the date a timestamp?", Ranking(tuple(ranked), 0.6, (ranked[0].hit,)))
    assert alone.sentences[0].text == "The date is a timestamp."


def test_asked_what_happens_if_not_a_quote_takes_the_otherwise_after_it(tiny_assistant):
    text = ("If your pattern starts with a dash, you have to add two dashes first. Otherwise, the pattern will be "
            "read as an option. The date is a timestamp. Hekla last erupted in 2000")
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.0)
    ranking = first_then_third(text)
    both = ("If your pattern starts with a dash, you have to add two dashes first. Otherwise, the pattern will be read "
            "as an option.")
    assert extractor.decide("What happens if my pattern starts with a dash and I don't add them?",
                            ranking).sentences[0].text == both
    assert extractor.decide("Why add two dashes when a pattern starts with a dash?", ranking).sentences[0].text == both
    reason = text.replace("Otherwise, the pattern will be read as", "This way, the pattern is not")
    quote = extractor.decide("Why add two dashes when a pattern starts with a dash?",
                             first_then_third(reason)).sentences[0]
    assert quote.text == reason[: reason.index(" The date")]
    what = extractor.decide("What do I add when my pattern starts with a dash?", ranking).sentences[0]
    assert what.text == "If your pattern starts with a dash, you have to add two dashes first."  # not asked


def test_a_lead_in_to_a_table_or_its_header_is_quoted_with_its_rows(tiny_assistant):
    text = ("Here is a comparison on a large file:\n\n| Tool | Time |\n| ---- | :--: |\n| rg | 1.042s |\n"
            "| grep | 6.5s |\n\nThat is fast. Hekla last erupted in 2000")
    store = copy.copy(tiny_assistant.store)  # the table's article beside the fixture's
    store.articles = {**store.articles, "tables": Article(id="tables", title="Tables", text=text, source="t.md")}
    units = ["Here is a comparison on a large file:", "| Tool | Time |", "| rg | 1.042s |", "| grep | 6.5s |",
             "That is fast.", "Hekla last erupted in 2000"]
    spans = tuple(Span(text.index(u), text.index(u) + len(u)) for u in units)
    cut = text.index("| grep")  # the passage ends inside the table: the quote reads on in the article
    passage = Passage(id="t0", article_id="tables", start=0, end=cut, text=text[:cut], sentences=spans[:3], hash="t")
    hit = Hit(passage=passage, title="Tables", score=1.0, rank=0)
    ranked = [ScoredSentence(text=text[s.start : s.end], article_id="tables", start=s.start, end=s.end,
                             score=0.9 - 0.1 * i, hit=hit) for i, s in enumerate(spans)]
    extractor = SentenceExtractor(store, min_confidence=0.0)
    asked = extractor.decide("How long did rg take on the large file?", Ranking(tuple(ranked), 0.6, (hit,)))
    quote = asked.sentences[0]
    assert quote.text == text[: text.index("\n\nThat")]  # the header's rule line included, the prose after not
    assert text[quote.start : quote.end] == quote.text
    header = extractor.decide("Which tool was slowest?", Ranking((ranked[1], ranked[0], *ranked[2:]), 0.6, (hit,)))
    assert header.sentences[0].text == text[text.index("| Tool") : text.index("\n\nThat")]  # a header: with rows
    row = extractor.decide("How long did rg take?", Ranking((ranked[2], *ranked[:2], *ranked[3:]), 0.6, (hit,)))
    assert row.sentences[0].text == "| rg | 1.042s |"  # a row answers by itself
    ranked = [ranked[4], *ranked[:4], ranked[5]]  # a sentence without a colon stays as it is
    assert extractor.decide("Is it fast?", Ranking(tuple(ranked), 0.6, (hit,))).sentences[0].text == "That is fast."


def test_a_span_cut_inside_a_word_is_widened_to_the_whole_word(tiny_assistant):
    text = "Jane Doe worked at 18F until 2022. Hekla last erupted in 2000"
    ranked = ranked_sentences([0, 1], text=text)
    at = text.index("18F")
    reading = [Reading(0, "volcanoes", at, at + 2, 12.0, -3.0)]  # the word pieces "18" of "18" "##f"
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.0)
    extraction = extractor.decide("Which office did Jane Doe work for?", Ranking(tuple(ranked), 0.6, (ranked[0].hit,)),
                                  reading)
    assert extraction.short_answer.text == "18F"
    assert (extraction.short_answer.start, extraction.short_answer.end) == (at, at + 3)


def test_a_question_for_someone_by_name_is_not_answered_by_a_span_that_names_no_one(tiny_assistant):
    text = ('The Star employs a "public editor" (ombudsman) and was the first to do so. '
            "Its first public editor was Jane Doe")
    ranked = ranked_sentences([0, 1], text=text)
    role = text.index("ombudsman")
    reading = [Reading(0, "volcanoes", role, role + 9, 12.0, -3.0)]
    extractor = SentenceExtractor(tiny_assistant.store, min_confidence=0.3)
    ranking = Ranking(tuple(ranked), 0.9, (ranked[0].hit,))
    nobody = extractor.decide("Who was the paper's first public editor?", ranking, reading)
    assert nobody.short_answer.text == "ombudsman" and nobody.confidence <= extractor.weights.untyped_cap
    # a question that may be answered by a group keeps the span
    kept = extractor.decide("Who does the paper employ?", ranking, reading)
    assert kept.confidence > extractor.weights.untyped_cap
    name = text.index("Jane Doe")
    named = extractor.decide("Who was the paper's first public editor?", ranking,
                             [Reading(0, "volcanoes", name, name + 8, 12.0, -3.0)])
    assert named.short_answer.text == "Jane Doe" and named.confidence > extractor.weights.untyped_cap
