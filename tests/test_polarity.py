import pytest

from qa.polarity import contradicted


@pytest.mark.parametrize("question, sentence, words", [
    ("What is the least used type of reduction?", "The most commonly used reduction is a polynomial-time reduction.",
     ("least", "most")),
    ("Which party won Bhutan's 2018 parliamentary election?",
     "In 2018, the incumbent party again lost the parliamentary election.", ("won", "lost")),
    ("What is the lowest court in the European Union?",
     "The European Court of Justice is the highest court able to interpret European Union law.", ("lowest", "highest")),
    # a word with more than one opposite: "smallest" of "largest" as of "biggest"
    ("What is the smallest city in the state?", "Fresno is the largest inland city in the state.",
     ("smallest", "largest")),
    ("Which results were impossible to reproduce?", "Both results were possible to reproduce.",
     ("impossible", "possible")),
    ("What does not often help algorithms solve problems more efficiently?",
     "The ability to make probabilistic decisions often helps algorithms solve problems more efficiently.",
     ("not", None)),
    ("What can't be made for space requirements?", "Analogous definitions can be made for space requirements.",
     ("not", None)),
    ("What is a way of learning that is not formal?", "Formal learning is the one approach to learning, indoors.",
     ("not", None)),
    ("What is not prohibited between member states?", "The EU manages imports from non-member states.", ("not", None)),
    ("When was the last fumble return touchdown?", "The first fumble return touchdown came in Super Bowl XII.",
     ("last", "first")),
    ("What cannot be defined by bounding the time used by the algorithm?",
     "Many important complexity classes can be defined by bounding the time used by the algorithm.", ("not", None)),
    # "the only" one of a sentence that claims no such thing
    ("What is the only way to forward packets?", "Packets are normally forwarded by intermediate network nodes.",
     ("only", None)),
    ("When did the FCC decide Fresno could only have UHF stations?", "KMJ-TV debuted on June 1, 1953.",
     ("only", None)),
])
def test_a_quote_that_says_the_opposite_of_the_question_contradicts_it(question, sentence, words):
    assert contradicted(question, sentence) == words


@pytest.mark.parametrize("question, sentence", [
    # the question's own word, or a form of it, is in the sentence
    ("What is the most common reduction?", "The most commonly used reduction is a polynomial-time reduction."),
    ("Where did water to the east of the basin flow?", "Water on the eastern side flowed toward the Atlantic, while "
     "to the west water flowed toward the Pacific."),
    ("Which areas were least vulnerable to disease?", "The most isolated areas were less vulnerable to contagion."),
    # names and set phrases hold the word without meaning it
    ("How long would the invasion of the Middle East last?", "The occupation of the West would need to last 10 years."),
    ("Which cydippid do most textbooks describe?", "At least two textbooks base their descriptions on Pleurobrachia."),
    # what "how" asks is no claim: "How large" of "small", "How many" of "a few"
    ("How large is the lake?", "The lake is small and shallow."),
    ("How many people came to the opening?", "Only a few people came to the opening."),
    # a sentence that negates too agrees with a negative prefix; a yes/no question is settled either way
    ("What is unknown about the origin of the drum?", "It is not known where the drum was first made."),
    ("Was the use of the name correct?", "This use of the name was incorrect."),
    # converses are not opposites, and "end" is mostly a phrase's
    ("Who was Emma's brother?", "Emma, sister of Duke Richard II, married King Ethelred."),
    ("What caused the treaties that ended up forming the union?", "The treaties began with rules for coal and steel."),
    # "before" and "after" place the question against another event
    ("How long did Star P.M. run before they killed it?", "Star P.M. was discontinued in October 2010 after a year."),
    # a negation in a condition, a contrast, a why or a yes/no question is not what is asked
    ("Which Python does uv pick if I don't pass --python?", "uv picks the newest Python it finds."),
    ("How do I match the directory path and not just the filename?", "Use --full-path to match the full path."),
    ("Why can't I build ripgrep with simd-accel anymore?", "In the past, ripgrep supported a simd-accel feature."),
    ("Doesn't fd respect .gitignore files?", "fd respects .gitignore files by default."),
    # the sentence answers the negated question in its own negative words
    ("Which city is not close to the coast?", "Most cities lie on the coast, with the exception of San Bernardino."),
    ("What did the committee not approve?", "The committee rejected the second budget."),
    ("Who did not sign the treaty?", "Only Norway refused to sign."),
    ("What is another way of learning that is not formal?", "It is done by either an informal or formal approach."),
    ("What analyst did not agree with the ruling?", "CBS analyst Mike Carey stated he disagreed with the call."),
    # the question's word in another form beside its opposite; "the first … since" says when the last was
    ("Which player did the Panthers lose to an injury?", "Despite losing Benjamin, they were the 7th team to win 15."),
    ("Whose pass was ruled incomplete?", "Newton appeared to complete a pass, but the call was ruled an incompletion."),
    ("When was the last fumble return touchdown in a Super Bowl?",
     "It was the first fumble return touchdown in a Super Bowl since Super Bowl XXVIII."),
    # "only" said otherwise, in a contrast, or in a why-question
    ("What chemist showed that fire needed only a part of air?", "Mayow showed that fire requires only part of air."),
    ("Which team was the only winner of the cup?", "Leeds was the sole winner of the cup that year."),
    ("Which city only had a mayor for a year?", "Fresno had a single mayor in those years."),
    ("What does treatment not only do?", "Treatment raises oxygen levels in the blood."),
    ("Why does Fresno only have UHF television stations?", "To avoid interference, the FCC chose UHF."),
    # an "only" that restricts what the asker does
    ("How do I search only for Markdown files with fd?", "Here, we search for all Markdown files: fd -e md"),
    ("How does fd search only Markdown files?", "fd -e md lists the Markdown files."),
    ("I only have whole cumin seeds. What should I do with them?", "If you have whole cumin, toast it first."),
    ("Which loaf rises best if the dough uses only rye flour?", "Rye dough rises less than wheat dough."),
    ("Which dev-only dependency does the script declare?", "The script declares pytest as a dev dependency."),
])
def test_a_quote_is_not_contradicted_by_words_it_shares_names_or_conditions(question, sentence):
    assert contradicted(question, sentence) is None
