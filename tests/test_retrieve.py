from qa.retrieve import Turn, answer_names, expand_query, subjects


def test_pronoun_follow_up_takes_the_subject_of_the_last_question():
    history = [Turn("Who is Nikolai Patrushev?")]
    assert expand_query("When was he born?", history) == "When was Nikolai Patrushev born?"
    assert expand_query("What was his job?", history) == "What was Nikolai Patrushev's job?"


def test_self_contained_questions_are_left_alone():
    history = [Turn("Who is Nikolai Patrushev?")]
    assert expand_query("What did Rahmon and Patrushev discuss?", history) == "What did Rahmon and Patrushev discuss?"
    assert expand_query("When was he born?") == "When was he born?"  # no history: nothing to borrow


def test_elliptical_follow_up_takes_the_last_question_along():
    history = [Turn("What did Rahmon and Patrushev discuss?")]
    assert expand_query("And the CSTO?", history) == "And the CSTO? (What did Rahmon and Patrushev discuss?)"
    # the fragment swaps a part of the question; the names alone ("Linux") would lose "install rustup"
    history = [Turn("How do I install rustup on Linux?", "Open a terminal and enter the following command:")]
    assert expand_query("And on Windows?", history) == "How do I install rustup on Windows?"
    # a fragment after a fragment swaps a part of the question they both shorten
    history.append(Turn("And on macOS?"))
    assert expand_query("What about FreeBSD?", history) == "How do I install rustup on FreeBSD?"
    # "for" a thing the question has no "for" of: its possessor, or its "of" object, is swapped
    assert expand_query("And for a class?", [Turn("What should a function's docstring document?")]) == (
        "What should a class's docstring document?")
    assert expand_query("And for Nepal?", [Turn("What is the capital of Bhutan?")]) == "What is the capital of Nepal?"
    fragments = [Turn(f"And {n}?") for n in ("A", "B", "C", "D", "E", "F")]
    assert expand_query("And G?", fragments) == "And G? (And F? (And E? (And D?)))"  # the three last turns


def test_a_pronoun_after_a_fragment_refers_to_the_subject_the_fragment_kept():
    history = [Turn("How do I install Rust on Linux?"), Turn("And on Windows?")]
    assert expand_query("How do I update it?", history) == "How do I update it? (Rust, Windows)"


def test_a_fragment_about_its_subjects_attribute_asks_as_a_question_does():
    # "And its area?" is "What is its area?": the reader and the rules for labelled fields read questions
    history = [Turn("What is the population of Bhutan?", "Population: total: 892,877 (2025 est.)")]
    assert expand_query("And its area?", history) == "What is its area? (Bhutan)"
    assert expand_query("What about their languages?", history) == "What are Bhutan's languages?"
    assert expand_query("How about its address?", history) == "What is its address? (Bhutan)"
    assert expand_query("And the CSTO?", history) == "And the CSTO? (What is the population of Bhutan?)"


def test_a_follow_up_without_names_takes_along_the_last_question_that_did_not_borrow():
    history = [Turn("What is fd?", "`fd` is a program to find entries in your filesystem."),
               Turn("How do I install it?", "I could not find an answer to that in the articles.")]
    # "How do I install it?" only borrowed its subject: what "it" means is what "What is fd?" asked about
    assert expand_query("Does it respect .gitignore?", history) == "Does it respect .gitignore? (What is fd?)"
    assert expand_query("Does it respect .gitignore?", history[:1]) == "Does it respect .gitignore? (What is fd?)"


def test_a_fragment_swaps_the_part_of_the_last_question_it_replaces():
    from qa.retrieve import swap_part

    assert swap_part("And on Windows?", "How do I install rustup on Linux?") == "How do I install rustup on Windows?"
    assert swap_part("What about the third level?", "What happens at the second level?") == (
        "What happens at the third level?")
    assert swap_part("And in 2019?", "How many people used Direct File in 2024?") == (
        "How many people used Direct File in 2019?")
    assert swap_part("What about FreeBSD?", "How do I install rustup on macOS?") == (
        "How do I install rustup on FreeBSD?")
    # a condition around what is swapped in ("if I'm on …"), a name where the last question names another
    assert swap_part("And if I'm on NetBSD?", "Can I get ripgrep from the regular Debian stable repositories?") == (
        "Can I get ripgrep from the regular NetBSD stable repositories?")
    assert swap_part("And if I use Windows?", "How do I install rustup on Linux?") == (
        "How do I install rustup on Windows?")
    # nothing of the same shape to swap: the caller takes the whole last question along
    assert swap_part("And the CSTO?", "What did Rahmon and Patrushev discuss?") is None
    assert swap_part("And for Python files?", "How do I search Rust files?") is None
    assert swap_part("When was he born?", "Who is Nikolai Patrushev?") is None
    assert swap_part("And on?", "How do I install rustup on Linux?") is None  # no object to swap in
    assert swap_part("And  ?", "How do I install rustup on Linux?") is None


def test_odd_questions_get_a_reply(tiny_assistant):
    # the structure rules read every question: none of these may raise
    for question in ("Describe   ", "Tell me about ?", "What is ?", "List the ?", "And on?", "What about the?"):
        for history in ((), [("How do I install rustup on Linux?", "Run the installer.")]):
            assert tiny_assistant.ask(question, history=history).question == question


def test_subject_found_in_earlier_turns_or_answers():
    history = [Turn("Who is Nikolai Patrushev?"), Turn("what about the budget?")]
    assert expand_query("Where was he born?", history) == "Where was Nikolai Patrushev born?"
    history = [Turn("who is the secretary?", "Nikolai Patrushev is the secretary.")]
    assert expand_query("When was he born?", history) == "When was Nikolai Patrushev born?"
    # the word that opens the answer is not a name ("According to custom ...")
    history = [Turn("who made the first drum?", "According to custom the drum was invented by Peng Dorje.")]
    assert expand_query("What did he use?", history) == "What did Peng Dorje use?"
    # code the answer quotes is a value, not the subject: the last question is
    history = [Turn("How do I make a query parameter optional?", "Set its default to `None`:")]
    assert expand_query("What will its value be?", history) == (
        "What will its value be? (How do I make a query parameter optional?)")


def test_he_or_she_after_a_who_question_is_the_person_the_answer_named():
    elected = Turn("Who was elected president of the Arts Club in 1918?",
                   "In 1918, the club elected Rue Winterbotham Carpenter as president.")
    assert expand_query("Where did she move the club?", [elected]) == (
        "Where did Rue Winterbotham Carpenter move the club?")
    founded = Turn("Who founded the Toronto Star?", "The Toronto Daily Star was created by Horatio Clarence Hocken.")
    # "the Toronto Daily Star" shares the question's words: its subject, not whom the answer named
    assert expand_query("When was he born?", [founded]) == "When was Horatio Clarence Hocken born?"
    # "Who is Nikolai Patrushev?" names the person it asks about; "it" is not a person's pronoun
    named = Turn("Who is Nikolai Patrushev?", "Nikolai Patrushev is the secretary of the Security Council.")
    assert expand_query("When was he born?", [named]) == "When was Nikolai Patrushev born?"
    assert expand_query("When was it founded?", [founded]) == "When was it founded? (Toronto Star)"


def test_it_after_a_what_question_may_be_what_the_answer_named():
    capital = Turn("What is the capital of Bhutan?", "Major urban areas - population: 203,000 THIMPHU (capital) (2018)")
    assert expand_query("What does its name mean?", [capital]) == "What does its name mean? (Bhutan, THIMPHU)"
    tool = Turn("What tool does the book use to install Rust?", "We’ll download Rust through `rustup`, a tool.")
    assert expand_query("How do I update it?", [tool]) == "How do I update it? (Rust, rustup)"
    # a person is the question's subject, as before; without an answer there is nothing more to borrow
    assert expand_query("Where was he born?", [Turn("What did Patrushev say?", "Rahmon met Patrushev.")]) == (
        "Where was Patrushev born?")
    assert expand_query("What does its name mean?", [Turn("What is the capital of Bhutan?")]) == (
        "What does its name mean? (Bhutan)")


def test_answer_names_are_the_names_the_question_lacks():
    assert answer_names("Major urban areas: THIMPHU (capital)", "What is the capital of Bhutan?") == ["THIMPHU"]
    assert answer_names("Rahmon met Nikolai Patrushev in Dushanbe.", "Whom did Rahmon meet?") == [
        "Nikolai Patrushev", "Dushanbe"]
    assert answer_names("Run `pip install qa` first.", "How do I install qa?") == ["pip install qa"]


def test_subjects_skip_question_words():
    assert subjects("Who is Nikolai Patrushev?") == ["Nikolai Patrushev"]
    assert subjects("What did Rahmon and Patrushev discuss?") == ["Rahmon", "Patrushev"]
    assert subjects("Tell me about the Shanghai Cooperation Organization") == ["Shanghai Cooperation Organization"]
    assert subjects("How do I send JSON with Requests?") == ["JSON", "Requests"]  # not "I", not "Request"
    assert subjects("What was Andrew Hyder’s refrain?") == ["Andrew Hyder"]
    assert subjects("Did James' friends come?") == ["James"]


def test_retriever_ranks_the_matching_passage_first(tiny_assistant, fake_embedder):
    from qa.retrieve import Retriever

    question = "Which country is the largest coffee producer?"
    hits = Retriever(tiny_assistant.store).retrieve(question, fake_embedder.encode([question])[0], 3)
    assert hits[0].passage.article_id == "coffee"
    assert [h.rank for h in hits] == [0, 1, 2]
    assert hits[0].score >= hits[1].score >= hits[2].score


def test_every_fusion_finds_the_lexical_match(tiny_assistant, fake_embedder):
    import pytest as _pytest

    from qa.retrieve import Retriever

    question = "Eyjafjallajökull air travel Europe"
    vector = fake_embedder.encode([question])[0]
    for fusion in ("weighted", "rrf", "dense", "bm25"):
        hits = Retriever(tiny_assistant.store, fusion=fusion).retrieve(question, vector, 2)
        assert hits[0].passage.article_id == "volcanoes", fusion
        assert len({h.passage.id for h in hits}) == len(hits)
    with _pytest.raises(ValueError, match="unknown fusion"):
        Retriever(tiny_assistant.store, fusion="magic")


def test_bm25_alone_needs_a_shared_word(tiny_assistant, fake_embedder):
    from qa.retrieve import Retriever

    vector = fake_embedder.encode(["zzzz"])[0]
    assert Retriever(tiny_assistant.store, fusion="bm25").retrieve("zzzz", vector, 3) == []
    assert len(Retriever(tiny_assistant.store, fusion="dense").retrieve("zzzz", vector, 3)) == 3


def test_included_passages_follow_the_top_k(tiny_assistant, fake_embedder):
    from qa.retrieve import Retriever

    question = "Which country is the largest coffee producer?"
    vector = fake_embedder.encode([question])[0]
    retriever = Retriever(tiny_assistant.store)
    ranked = [h.passage.id for h in retriever.retrieve(question, vector, len(tiny_assistant.store.passages))]
    last = tiny_assistant.store.passage_row[ranked[-1]]
    hits = retriever.retrieve(question, vector, 2, include=[last, last])
    assert [h.passage.id for h in hits] == [*ranked[:2], ranked[-1]]
    assert [h.rank for h in hits] == [0, 1, 2]
    # one already among the top_k is not repeated
    first = tiny_assistant.store.passage_row[ranked[0]]
    assert [h.passage.id for h in retriever.retrieve(question, vector, 2, include=[first])] == ranked[:2]
