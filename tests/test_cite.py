def test_reply_numbers_citations_and_keeps_offsets(tiny_assistant):
    reply = tiny_assistant.ask("Which country is the largest coffee producer?")
    assert reply.answerable
    ids = [c.id for c in reply.citations]
    assert ids == list(range(1, len(ids) + 1))
    for sentence in reply.sentences:
        assert sentence.citation in ids
        assert f"{sentence.text} [{sentence.citation}]" in reply.answer
        assert tiny_assistant.article(sentence.article_id).text[sentence.start : sentence.end] == sentence.text
    for citation in reply.citations:
        assert tiny_assistant.article(citation.article_id).text[citation.start : citation.end] == citation.text
        assert citation.source == "coffee.txt"


def test_no_answer_reply_has_no_citations_but_lists_passages(tiny_assistant):
    reply = tiny_assistant.ask("zzz qqq xxx", top_k=3)
    assert not reply.answerable
    assert reply.citations == () and reply.sentences == ()
    assert reply.answer.startswith("I could not find")
    assert len(reply.passages) == 3
