import pytest

from qa.shortanswer import (answers_kind, asks_consequence, asks_reason, candidates, counted_noun, names_someone,
                            question_type, short_answer)


@pytest.mark.parametrize(
    "question, kind",
    [
        ("When was he born?", "when"),
        ("In what year did the bridge open?", "when"),
        ("How many volcanic mountains does Iceland have?", "how many"),
        ("What percentage of voters agreed?", "how many"),
        ("What is the default maximum number of redirects?", "how many"),  # a number, asked with "what"
        ("Who won the 2018 World Cup?", "who"),
        ("Where is Hekla?", "where"),
        ("Which country produces the most coffee?", "what"),
        ("What did Rahmon and Patrushev discuss?", None),
        ("Who is Nikolai Patrushev?", None),
        ("Why did the bridge close?", None),
        ("When should I use raw triple double quotes?", None),  # a condition, not a date
        ("When can oxygen gas produce a toxic condition?", None),
        ("When does the store open?", "when"),
        # "who" first: a clause's "when" or "how long" asks nothing
        ("Who should we consult when deciding how long to keep user data?", "who"),
        ("Who was president when the war ended?", "who"),
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
        ("Hekla erupted 20 times, and Katla 5 times.", "How many times did Hekla erupt?", "20"),
        # a comma inside a number, not after it ("1,200, double" is no number)
        ("By 1990 the count was 1,200, double the figure of 1950.", "How many were counted by 1990?", "1,200"),
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


def test_an_email_address_a_website_or_a_phone_number_is_answered_only_by_one():
    from qa.shortanswer import contact_form

    placeholder = "Report abuse to the leaders responsible for enforcement at [INSERT CONTACT METHOD]."
    assert not answers_kind(placeholder, "What email address do I report abuse to?")
    assert answers_kind("Write to conduct@example.org.", "What email address do I report abuse to?")
    assert answers_kind("Go to https://www.rust-lang.org/tools/install.", "What is the website to install Rust?")
    assert answers_kind("See rust-lang.org.", "Which website has the installer?")
    assert not answers_kind("Run the installer.", "What is the project's website?")
    assert answers_kind("Call +1 555 123 4567.", "What phone number do I call?")
    assert not answers_kind("Call the office.", "What phone number do I call?")
    hidden = "NORAD Tracks Santa nnc (dot) pa (at) northcom (dot) mil"  # written so that harvesters miss it
    assert answers_kind(hidden, "What is the email address of NORAD Tracks Santa?")
    # asked how to contact someone: any address answers, the topic without one does not
    assert answers_kind(hidden, "How do I contact the NORAD Tracks Santa team?")
    assert answers_kind("Call +1 555 123 4567.", "How can I get in touch with the office?")
    assert not answers_kind(placeholder, "How can I reach the community leaders?")
    assert not answers_kind("In 2011 Visionbox approached NORAD.", "How do I contact the NORAD Tracks Santa team?")
    who = "Who do I email if my agency wants help shipping a new product?"  # an address, not a person's name
    assert answers_kind("Reach out at inquiries@example.gov.", who) and not answers_kind("Jane Doe leads it.", who)
    whom = "Who do I contact if I find a security hole in ripgrep?"  # whom to contact: a person's name answers
    assert answers_kind("For reporting a security vulnerability, please contact Andrew Gallant.", whom)
    assert not answers_kind("Security holes are taken seriously.", whom)
    # where people meet answers how to get in touch, as an address does
    assert answers_kind("Get in touch with other Rustaceans on the community page.", "Where can I get in touch?")
    assert not answers_kind("Rustaceans is a silly nickname we call ourselves.", "Where can I get in touch?")
    # a URL placing what is asked is no website asked for
    query = "The query is the set of key-value pairs that go after the `?` in a URL."
    assert contact_form("What is the query in a URL?") is None and answers_kind(query, "What is the query in a URL?")
    assert contact_form("What is the project's official website?") is not None
    # questions about an email or a website, not asking for one
    for question in ("What did Haas say in his email?", "What did the website say?", "How do I send an email?"):
        assert contact_form(question) is None and answers_kind(placeholder, question)


def test_list_numbers_and_how_often_do_not_say_how_many():
    from qa.shortanswer import answers_kind

    checklist = "Checklist:\n1. Keep delivery teams small and focused\n2. Hold standups daily\n3) Release often"
    assert not answers_kind(checklist, "How many people should be on a delivery team?")  # item numbers count nothing
    assert answers_kind(checklist.replace("small and focused", "to 5 people"), "How many people should be on a team?")
    assert not answers_kind("The club meets weekly.", "How many members does the club have?")
    assert answers_kind("The club meets weekly.", "How many times does the club meet?")
    assert answers_kind("About 1. 5 million people live there.", "How many people live there?")  # not a list


@pytest.mark.parametrize("sentence, answers", [
    ("Tesla died of heart failure at the age of 86.", True),
    ("He moved to the city with his family when he was seven months old.", True),
    ("Manning, 39, became the oldest quarterback to play in a Super Bowl.", True),
    ("Fossils thought to represent ctenophores date back 515 million years.", True),
    ("Andrew Hyder, a software engineer at 18F, passed away in 2021.", False),  # a year of death is no age
    ("A crowd of 1,500 people attended his funeral.", False),
])
def test_an_age_answers_how_old_and_a_bare_year_does_not(sentence, answers):
    from qa.shortanswer import answers_kind

    assert answers_kind(sentence, "How old was he when he died?") is answers
    assert answers_kind(sentence, "At what age did he die?") is answers
    assert answers_kind(sentence, "What did he do?")  # an open question asks for no kind


@pytest.mark.parametrize("sentence, answers", [
    ("Building it cost $2.4 million.", True),
    ("Members pay 150 dollars a year.", True),
    ("The fee was two million euros.", True),
    ("Annual dues were raised by 4% in 2020.", True),  # a change in price is a share
    ("Entry is free for members.", True),
    ("Its members handle hundreds of billions of dollars in dues.", True),  # an amount in words
    ("Taxpayers in 12 states used the pilot.", False),  # a number, but no amount of money
    ("A two-tiered dues system is maintained: professionals pay lower dues than patrons.", False),
])
def test_a_question_about_a_price_wants_an_amount_of_money_not_any_number(sentence, answers):
    assert answers_kind(sentence, "How much do patron members pay in annual dues?") is answers
    assert answers_kind(sentence, "What was the price of a membership?") is answers
    assert answers_kind(sentence, "How much extra does the That's Puzzling! supplement cost?") is answers
    assert answers_kind(sentence, "What are the annual dues for professional members?") is answers


def test_other_how_much_questions_take_any_quantity():
    assert answers_kind("About 12 inches of rain fell in May.", "How much rain fell in May?")
    assert answers_kind("Taxpayers in 12 states used the pilot.", "How much did the pilot grow?")


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
        # a feast names a day; "none of" counts
        ("They sent pictures of the lunar surface on Christmas Eve.", "On what day were the pictures sent?"),
        ("Thousands gather on Midsummer’s Night for a festival called Wianki.", "When is the Wianki festival held?"),
        ("None of the original treaties mention fundamental rights.", "How many treaties mention fundamental rights?"),
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
        ("The essay was not published until after the end of the trial.", "When was the essay published?",
         "until after the end"),
        ("In low-light conditions, they spread out in a sheet.", "When do they spread out?", "In low-light conditions"),
        ("Smart case searches case-sensitively if the pattern has an uppercase letter.",  # a condition answers "when"
         "When does smart case switch to a case-sensitive search?", "if the pattern has an uppercase letter"),
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


@pytest.mark.parametrize(
    "sentence, question, expected, nearest",
    [
        # the name nearest the question's words is not the answer: the one the sentence attributes it to is
        ("In 1999 the report, which Smith later cited, was written by Jane Doe.", "Who wrote the report?",
         "Jane Doe", "Smith"),
        ("The Golden Gate Bridge, which Mayor Rolph championed, was designed by Joseph Strauss.",
         "Who designed the Golden Gate Bridge?", "Joseph Strauss", "Mayor Rolph"),
        # a possessive modifies the noun after it: the border is Afghanistan's, not "Tajikistan’s"
        ("They called for strengthening of control along Tajikistan’s common border with Afghanistan.",
         "What border did they want to strengthen?", "Afghanistan", "Tajikistan’s"),
    ],
)
def test_the_fitted_span_chooser_reads_more_than_distance(sentence, question, expected, nearest):
    from qa.shortanswer import SPAN_FEATURES, candidates, span_features

    spans = candidates(sentence, question_type(question), question)
    texts = [sentence[s:e] for s, e in spans]
    assert expected in texts and nearest in texts
    # what the nearest-span rule would have said: the smallest distance in words
    distance = SPAN_FEATURES.index("log_distance")
    closest = min(range(len(spans)), key=lambda i: (span_features(sentence, spans, question)[i][distance], spans[i][0]))
    assert texts[closest] == nearest
    span = short_answer(sentence, question)
    assert sentence[span[0] : span[1]] == expected


def test_a_capitalised_first_word_is_a_name_unless_it_is_a_common_opener():
    sentence = "Brazil is the largest coffee producer in the world, ahead of Vietnam."
    assert short_answer(sentence, "Which country is the largest coffee producer?") == (0, len("Brazil"))
    spans = short_answer("However, Vietnam grows more robusta.", "Which country grows more robusta?")
    assert spans is not None and "However, Vietnam grows more robusta."[spans[0] : spans[1]] == "Vietnam"


def test_every_question_kind_has_span_weights_for_every_feature():
    from qa.shortanswer import SPAN_FEATURES, SPAN_WEIGHTS, answer_kind, span_features

    kinds = {answer_kind(q) for q in ("When?", "How many?", "Who won?", "Where is it?", "Which country won?",
                                      "What is the name of the river?")}
    assert kinds == set(SPAN_WEIGHTS)
    assert all(len(weights) == len(SPAN_FEATURES) for weights in SPAN_WEIGHTS.values())
    rows = span_features("Smith met Jones in Paris.", [(0, 5), (10, 15)], "Who met whom?")
    assert [len(row) for row in rows] == [len(SPAN_FEATURES)] * 2


@pytest.mark.parametrize(
    "sentence, question, expected",
    [
        ("The longest river in the region is called the Rhine by most maps.", "What is the name of the longest river?",
         "Rhine"),
        ("Basalt, an igneous rock, covers most of Iceland.", "What type of rock covers most of Iceland?", "Basalt"),
    ],
)
def test_what_is_the_noun_questions_get_a_short_answer(sentence, question, expected):
    from qa.shortanswer import answer_kind

    assert question_type(question) is None  # the sentence scorer sees no kind ...
    assert answer_kind(question) == "what is"  # ... but a span is cut
    span = short_answer(sentence, question)
    assert span is not None and sentence[span[0] : span[1]] == expected


def test_descriptions_and_open_questions_get_no_short_answer():
    assert short_answer("The CSTO is a military alliance of six states.", "What is the CSTO?") is None
    assert short_answer("They discussed border security and trade.", "What did they discuss?") is None


@pytest.mark.parametrize("sentence, question, expected", [
    ("The Hoppings funfair is held here annually in June.", "When is the funfair held?", "June"),
    ("It takes place on Newcastle Town Moor every June.", "When does it take place?", "June"),
    ("The important 13th-century glass beaker is displayed.", "In which century was the beaker made?", "13th-century"),
    ("They were largely ignored in the 18th and 19th centuries.", "When were they ignored?", "18th and 19th centuries"),
    ("The Becket Casket dated c1180 holds relics.", "When is the Becket Casket dated?", "c1180"),
    # ordinal words, named periods, moments
    ("Britain's ambitions can be seen as early as the sixteenth century.", "When did the policy start?",
     "sixteenth century"),
    ("By the first millennium AD, the expansion had reached the area.", "When did the expansion arrive?",
     "first millennium"),
    ("The migration occurs between June and September.", "When does the migration occur?",
     "between June and September"),
    ("It was straightened in the 19th Century.", "When was it straightened?", "19th Century"),
    ("By the Pliocene period, the Rhine had captured streams.", "When did the Rhine capture streams?",
     "Pliocene period"),
    ("At the end of World War I, the Rhineland was occupied.", "When was the Rhineland occupied?",
     "end of World War I"),
    ("Treaties apply as soon as they enter into force.", "When do treaties apply?", "as soon as they enter into force"),
    # quantities and frequencies in words, spans of time, places named by an adverb
    ("Entry is free, but booking in advance is recommended.", "How much does entry cost?", "free"),
    ("The biennial festival is held in March.", "How often is the festival held?", "biennial"),
    ("Each lay servant must reapply annually.", "How often must a lay servant reapply?", "annually"),
    ("The outcome of each division is known in seconds.", "How long does a division take?", "seconds"),
    ("The coalition would hold until the end of the current Parliament.", "How long would the coalition last?",
     "until the end of the current Parliament"),
    ("Before World War I, Tesla sought overseas investors.", "Where did Tesla look for investors?", "overseas"),
])
def test_dates_quantities_and_places_in_words_answer_typed_questions(sentence, question, expected):
    assert answers_kind(sentence, question)
    start, end = short_answer(sentence, question)
    assert sentence[start:end] == expected


def test_may_the_verb_is_not_a_month():
    assert not answers_kind("You may go now.", "When did they go?")


@pytest.mark.parametrize("question, kind", [
    # a "when" without a verb after it opens a clause: the question comes later, or is open
    ("When rock folds deep in the Earth, when it buckles upwards it creates what?", None),
    ("When the Rhine emerges from Lake Constance which way does it flow?", "what"),
    ("When economic inequality is smaller, more waste and pollution is?", None),
    ("When exactly did the war end?", "when"),
    ("When year was the treaty signed?", "when"),  # a typo, no clause: still asks for a date
])
def test_a_when_clause_is_not_a_when_question(question, kind):
    assert question_type(question) == kind


def test_the_looser_forms_still_leave_unanswering_sentences_capped():
    patrushev = "Nikolai Patrushev (born July 11, 1951) is a Russian politician and security and intelligence officer."
    assert not answers_kind(patrushev, "Where was Patrushev born?")
    assert not answers_kind("They discussed border troops in the capital.", "How many troops are on the border?")
    assert not answers_kind("The bridge is painted orange.", "When did the bridge open?")


def test_an_amount_or_a_duration_said_in_words_answers_how_much_or_how_long():
    assert answers_kind("Tools strip a uniform amount of indentation.", "How much indentation do tools strip?")
    assert not answers_kind("Tools strip indentation.", "How much indentation do tools strip?")
    assert answers_kind("A second offence bans them permanently.", "How long does the ban last?")
    # that it ends is not how long it lasts
    assert not answers_kind("A ban from the community for a specified period of time.", "How long does a ban last?")


def test_a_quantity_asked_by_its_noun_wants_a_number():
    question = "What was the Star's daily circulation in 2011?"
    assert not answers_kind("In 2011, it was Canada's highest-circulation newspaper.", question)
    assert answers_kind("In 2011, its daily circulation was 350,000.", question)
    assert not answers_kind("A `TooManyRedirects` exception is raised.", "What's the default max number of redirects?")
    assert answers_kind("Area: total: 38,394 sq km", "What is the area of Bhutan?")
    assert answers_kind("The Pacific plate moves apart there.", "What is the area called where two plates move apart?")


def test_since_and_until_answer_how_long_not_how_many():
    thanks = "Thank you to everyone who contributed changes since our previous release."
    assert not answers_kind(thanks, "How many people contributed changes to the release?")
    assert answers_kind(thanks, "How long have people contributed changes?")
    assert answers_kind("He has served since the last election.", "How many years has he served?")
    assert not answers_kind("He has served since the last election.", "How many voters elected him?")


@pytest.mark.parametrize("byline", ["*Published 2015-05-15 by The Rust Core Team*",
                                    "Posted on May 15, 2015 by the core team.", "Updated 15 May 2015.",
                                    "Released in May 2015 by the core team."])
def test_a_calendar_date_counts_nothing(byline):
    assert not answers_kind(byline, "How many people contributed to the release?")
    assert short_answer(byline, "How many people contributed to the release?") is None
    assert answers_kind(byline, "When was the release published?")


def test_a_count_beside_a_date_still_answers_how_many():
    sentence = "On May 15, 2015, 1,200 people had contributed to the release."
    question = "How many people contributed to the release?"
    assert answers_kind(sentence, question)
    assert sentence[slice(*short_answer(sentence, question))].startswith("1,200")
    assert answers_kind("The dinner in 1835 was attended by 2000 guests.", "How many guests attended the dinner?")


def test_a_span_of_time_does_not_count_people():
    releases = "We will be issuing regular releases every six weeks, just like the Firefox and Chrome web browsers."
    assert not answers_kind(releases, "How many people downloaded Rust 1.0 in its first week?")
    assert answers_kind(releases, "How many weeks pass between releases?")
    assert answers_kind(releases, "How often are releases issued?")
    holidays = "The directive requires that every worker has at least 4 weeks paid holidays each year."
    assert answers_kind(holidays, "How many paid holiday days does the directive require?")


@pytest.mark.parametrize("question, answers", [
    ("Who wrote the Rust 1.0 announcement?", True),
    ("When was the announcement published?", True),
    ("When was Rust 1.0 released?", True),  # a post's "today" is its byline's date
    ("Which company paid for the development of Rust 1.0?", False),
    ("Who won the award in 2023?", False),
    ("When is the deadline for nominations?", False),  # what is or will be: not the day the post was published
    ("When will Rust 1.1 be released?", False),
])
def test_a_byline_answers_only_who_wrote_the_post_and_when(question, answers):
    assert answers_kind("*Published 2015-05-15 by The Rust Core Team*", question) is answers


@pytest.mark.parametrize("question, asks", [
    ("On what date was the NORAD Tracks Santa App story published?", True),
    ("When was the hummus recipe posted?", True),
    ("What is the date of this post?", True),
    ("In what year was the article first published?", True),
    ("When did the Star publish its weekend supplement?", False),  # something the page tells of, not the page
    ("When was The Field of Waterloo published?", False),
    ("When was the post office opened?", False),
])
def test_asked_when_the_page_itself_was_published(question, asks):
    from qa.shortanswer import asks_publication
    assert asks_publication(question) is asks


def test_the_date_of_a_byline_is_found_only_in_a_byline():
    from qa.shortanswer import byline_date
    byline = "*2021-03-13, by jacob-smith*"
    start, end = byline_date(byline)
    assert byline[start:end] == "2021-03-13"
    assert byline_date("The fund opened on 2021-03-13 to all projects.") is None  # a date, but no byline
    assert byline_date("Written by Jane Doe") is None  # a byline without a date


def test_the_author_asked_and_the_author_a_byline_names():
    from qa.shortanswer import asked_author_of, byline_author
    assert asked_author_of("who wrote the seven tips on unplanned topics") == "the seven tips on unplanned topics"
    assert asked_author_of("Who is the author of the hummus recipe?") == "the hummus recipe"
    assert asked_author_of("Who designed the club's building?") is None
    for byline, author in (("*2021-03-13, by jacob-smith*", "jacob-smith"), ("Written by Jane Doe", "Jane Doe"),
                           ("*Published 2015-05-15 by The Rust Core Team*", "The Rust Core Team")):
        start, end = byline_author(byline)
        assert byline[start:end] == author
    assert byline_author("*Published 2012-12-18*") is None
    assert byline_author("The poem was written by Sir Walter Scott.") is None  # no byline


def test_only_a_line_of_publication_is_a_byline():
    from qa.shortanswer import is_byline

    assert is_byline("*Published 2012-12-18*") and is_byline("Written by Jane Doe")
    assert is_byline("*2021-03-21, by Quinn & Alison*") and is_byline("By Jane Doe and John Smith")
    assert not is_byline("By default, fd does not search hidden directories.")
    assert not is_byline("By 1922, the club had outgrown its quarters.")
    assert not is_byline("By the end of the war, Britain had lost its colonies.")
    assert not is_byline("Published works include three novels and a play about the war.")
    assert answers_kind("Published works include The Rover by Aphra Behn.", "Which company published The Rover?")


@pytest.mark.parametrize("question, sentence, answers", [
    ("What temperature should the warm water be?", "330g warm water", False),
    ("What temperature should the oven be?", "Preheat the oven to 475 - 500 degrees F.", True),
    ("How hot should the oven be?", "Reduce oven temperature to 425 F.", True),
    ("How much memory does fd use?", "fd is fast: it searches 400,000 files in 0.2 seconds.", False),
    ("How much memory did ripgrep use?", "ripgrep used 12.5 MB at most.", True),
    ("How many megabytes is the Android app?", "The apps have achieved 65,000 downloads.", False),
    ("How many MB is the Android app?", "The Android app is 18 MB.", True),
    ("What time on Christmas Eve does the tracking start?", "Tracking of Santa is live on December 24th.", False),
    ("What time does the tracking start?", "Tracking starts at 2:01 a.m. MST on December 24th.", True),
    ("What time do they normally have tea?", "Tea is at 10 o'clock.", True),  # no start or end: no measure asked
    ("How heavy is a damphu?", "The damphu is made of 24 pieces of wood.", False),
    ("How much does the drum weigh?", "A small drum weighs about 2 kg.", True),
    ("What share of maintainers get paid?", "Today, many people get paid to work part- or full-time.", False),
    ("What share of staff went to another government job?", "85% of people leaving moved on to another job.", True),
    ("What fraction of employees knew about it?", "Two-thirds of employees knew about the program.", True),
    ("Which version of Bash does the workshop use?", "In this workshop, we will be using Bash.", False),
    ("What's the oldest macOS version that Rust supports?", "The script installs the rustup tool.", False),
    ("What is the minimum supported Rust version?", "ripgrep requires Rust 1.72.0 or newer.", True),
    ("What version of Rust does rustup install?", "rustup installs the latest stable version of Rust.", True),
    ("What version of trpl does the book add?", "cargo add rand@0.10.1 trpl@0.2.0", True),
])
def test_a_measure_is_answered_only_in_its_units(question, sentence, answers):
    assert answers_kind(sentence, question) is answers


@pytest.mark.parametrize("question, sentence, answers", [
    ("How many works are in the collection?", "See The Arts Club of Chicago: The Collection 1916-1996 by Sophia Shaw.",
     False),  # years name a span of the club's life, they count no works
    ("How many people were nominated?", "The award went to Jane Doe (18F) and John Roe (10X).", False),
    ("How long did Andrew Hyder work at 18F?", "He was an engineer at 18F who passed away in 2021.", False),
    ("How long did the war last?", "The war lasted from 1914 to 1918.", True),
    ("How long has proportionality been a principle of EU law?", "It has been recognised since the 1950s.", True),
    ("How many soldiers did the army have?", "In 1815 the army had 1500 soldiers.", True),
    ("How many people lived there?", "In 1990, about 2000 people lived there.", True),
])
def test_a_year_or_a_number_in_a_name_does_not_count(question, sentence, answers):
    assert answers_kind(sentence, question) is answers


@pytest.mark.parametrize("question, sentence, answers", [
    ("Which company will build the 2013 version of the apps?", "In 2011, a local firm offered to create the apps.",
     False),
    ("Which company will build the 2013 version of the apps?", "In 2013, a local firm will create the apps.", True),
    ("Who was mayor in 1990?", "Jane Doe was mayor from 1985 until 1992.", True),  # 1990 lies between
    ("Who was mayor in 1995?", "Jane Doe was mayor in the 1990s.", True),
    ("Who was mayor in 1990?", "Jane Doe was the first mayor of the city.", True),  # no year: nothing to contradict
    # a year a "when" question reckons from is not the one it asks for; other questions ask of that year
    ("When did the Star go back to its old layout after the 2007 makeover?",
     "However, on January 1, 2009, The Star reverted to its previous format.", True),
    ("How much had the price risen after 1971?", "From 1947 to 1967, the price had risen by two percent.", False),
])
def test_a_question_naming_a_year_is_not_answered_by_a_sentence_of_other_years(question, sentence, answers):
    assert answers_kind(sentence, question) is answers


@pytest.mark.parametrize("question, sentence, answers", [
    ("How do I run a .pyw script on macOS?", "On Windows uv will run a script ending in .pyw using pythonw.", False),
    ("Which package should Fedora users install?", "On Ubuntu, install the build-essential package.", False),
    ("Could you play Thin Ice on an iPhone?", "The original apps included Thin Ice (Android.)", False),
    ("How do I install ripgrep on Linux?", "If you run Debian stable, ripgrep is maintained by Debian.", True),
    ("How do I install ripgrep on Debian?", "On Linux, download the static binary.", True),  # the family's
    ("How do I install Rust on a Mac?", "If you are using Linux or macOS, open a terminal.", True),
    ("How do I install Rust on a Mac?", "Run the installer and follow the prompts.", True),  # no system named
])
def test_a_question_naming_an_operating_system_is_not_answered_by_a_sentence_about_others(question, sentence,
                                                                                            answers):
    assert answers_kind(sentence, question) is answers


def test_where_within_a_thing_asks_a_position_not_a_place_name():
    position = "The query is the set of key-value pairs that go after the `?`."
    assert answers_kind(position, "Where in a URL do the query pairs go?")
    assert not answers_kind(position, "Where do the query pairs go?")  # asked where, the sentence names no place


def test_where_something_ranks_asks_a_rank_not_a_place_name():
    rank = "Brazil is the second-largest global producer of soybeans after the United States."
    assert answers_kind(rank, "Where is Brazil ranked globally in soybean production?")
    assert answers_kind("Its biodiversity is the highest on Earth.", "Where does the Amazon rate for biodiversity?")
    assert not answers_kind(rank, "Where are soybeans produced?")


def test_where_an_idea_or_a_name_came_from_asks_a_source_not_a_place_name():
    inspired = "The guidelines were inspired by the enforcement ladder of another code of conduct."
    assert answers_kind(inspired, "Where did they get the idea for the impact guidelines?")
    assert answers_kind("It derives from the word for a northern man.", "Where does the name Normandy come from?")
    assert not answers_kind(inspired, "Where did they write the impact guidelines?")  # a place is asked


def test_where_a_file_goes_is_answered_by_a_position_or_a_path():
    question = "Where does uv put the lockfile?"
    assert answers_kind("It creates a `.lock` file adjacent to the script.", question)
    assert answers_kind("It is usually located in `~/.config/uv/uv.lock`.", question)
    assert not answers_kind("It creates a `.lock` file.", question)


def test_how_many_ounces_asks_for_a_weight():
    assert not answers_kind("One can of garbanzo beans (chickpeas)", "How many ounces should the can of chickpeas be?")
    assert answers_kind("One 15 oz can of garbanzo beans", "How many ounces should the can of chickpeas be?")
    assert answers_kind("The Amazon absorbs 1.5 gigatons of carbon a year.", "How many tons of carbon does it absorb?")
    in_ounces = "What size can of chickpeas, in ounces, should I buy?"
    assert not answers_kind("One can of garbanzo beans (chickpeas)", in_ounces)
    assert answers_kind("One 15-ounce can of garbanzo beans", in_ounces)


def test_how_many_minutes_hours_or_days_is_answered_with_the_unit_not_any_count():
    question = "How many minutes should I set aside for unplanned discussion?"
    assert not answers_kind("Using these 7 tips will help you make room for unplanned topics.", question)
    assert answers_kind("Set aside 15 minutes at the end for unplanned topics.", question)
    assert answers_kind("Let the dough prove for 4 - 5 hours.", "How many hours does the dough prove?")
    assert answers_kind("It takes two to three days.", "How many days does a starter take?")
    # years are said as years too: "from 1914 to 1918" says how many years
    assert answers_kind("The war lasted from 1914 to 1918.", "How many years did the war last?")


@pytest.mark.parametrize("question, sentence, unsaid", [
    ("In what year was Henry of Navarre born?", "In 1598, Henry of Navarre succeeded to the French throne.", True),
    ("When was Nikolai Patrushev born?", "Nikolai Patrushev (born July 11, 1951) is a Russian official.", False),
    ("When was Rousseau born?", "Jean-Jacques Rousseau (1712–1778) was a philosopher.", False),
    ("When did Reguier de la Plancha die?", "Reguier de la Plancha (d. 1560) offered this account.", False),
    ("When did Reguier de la Plancha die?", "In 1560 Reguier de la Plancha offered this account.", True),
    ("When did Reguier de la Plancha die in Paris?", "In 1560 Reguier de la Plancha offered this account.", True),
    ("When die Tesla turn his attention to radiant energy?", "In 1893 Tesla turned his attention to it.", False),
    ("What year did Andrew Hyder die?", "Andrew Hyder, who tragically passed away in 2021, was a community organizer.",
     False),
    ("What year was Chinatown founded?", "By 1931 the company operated 47 streetcars in Chinatown.", True),
    ("What year was the Arts Club founded?", "The Arts Club of Chicago was established in 1916.", False),
    ("When was 18F founded?", "18F launched in 2014.", False),
    ("When did the club move?", "In 1916 the club was founded.", False),  # no birth, death or founding asked
])
def test_a_date_of_birth_death_or_founding_needs_a_sentence_that_tells_of_that_event(question, sentence, unsaid):
    from qa.shortanswer import unsaid_event

    assert unsaid_event(sentence, question) is unsaid


def test_asked_what_an_abbreviation_stands_for_a_sentence_must_spell_it_out():
    sorn = "Determine whether a System of Records Notice (SORN) is needed."
    assert answers_kind(sorn, "What does SORN stand for?")
    assert not answers_kind("A SORN is filed with the privacy officer.", "What does SORN stand for?")
    cbd = "Central business districts (CBD) are taller."
    assert answers_kind(cbd, "What does CBD stand for?") and not answers_kind(cbd, "What does CDB stand for?")
    assert answers_kind("the Federal Risk and Authorization Management Program", "What does FedRAMP stand for?")
    assert answers_kind("It is called a graphical user interface.", "what does gui stand for")
    assert answers_kind("Type it into the command-line interface.", "What does CLI stand for?")  # a hyphenated run
    # a name its initials do not spell, said in words to be short for something
    assert answers_kind("Let's try our first command, `ls`, which is short for listing.", "what does ls stand for")
    assert not answers_kind("Let's try our first command, `ls`.", "what does ls stand for")
    # no abbreviation to spell: any sentence may answer
    assert answers_kind("Bash is the Bourne Again SHell.", "What does the name Bash stand for?")
    assert answers_kind("The sticks symbolize the 32 signs.", "What do the bamboo sticks stand for?")


def test_a_question_asking_what_follows_from_something():
    assert asks_consequence("What happens if I forget the dashes?")
    assert asks_consequence("And what if the person ignores it?")
    assert asks_consequence("what would happen to the dough?")
    assert not asks_consequence("What happened in 1815?")  # a past event, asked as any fact
    assert not asks_consequence("What does the flag do?")


def test_a_fact_sheets_field_names_a_place_without_a_preposition():
    imports = "Imports - partners: India 82%, Singapore 8%, China 5% (2023)"
    assert answers_kind(imports, "Where does Bhutan get most of its imports from?")
    assert answers_kind("Capital - name: Thimphu", "Where is the capital?")
    assert short_answer(imports, "Where do its imports come from?") == (imports.index("India"), imports.index(" 82%"))
    assert not answers_kind("Partners: the usual ones", "Where do its imports come from?")


def test_a_follow_up_asking_on_its_own_is_typed_by_itself_not_by_the_context_it_borrowed():
    from qa.text import own_question

    expanded = "How do I know when I've blended it long enough? (How much ice-cold water goes into the processor?)"
    assert own_question(expanded) == "How do I know when I've blended it long enough?"
    assert question_type(expanded) is None
    assert answers_kind("Blend until it lightens in color and thickens.", expanded)  # asks no amount
    # a fragment asks what its context asked
    assert own_question("And the CSTO? (When was the SCO founded?)") == "And the CSTO? (When was the SCO founded?)"
    assert question_type("And the CSTO? (When was the SCO founded?)") == "when"


def test_a_reason_or_a_purpose_is_asked_by_why_and_by_what_something_is_for():
    assert asks_reason("Why would I set exclude-newer?")
    assert asks_reason("What is the -P flag in ripgrep for?")
    assert asks_reason("What's the point of a lock file?")
    assert asks_reason("And why? (What does fd ignore?)")  # a follow-up asks by itself
    assert not asks_reason("What does the customer pay for?")  # an object, not a purpose
    assert not asks_reason("Who is it for?")
    assert not asks_reason("How did the Normans win?")


@pytest.mark.parametrize("span, names", [
    ("workshop", False), ("regional tourism groups", False), ("the Star", True), ("iLink", True), ("18F", True),
    ("— @alloy, on donations", True), ("mail@", False),  # someone by a handle
])
def test_a_question_for_a_company_or_a_university_by_name_wants_a_name(span, names):
    assert names_someone(span, "Which organization does Qituwra Anderson work for?") is names
    assert names_someone(span, "Which company built the app?") is names
    assert names_someone(span, "Which organizations promote the state?")  # in the plural, a kind may answer


@pytest.mark.parametrize("question, noun", [
    ("How many soldiers died at the Battle of Waterloo?", "soldiers"),
    ("How many more ships came the next year?", "ships"),
    ("how many copies were printed in the first run?", "copies"),
    # people go by many words, units by their abbreviations; time is counted in its own units
    ("How many people live in Thimphu?", None),
    ("How many pounds of steam does it use?", None),
    ("How many years did the war last?", None),
    ("How many of them survived?", None),
    ("What is the number of members?", None),
])
def test_the_noun_a_how_many_question_counts(question, noun):
    assert counted_noun(question) == noun


def test_asked_which_ones_a_count_of_them_names_none():
    assert not names_someone("12 states", "Which states were in the pilot?")
    assert not names_someone("several hundred projects", "what projects did they work on")
    assert names_someone("Arizona, California and Florida", "Which states were in the pilot?")
    assert names_someone("12 states", "How many states were in the pilot?")  # a count is what is asked
    assert names_someone("12 teams", "Which states were in the pilot?")  # counts something else: not this check's
    assert names_someone("six cylinder engines", "What type of engines do they have?")  # a type is asked
    assert names_someone("one way streets", "What streets are contraflows on?")  # "one way" is no count


def test_how_long_is_not_answered_by_a_calendar_date_or_a_partitive():
    question = "How long did Scott stay in Belgium?"
    sentence = "After the battle on 18 June 1815, Scott was one of the first to visit the battlefield."
    assert candidates(sentence, question_type(question), question) == []
    stay = "He stayed in Belgium for three weeks."
    assert [stay[s:e] for s, e in candidates(stay, question_type(question), question)] == ["three weeks"]
