import pytest

from qa.chunk import Chunker, SentenceSplitter
from qa.types import Article


@pytest.fixture(scope="module")
def splitter():
    return SentenceSplitter()


def sentences(splitter, text):
    return [text[s.start : s.end] for s in splitter.split(text)]


def test_abbreviations_do_not_split(splitter):
    text = "The U.S. team met Dr. Smith on Jan. 5 in Washington. They talked for an hour."
    assert sentences(splitter, text) == [
        "The U.S. team met Dr. Smith on Jan. 5 in Washington.",
        "They talked for an hour.",
    ]


def test_lines_are_paragraphs_but_wrapped_lines_join(splitter):
    text = "First paragraph ends here.\nSecond one starts here and it wraps\nonto the next line. Done."
    assert sentences(splitter, text) == [
        "First paragraph ends here.",
        "Second one starts here and it wraps\nonto the next line.",
        "Done.",
    ]


def test_headings_are_their_own_sentences(splitter):
    text = "# A heading\nBody text follows here. More body."
    assert sentences(splitter, text)[0] == "# A heading"


def _article(text):
    return Article(id="a", title="a", text=text, source="a.txt")


def test_passages_are_whole_sentences_with_exact_offsets_and_overlap():
    text = "\n".join(f"Sentence number {i} talks about topic {i} in a few more words here." for i in range(60))
    chunker = Chunker(min_words=60, max_words=200)
    passages = chunker.chunk(_article(text))
    assert len(passages) > 3
    for p in passages:
        assert text[p.start : p.end] == p.text
        assert p.sentences[0].start == p.start and p.sentences[-1].end == p.end
        assert len(p.text.split()) <= 200
    for before, after in zip(passages, passages[1:]):
        assert before.sentences[-1] == after.sentences[0]  # one-sentence overlap
    covered = {s for p in passages for s in p.sentences}
    assert len(covered) == 60


def test_never_longer_than_the_token_limit():
    text = " ".join(["word"] * 500) + "."  # one run-on sentence
    chunker = Chunker(max_tokens=50, count_tokens=lambda s: len(s.split()) + 2)
    passages = chunker.chunk(_article(text))
    assert passages and all(len(p.text.split()) + 2 <= 50 for p in passages)
    assert all(text[p.start : p.end] == p.text for p in passages)


def test_short_article_is_one_passage_and_empty_has_none():
    chunker = Chunker()
    assert len(chunker.chunk(_article("Just one short sentence."))) == 1
    assert chunker.chunk(_article("   \n  ")) == []


def test_passage_hash_follows_content():
    chunker = Chunker()
    one = chunker.chunk(_article("Alpha beta gamma."))[0]
    two = chunker.chunk(_article("Alpha beta delta."))[0]
    assert one.hash != two.hash
    assert one.hash == chunker.chunk(_article("Alpha beta gamma."))[0].hash


def test_formulas_cut_by_line_breaks_stay_one_sentence(splitter):
    # SQuAD-style text: subscripts arrive as line breaks ("O\n2"); the short middle line is a wrap, not a heading
    text = ("Oxygen makes up almost half of the crust as oxides and most of the atmosphere as O\n2 combines with "
            "atomic oxygen made by the splitting of O\n2 by ultraviolet radiation. It is reactive. 7 to 10 percent "
            "of it is ozone.")
    assert sentences(splitter, text) == [
        "Oxygen makes up almost half of the crust as oxides and most of the atmosphere as O\n2 combines with "
        "atomic oxygen made by the splitting of O\n2 by ultraviolet radiation.",
        "It is reactive.",
        "7 to 10 percent of it is ozone.",  # a number after a finished sentence starts a new one
    ]


def test_a_piece_that_continues_the_previous_sentence_joins_it():
    from qa.chunk import _continues

    assert _continues("Modern art is shown, i.e.", "also the Victorian period is represented.")
    assert _continues("Trioxygen (O", "3) is a very reactive allotrope.")
    assert _continues("It is reactive.", "[citation needed]")
    assert not _continues("It is reactive.", "7 to 10 percent of it is ozone.")
    assert not _continues("It is reactive.", "The rest is nitrogen.")
    assert _continues("To remove all `.", "DS_Store` files, run:")
    assert not _continues("Here, `{}` is a placeholder.", "`{.}` is the same.")


def test_a_closing_emphasis_marker_stays_with_its_sentence(splitter):
    # pysbd cuts after the full stop, before the "**" that closes the bold sentence
    text = ("**The 1.0 release marks the end of that churn.** This release is the official beginning. We adopt "
            "trains. **To kick off that process, we release 1.1 beta today.** Plain *one.* Two. Snake_case stays.")
    assert sentences(splitter, text) == [
        "**The 1.0 release marks the end of that churn.**",
        "This release is the official beginning.",
        "We adopt trains.",
        "**To kick off that process, we release 1.1 beta today.**",
        "Plain *one.*",
        "Two.",
        "Snake_case stays.",
    ]


def test_inline_code_with_a_full_stop_stays_in_one_sentence(splitter):
    # pysbd cuts after "`." when a capital follows; the pieces join back while the code is open
    text = ("To recursively remove all `.DS_Store` files, run this. Use a pattern such as `.` or `^`: it matches "
            "all. Here, `{}` is the result. `{.}` is the same, without the extension. Done.")
    assert sentences(splitter, text) == [
        "To recursively remove all `.DS_Store` files, run this.",
        "Use a pattern such as `.` or `^`: it matches all.",
        "Here, `{}` is the result.",
        "`{.}` is the same, without the extension.",
        "Done.",
    ]


def test_a_heading_line_still_ends_its_paragraph(splitter):
    text = "Early life\nHe was born in Moscow. He studied there."
    assert sentences(splitter, text)[0] == "Early life"
