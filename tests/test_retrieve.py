from qa.retrieve import Turn, expand_query, subjects


def test_pronoun_follow_up_takes_the_subject_of_the_last_question():
    history = [Turn("Who is Nikolai Patrushev?")]
    assert expand_query("When was he born?", history) == "When was Nikolai Patrushev born?"
    assert expand_query("What was his job?", history) == "What was Nikolai Patrushev's job?"


def test_self_contained_questions_are_left_alone():
    history = [Turn("Who is Nikolai Patrushev?")]
    assert expand_query("What did Rahmon and Patrushev discuss?", history) == "What did Rahmon and Patrushev discuss?"
    assert expand_query("When was he born?") == "When was he born?"  # no history: nothing to borrow


def test_elliptical_follow_up_appends_the_subjects():
    history = [Turn("What did Rahmon and Patrushev discuss?")]
    assert expand_query("And the CSTO?", history) == "And the CSTO? (Rahmon, Patrushev)"


def test_subject_found_in_earlier_turns_or_answers():
    history = [Turn("Who is Nikolai Patrushev?"), Turn("what about the budget?")]
    assert expand_query("Where was he born?", history) == "Where was Nikolai Patrushev born?"
    history = [Turn("who is the secretary?", "Nikolai Patrushev is the secretary.")]
    assert expand_query("When was he born?", history) == "When was Nikolai Patrushev born?"


def test_subjects_skip_question_words():
    assert subjects("Who is Nikolai Patrushev?") == ["Nikolai Patrushev"]
    assert subjects("What did Rahmon and Patrushev discuss?") == ["Rahmon", "Patrushev"]
    assert subjects("Tell me about the Shanghai Cooperation Organization") == ["Shanghai Cooperation Organization"]


def test_retriever_ranks_the_matching_passage_first(tiny_assistant, fake_embedder):
    from qa.retrieve import Retriever

    vector = fake_embedder.encode(["Which country is the largest coffee producer?"])[0]
    hits = Retriever(tiny_assistant.store).retrieve(vector, 3)
    assert hits[0].passage.article_id == "coffee"
    assert [h.rank for h in hits] == [0, 1, 2]
    assert hits[0].score >= hits[1].score >= hits[2].score
