from qa.names import named_terms, times_named, unmentioned

TEXT = """Fresno is the fifth-largest city in California. Its mayor from 2009 to 2017 was Ashley Swearengin.
Juan Hartmanis wrote of World War II and of what The American Automobile Association said; the U.S. census counted
22,680,010 people, eight of them in the 1600s wing. The city's `--search-zip` flag is documented.
Skłodowska-Curie visited in the fifteenth century."""


def missing(question):
    return unmentioned(question, "Fresno, California", TEXT)


def test_names_are_capitalised_words_past_the_first_numbers_and_code():
    assert named_terms("Who was Ashley Swearengin's successor in 2017?") == ("2017", "Ashley Swearengin")
    assert named_terms("Did the Normans fight in Italy, the Byzantine Empire or Armenia?") == (
        "Normans", "Italy", "Byzantine Empire", "Armenia")
    assert named_terms("Does it support `--search-zip`?") == ("`--search-zip`",)
    assert named_terms("Where is Fresno? Who runs it?") == ("Fresno",)  # "Who" starts a sentence
    assert named_terms("what is the mayor's name?") == ()


def test_a_follow_ups_borrowed_context_gives_no_names():
    assert named_terms("What is its land area? (Bhutan, Thimphu)") == ()
    assert named_terms("And in 2025? (How many states offer Direct File?)") == ("2025",)


def test_what_a_question_sets_aside_is_no_name_the_answer_must_give():
    assert named_terms("And if those packages live on a private index rather than PyPI?") == ()
    assert named_terms("How do I use Fresno's index instead of PyPI, in 2017?") == ("2017", "Fresno")
    # a number reckoned roughly is no name of what is asked: "almost 50 years" of an editor from 1899 until 1948
    assert named_terms("Who ran the paper for almost 50 years?") == ()
    assert named_terms("Who ran the paper for 50 years?") == ("50",)
    assert named_terms("What did he say about 1984?") == ("1984",)  # a topic
    assert named_terms("What about around ex-18F staff?") == ("ex-18F",)
    assert named_terms("Is PyPI used rather than a private index?") == ("PyPI",)  # asked of PyPI itself


def test_a_title_case_question_gives_no_names_from_its_capitals():
    assert named_terms("Who Was The Mayor Of Fresno In 2017?") == ("2017",)
    assert named_terms("WHAT IS THE AREA OF BHUTAN?") == ()
    assert named_terms("Who is Ashley Swearengin?") == ("Ashley Swearengin",)  # a short question, a long name


def test_a_peoples_or_languages_adjective_describing_a_thing_is_no_name():
    assert named_terms("What Chinese-language paper did the Star buy?") == ("Star",)
    assert named_terms("Which Canadian provinces limit pharmacists?") == ()
    assert named_terms("Who sits in the Canadian Parliament?") == ("Canadian Parliament",)
    # a form of answer asked for, not a name the document must give; an acronym for a thing stays one
    assert named_terms("What is the URL of the Contributor Covenant?") == ("Contributor Covenant",)
    assert named_terms("Does fd have a GUI?") == ("GUI",)


def test_names_and_numbers_the_document_has_are_mentioned():
    assert missing("Who was Ashley Swearengin's predecessor in 2009?") == ()
    assert missing("How many people did the U.S. census count, 22,680,010 or more?") == ()


def test_names_and_numbers_the_document_lacks_are_not():
    assert missing("Who was the mayor of Fresno in 2025?") == ("2025",)
    assert missing("Who did Ashley Smith succeed?") == ("Ashley Smith",)
    assert missing("Is the city in Oregon or California?") == ("Oregon",)


def test_a_name_run_together_as_a_handle_is_mentioned():
    from qa.names import unmentioned

    text = "@andrewgodwin funded work on Django schema migrations through a Kickstarter campaign."
    assert unmentioned("How did Andrew Godwin pay for his Django work?", "Funding", text) == ()
    assert unmentioned("How did Andrew Wilson pay for his Django work?", "Funding", text) == ("Andrew Wilson",)
    assert unmentioned("How did Godwin Andrew pay for it?", "Funding", text) == ("Godwin Andrew",)  # in its order


def test_an_identifier_of_letters_and_digits_opening_a_word_is_mentioned():
    from qa.names import unmentioned

    text = "Compute checksums with `fd -tf -x md5sum`."
    assert unmentioned("How do I get md5 checksums?", "fd", text) == ()  # "md5sum" mentions md5
    assert unmentioned("How do I get sha256 checksums?", "fd", text) == ("sha256",)
    assert unmentioned("Does it run on Python 3?", "fd", "Needs Python 35 or later.") == ("Python 3",)


def test_typos_inflections_and_initials_are_forgiven():
    assert missing("What did Hatmanis write?") == ()  # one letter left out
    assert missing("Which Californian city is fifth?") == ()  # an inflection
    assert missing("What did Hartmanis write about WWII and the AAA?") == ()  # initials of capitalised names
    assert missing("What did the US census count?") == ()  # "U.S." undotted
    # and the other way round: a name asked in full is there as its initials
    assert unmentioned("When did Bhutan join the United Nations?", "Bhutan", "Bhutan joined the UN in 1971.") == ()
    assert unmentioned("When did Bhutan join the United Nations?", "Bhutan", "Bhutan joined the WTO.") == (
        "United Nations",)
    code = "This Code of Conduct applies within all community spaces."  # initials with the small words
    assert unmentioned("Does the CoC cover me?", "Covenant", code) == ()
    assert unmentioned("Does the CaC cover me?", "Covenant", code) == ("CaC",)
    # an acronym asked in the plural is there in the singular
    assert unmentioned("Can rg search inside PDFs?", "rg", "It supports PDF text extraction.") == ()
    assert unmentioned("Can rg search inside PDFs?", "rg", "It supports text extraction.") == ("PDFs",)
    assert missing("Who is Sklodowska-Curie?") == ()  # ł folds to l


def test_an_acronym_is_mentioned_by_the_words_it_abbreviates_in_lower_case():
    text = "Manual tests and quality assurance are still needed; the command-line interface prints quite a lot."
    assert unmentioned("Can we drop manual QA altogether?", "Playbook", text) == ()
    assert unmentioned("Does the CLI have colours?", "Playbook", text) == ()
    assert unmentioned("Is there a GUI?", "Playbook", text) == ("GUI",)
    assert unmentioned("Who runs QA?", "Playbook", "It prints quite a lot.") == ("QA",)  # "a" is a stop word
    assert unmentioned("Who runs QA?", "Playbook", "Quality assurance is a team.") == ()  # a sentence's first word
    # initials in lower case only: not a name's ("NSF-funded supercomputing"), nor a numeral's ("World War II")
    assert unmentioned("Who funded NFS?", "Packets", "NSF-funded supercomputing grew.") == ("NFS",)
    assert unmentioned("What followed WWI?", "Warsaw", "After World War II, the city was rebuilt.") == ("WWI",)


def test_a_name_is_not_mentioned_by_the_adjective_made_from_it():
    assert unmentioned("What is the life expectancy in Nepal?", "Bhutan", "Nepali refugees live long.") == ("Nepal",)
    assert unmentioned("Where do the Normans live?", "Normandy", "The Norman castle.") == ()  # a plural asked
    assert unmentioned("When was the Maastrich Treaty signed?", "EU", "The Maastricht Treaty.") == ()  # a typo


def test_an_acronym_is_mentioned_by_a_name_after_a_dotted_abbreviation():
    text = "The clearinghouse launched with the U.S. Department of Agriculture in June."
    assert unmentioned("Which law set up the USDA system?", "Launches", text) == ()
    assert unmentioned("Which law set up the USDB system?", "Launches", text) == ("USDB",)


def test_a_name_written_otherwise_is_mentioned():
    text = "CBS broadcast the game on television. The Super Bowl 50 village opened on January 30 at 103.5 FM's stage."
    for question in ("Who broadcast the Super Bowl on TV?", "What opened on January 30th?",
                     "How much was spent on Super Bowl-related events?", "Which stage is at 103.5FM?",
                     "Who sang at Superbowl 50?"):
        assert unmentioned(question, "Super Bowl 50", text) == (), question
    assert unmentioned("What opened on January 31st?", "Super Bowl 50", text) == ("January 31st",)
    assert unmentioned("Which stage is at 102.5FM?", "Super Bowl 50", text) == ("102.5FM",)
    assert unmentioned("Who sang at Superdome 50?", "Super Bowl 50", text) == ("Superdome 50",)
    assert unmentioned("What word did Luther add in Romans3:28?", "Luther", "He added 'alone' to Romans 3:28.") == ()


def test_numbers_must_be_there_as_written_or_spelled_out():
    assert missing("What were the 8 in the 1600s wing?") == ()  # "eight", the decade
    assert missing("Who visited in the 15th century?") == ()  # "fifteenth"
    assert missing("What was in the 1600's wing?") == ()
    centuries = "Huguenots served as mayors in Dublin and Cork in the 17th and 18th centuries."
    assert unmentioned("Which cities had Huguenot mayors in the 1600s and 1700s?", "Huguenots", centuries) == ()
    assert unmentioned("Which cities had Huguenot mayors in the 1500s?", "Huguenots", centuries) == ("1500s",)
    assert missing("Who was mayor in the 10s?") == missing("Who was mayor in the '00s?") == ()  # 2017, 2009
    assert missing("Who was mayor in the 90s?") == ("90s",)
    assert missing("Who wrote in the 60s?") == ("60s",)  # not in "the 1600s"
    oven = "Preheat the oven to 475 - 500 degrees F and weigh 250 g of flour."
    assert unmentioned("My oven only goes to 475F, and I have 250g of flour. Is that enough?", "Bread", oven) == ()
    assert unmentioned("Is 425F hot enough?", "Bread", oven) == ("425F",)
    assert unmentioned("What did 18F launch?", "Bread", "It was 18 years ago.") == ("18F",)  # a name, no degrees
    assert missing("How many lived there in 201?") == ("201",)  # not inside "2017"
    assert missing("How many lived there in 9?") == ("9",)


def test_a_number_after_a_name_is_the_names_and_a_version_is_one_number():
    assert named_terms("Does ripgrep support Windows 95 or Python 2.7?") == ("Windows 95", "Python 2.7")
    assert unmentioned("Does it run on Python 2.7?", "uv", "Python 3.12 runs it 2 or 7 times faster.") == (
        "Python 2.7",)  # not there as a 2 and a 7 apart
    assert unmentioned("Does it run on Python 3.12?", "uv", "It needs Python 3.12 or later.") == ()


def test_code_must_be_there_as_written():
    assert missing("What does `--search-zip` do?") == ()
    assert missing("What does `--search` do?") == ("`--search`",)


def test_further_names_count_once_and_like_a_name():
    assert unmentioned("Does fd search zip archives?", "ripgrep", "ripgrep searches zip archives.", ("fd",)) == ("fd",)
    assert unmentioned("Does Hummus keep?", "Bread", "Bread keeps.", ("Hummus",)) == ("Hummus",)
    assert unmentioned("Does hummus keep?", "Hummus", "It keeps.", ("hummus",)) == ()


def test_an_acronym_naming_the_kind_of_thing_asked_for_need_not_be_mentioned():
    assert named_terms("What CPU were the timings collected on?") == ()
    assert named_terms("Which OS does the tool run on?") == ()
    assert named_terms("Does fd have a GUI?") == ("GUI",)  # not asked for: the document must say it
    assert named_terms("What NLF teams are from Southern California?") == ("NLF", "Southern California")


def test_a_title_named_in_the_question_counts_whole_though_a_name_in_it_is_mentioned():
    launches = ("*Published 2024-10-08 by 18F*\n\nHere are six launches that 18F has supported this year.")
    assert unmentioned("When was the 18F at ten post published?", "18F: a year of launches", launches,
                       ("18F at ten",)) == ("18F at ten",)
    assert unmentioned("When was the 18F at ten post published?", "18F at ten", "*Published 2024-03-19*",
                       ("18F at ten",)) == ()


def test_the_askers_own_contractions_are_no_names():
    assert named_terms("How do I know when I've blended it long enough?") == ()
    assert named_terms("What should I do if I’m offline and I'd like to install Rust?") == ("Rust",)


def test_times_named_counts_a_name_as_written_whatever_its_case_and_spacing():
    text = "The Carolina Panthers won. The panthers lost once; CAROLINA-PANTHERS fans cheered. Panthersville is far."
    assert times_named("Carolina Panthers", text) == 2
    assert times_named("Panthers", text) == 3
    assert times_named("Denver", text) == 0
