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
