import pytest

from qa.shortanswer import answers_kind, question_type, short_answer


@pytest.mark.parametrize(
    "question, kind",
    [
        ("When was he born?", "when"),
        ("In what year did the bridge open?", "when"),
        ("How many volcanic mountains does Iceland have?", "how many"),
        ("What percentage of voters agreed?", "how many"),
        ("Who won the 2018 World Cup?", "who"),
        ("Where is Hekla?", "where"),
        ("Which country produces the most coffee?", "what"),
        ("What did Rahmon and Patrushev discuss?", None),
        ("Who is Nikolai Patrushev?", None),
        ("Why did the bridge close?", None),
    ],
)
def test_question_types(question, kind):
    assert question_type(question) == kind


@pytest.mark.parametrize(
    "sentence, question, expected",
    [
        ("Nikolai Patrushev (born July 11, 1951) is a Russian politician.", "When was Nikolai Patrushev born?",
         "July 11, 1951"),
        ("Iceland has about 130 volcanic mountains.", "How many volcanic mountains does Iceland have?", "130"),
        ("Patrushev and his Tajik counterpart Abdurahim Qahhorov discussed ways.",
         "Who is Patrushev's Tajik counterpart?", "Abdurahim Qahhorov"),
        ("Coffee was first cultivated in Yemen in the 15th century.", "Where was coffee first cultivated?", "Yemen"),
        ("The Golden Gate Bridge opened in 1937.", "When did the Golden Gate Bridge open?", "1937"),
    ],
)
def test_short_answer_is_a_span_of_the_sentence(sentence, question, expected):
    span = short_answer(sentence, question)
    assert span is not None and sentence[span[0] : span[1]] == expected


def test_no_span_for_open_questions_or_when_nothing_fits():
    assert short_answer("They discussed security.", "What did they discuss?") is None
    assert short_answer("The bridge is painted orange.", "When did the bridge open?") is None


def test_a_span_made_only_of_the_question_is_not_an_answer():
    assert short_answer("Brazil grows coffee.", "Where does Brazil grow coffee?") is None


def test_typed_questions_need_a_sentence_of_their_kind():
    from qa.shortanswer import answers_kind

    sentence = "Nikolai Patrushev (born July 11, 1951) is a Russian politician."
    assert answers_kind(sentence, "When was Patrushev born?")
    assert not answers_kind(sentence, "Where was Patrushev born?")  # a date is no place
    assert not answers_kind("They discussed border troops.", "How many troops are on the border?")
    assert answers_kind("They discussed border troops.", "What did they discuss?")  # open question: no kind
    assert answers_kind("Coffee was first grown in Yemen.", "Where was coffee first grown?")


@pytest.mark.parametrize(
    "question, kind",
    [
        ("When John Fox left as head coach, who replaced him?", "who"),  # the clause after the comma asks
        ("What Super Bowl was the last where a fumble was returned for a touchdown?", "what"),  # relative "where"
        ("What was given to high schools where former students went on to coach?", None),
        ("The Superdome is located where?", "where"),
        ("Where was Patrushev born?", "where"),
        ("On what day was the media night held?", "when"),
    ],
)
def test_question_type_reads_the_main_clause(question, kind):
    assert question_type(question) == kind


@pytest.mark.parametrize(
    "sentence, question",
    [
        ("There are also several lakes in Warsaw.", "How many lakes are there in Warsaw?"),
        ("It is raised to full status after a year.", "How long until the status is raised?"),
        ("Media day was moved to the Monday evening.", "On what day was media day held?"),
        ("The banquet was made up two weeks later on 27 June.", "When was the banquet celebrated?"),
        ("During the Second World War, the city was razed by bombing raids.", "When was the city razed?"),
        ("Only a few common biomolecules contain no oxygen.", "How many biomolecules contain no oxygen?"),
    ],
)
def test_quantities_and_weekdays_answer_typed_questions(sentence, question):
    assert answers_kind(sentence, question)
    assert short_answer(sentence, question) is not None


@pytest.mark.parametrize(
    "sentence, question, expected",
    [
        # places and times without a capitalised name: the looser phrases, tried when nothing stricter fits
        ("The force is always directed toward the center of the curving path.", "Where does the force go?",
         "toward the center of the curving path"),
        ("The blueprint was all in his mind.", "Where did he keep the blueprint?", "in his mind"),
        ("The essay was not published until after the end of the Mexican War.", "When was the essay published?",
         "until after the end"),
        ("In low-light conditions, they spread out in a sheet.", "When do they spread out?", "In low-light conditions"),
    ],
)
def test_places_and_times_without_names(sentence, question, expected):
    from qa.shortanswer import answers_kind

    span = short_answer(sentence, question)
    assert answers_kind(sentence, question)
    assert span is not None and sentence[span[0] : span[1]] == expected


def test_loose_phrases_still_need_new_words():
    from qa.shortanswer import answers_kind

    # "at the meeting" only repeats the question: no place is named
    assert not answers_kind("Their meeting was followed by a joint meeting of experts.", "Where did the meeting take place?")
    assert not answers_kind("He spoke at the meeting.", "Where was the meeting?")
