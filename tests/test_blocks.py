"""Markdown structure: headings are section paths, code blocks, list items and table rows are units."""

from __future__ import annotations

from qa.blocks import (OPTION_NAMED, asked_options, has_layout, leads_in, markdown_blocks, option_match,
                       reading_context, section_title, title_project)
from qa.chunk import Chunker
from qa.types import Article

GUIDE = """# Installing the tool

Some words about the tool. It is small.

## On Linux

Open a terminal and enter the following command:

```console
$ curl -sSf https://example.org/install.sh | sh
$ tool --version
```

The installer asks for:

- a folder to install into,
- whether to change your `PATH`.

### Troubleshooting

> Note: the installer needs a network connection.

| Platform | Command |
| --- | --- |
| Linux | `sh install.sh` |
| Windows | `install.ps1` |

## On Windows

1. Download the installer.
2. Run it.

That is all.

    indented code stays as it is
    on two lines
"""


def article(text: str = GUIDE, source: str = "guide.md") -> Article:
    return Article(id="guide", title="Installing the tool", text=text, source=source)


def units(text: str = GUIDE, source: str = "guide.md") -> list[str]:
    return [text[s.start:s.end] for s in Chunker().split_sentences(article(text, source))]


def test_headings_are_never_units_and_code_keeps_its_line_breaks():
    found = units()
    assert not any(unit.lstrip().startswith("#") for unit in found)
    assert not any(unit in ("On Linux", "Troubleshooting", "On Windows") for unit in found)
    code = next(unit for unit in found if "$ curl" in unit)
    assert "$ curl -sSf https://example.org/install.sh | sh\n$ tool --version" in code
    assert "    indented code stays as it is\n    on two lines" in found


def test_a_sentence_ending_in_a_colon_is_one_unit_with_the_code_or_list_it_announces():
    found = units()
    assert ("Open a terminal and enter the following command:\n\n```console\n"
            "$ curl -sSf https://example.org/install.sh | sh\n$ tool --version\n```") in found
    assert "The installer asks for:\n\n- a folder to install into,\n- whether to change your `PATH`." in found
    # A list nobody announced: each item is its own unit, without its marker.
    assert "Download the installer." in found and "Run it." in found


def test_code_blocks_right_after_the_announced_one_join_it_but_not_after_text():
    doc = ("# Scripts\n\nArguments may be provided to the script:\n\n```python\nimport sys\nprint(sys.argv)\n```\n\n"
           "```console\n$ uv run example.py test\n```\n\nThen run it again.\n\n```console\n$ uv run example.py\n```\n")
    found = units(doc, "scripts.md")
    assert found[0] == ("Arguments may be provided to the script:\n\n```python\nimport sys\nprint(sys.argv)\n```\n\n"
                        "```console\n$ uv run example.py test\n```")
    assert found[1:] == ["Then run it again.", "$ uv run example.py"]  # nothing announced it: the code alone


def test_table_rows_are_units_and_blockquotes_start_after_the_marker():
    found = units()
    assert "| Linux | `sh install.sh` |" in found and "| Windows | `install.ps1` |" in found
    assert "Note: the installer needs a network connection." in found


def test_every_unit_is_the_text_at_its_offsets():
    spans = Chunker().split_sentences(article())
    assert spans == sorted(spans, key=lambda s: s.start)
    for span in spans:
        piece = GUIDE[span.start:span.end]
        assert piece.strip() and piece == piece.rstrip()
        assert piece == piece.lstrip() or piece.startswith("    indented")  # code keeps its indentation


def test_the_section_path_follows_the_headings_and_leaves_out_the_title():
    text = GUIDE
    assert section_title(article(), text.index("Some words")) == "Installing the tool"
    assert section_title(article(), text.index("Open a terminal")) == "Installing the tool › On Linux"
    assert section_title(article(), text.index("| Linux")) == "Installing the tool › On Linux › Troubleshooting"
    assert section_title(article(), text.index("Download")) == "Installing the tool › On Windows"
    # Not Markdown: the title alone, and sentences as before.
    assert section_title(article(source="guide.txt"), text.index("Download")) == "Installing the tool"


def test_a_table_row_is_read_under_its_header_row():
    guide = article()
    assert reading_context(guide, GUIDE.index("| Windows |")) == "| Platform | Command |"
    assert reading_context(guide, GUIDE.index("| Linux |")) == "| Platform | Command |"
    assert reading_context(guide, GUIDE.index("| Platform")) == ""  # the header row needs no header
    assert reading_context(guide, GUIDE.index("Open a terminal")) == ""  # prose reads as it is
    assert reading_context(article(source="guide.txt"), GUIDE.index("| Linux |")) == ""


def test_plain_text_and_squad_like_markdown_split_as_before():
    squad = "# Super Bowl 50\n\nSuper Bowl 50 was an American football game. The Broncos won.\n"
    found = units(squad)
    assert found == ["Super Bowl 50 was an American football game.", "The Broncos won."]
    titled = Article(id="sb", title="Super Bowl 50", text=squad, source="Super_Bowl_50.md")
    assert section_title(titled, squad.index("The Broncos")) == "Super Bowl 50"  # the heading repeats the title
    assert units("Plain text. Two sentences.\n", source="notes.txt") == ["Plain text.", "Two sentences."]


def test_blocks_of_an_empty_or_odd_document():
    assert markdown_blocks("") == ()
    assert [b.kind for b in markdown_blocks("```\nunclosed fence\n")] == ["code"]
    assert units("# Only a heading\n") == []


def test_quoted_code_lists_and_tables_keep_their_lines_while_wrapped_prose_flows():
    assert has_layout("Enter the following command:\n\n```console\n$ rustc --version\n```")
    assert has_layout("The installer asks for:\n\n- a folder,\n- a shell.")
    assert has_layout("    indented code\n    on two lines")
    assert has_layout("| Linux | `sh install.sh` |\n| Windows | `install.ps1` |")
    assert not has_layout("A sentence that a plain-text file wraps\nat seventy-two columns.")
    assert not has_layout("In 1999 - the year it opened - the bridge cost $5 million.")


def test_no_short_answer_is_cut_from_a_quoted_code_block(tmp_path, fake_embedder):
    from qa.config import Settings
    from qa.pipeline import Assistant, build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tool.md").write_text("# The tool\n\nTo check the installed version correctly, open a shell and run:\n\n"
                                    "```console\n$ tool --version\n```\n", encoding="utf-8")
    settings = Settings.from_env({}, corpus=corpus, index=tmp_path / "index", model=fake_embedder.name,
                                 min_confidence=0.0)
    build_index(settings, fake_embedder)
    reply = Assistant.load(settings, fake_embedder).ask("Which command checks the installed version?")
    assert reply.sentences[0].text.endswith("$ tool --version\n```")
    assert reply.short_answer is None


def test_a_labelled_field_is_a_short_label_a_colon_and_its_value():
    from qa.blocks import is_labelled_field

    assert is_labelled_field("Languages: Sharchopkha 28%, Dzongkha (official) 24%")
    assert is_labelled_field("Author: David Goodger <goodger@python.org>, Guido van Rossum")
    assert is_labelled_field("National symbol(s): mythical thunder dragon (druk)")
    assert not is_labelled_field("The club was founded in 1916: a statement about modern art.")
    assert not is_labelled_field("languages: lower case is prose, not a field label")
    assert not is_labelled_field("There are three major types of rock: igneous, sedimentary, and metamorphic.")
    assert not is_labelled_field("Other rivers include: Ovens River, Goulburn River.")
    assert not is_labelled_field("Languages: Dzongkha 24%", before=" ")  # inside a paragraph: a sentence


RECIPE = """# Hummus

## Directions

1. Drain and rinse the beans.
2. Boil the beans for twenty minutes.
3. Blend the garlic with lemon juice.
4. Drain the beans again.
5. Add the tahini to the food processor. Blend until creamy.
6. Serve at once.

## Play 4: Build the service in small steps

We should ship working software early. A critical capability is testing.

### 2. Warning

**Consequence**: A warning with consequences for continued behavior.
"""


def test_a_question_names_a_unit_by_its_place():
    from qa.blocks import LAST, Place, asked_place

    assert asked_place("What is the fifth step of the hummus recipe?") == Place(5, "step", True, ("hummus", "recip"))
    assert asked_place("What is Play 4 about?") == Place(4, "play", overview=True)
    assert asked_place("What happens at the 2nd level? (What is the first rule?)") == Place(2, "level")
    assert asked_place("What does the third enforcement level involve?") == Place(3, "level")
    assert asked_place("What is the consequence at level 4?") == Place(4, "level")  # something at the place
    assert asked_place("What is the last step?") == Place(LAST, "step", overview=True)
    assert asked_place("What is in step #3?") == Place(3, "step")
    # an ordinal that names no unit of a list or section, and a number that is no unit's
    for question in ("Who was the first president?", "What is the first thing to do?", "How many levels are there?",
                     "What does section 3.2 say?", "What changed in Python 3?"):
        assert asked_place(question) is None, question


def test_the_unit_at_a_place_is_a_numbered_item_or_a_numbered_section():
    from qa.blocks import IN_PLACE, OVERVIEW_IN_PLACE, Place, place_match

    doc = article(RECIPE, "hummus.md")

    def at(snippet: str, place: Place) -> float:
        return place_match(doc, RECIPE.index(snippet), place)

    assert at("Add the tahini", Place(5, "step")) == 1.0
    assert at("Drain the beans again", Place(5, "step")) == 0.0
    assert at("Blend until creamy", Place(5, "step")) == 0.0  # inside the item: only the item's start is the item
    assert at("Serve at once", Place(0, "step")) == 1.0 and at("Drain and rinse", Place(0, "step")) == 0.0
    assert at("We should ship", Place(4, "play")) == 1.0  # the section's opening says what it is about
    assert at("A critical capability", Place(4, "play")) == IN_PLACE
    assert at("A critical capability", Place(4, "play", overview=True)) == OVERVIEW_IN_PLACE < IN_PLACE
    assert at("We should ship", Place(4, "level")) == 0.0  # "Play 4" is not "level 4"
    assert at("**Consequence**", Place(2, "level")) == 1.0  # "2. Warning": a bare number names any unit
    assert at("We should ship", Place(3, "play")) == 0.0
    # asked of what the document never mentions ("the fifth step of making pizza"), or of what it does
    assert at("Add the tahini", Place(5, "step", about=("pizza",))) == 0.0
    assert at("Add the tahini", Place(5, "step", about=("hummus", "recip"))) == 1.0  # "recipe" names the kind
    assert place_match(article(RECIPE, "hummus.txt"), RECIPE.index("Add the tahini"), Place(5, "step")) == 0.0


def test_a_question_about_a_whole_subject_names_it():
    from qa.blocks import asked_subject

    assert asked_subject("What is ripgrep?") == "ripgrep"
    assert asked_subject("What is the Contributor Covenant about?") == "the Contributor Covenant"
    assert asked_subject("What does PEP 257 cover?") == "PEP 257"
    assert asked_subject("Tell me about the Arts Club of Chicago.") == "the Arts Club of Chicago"
    assert asked_subject("Who was Genghis Khan?") == "Genghis Khan"
    for question in ("How do I install ripgrep?", "When was the Toronto Star founded?", "Is fd fast?",
                     "What is in step 3?", "Describe   ", "Tell me about ?", "What is ?"):
        assert asked_subject(question) is None, question


def test_what_a_subject_is_about_is_a_summary_not_a_phrase():
    from qa.blocks import asks_summary

    for question in ("Tell me about fd.", "Describe Play 4", "Summarize the Digital Services Playbook."):
        assert asks_summary(question), question
    # a fact about it, which a phrase answers: "agile and iterative practices", "compute primes"
    for question in ("What is Play 4 about?", "What does the Sieve of Eratosthenes do?", "What is fd?",
                     "Who was Genghis Khan?", "How do I install fd?"):
        assert not asks_summary(question), question


def test_a_subject_names_a_document_by_its_title():
    from qa.blocks import names_title

    assert names_title("ripgrep", "ripgrep (README)")
    assert names_title("PEP 257", "PEP 257 – Docstring Conventions")
    assert names_title("the Contributor Covenant", "Contributor Covenant Code of Conduct (version 2.1)")
    assert names_title("the Field of Waterloo", "The Field of Waterloo")
    # a word of the title is not the title: "Rust" is not "Announcing Rust 1.0", "Contributor" not the Covenant
    assert not names_title("Rust", "Announcing Rust 1.0")
    assert not names_title("Contributor", "Contributor Covenant Code of Conduct")
    assert not names_title("the capital of Bhutan", "Bhutan (The World Factbook)")


def test_the_lead_is_the_first_paragraph_of_prose():
    from qa.blocks import lead_start

    post = "# 18F at ten\n\n*Published 2024-03-19 by Ron Bronson*\n\nIt has been a decade. We came far.\n"
    assert lead_start(article(post, "post.md")) == post.index("It has been")
    pep = "# PEP 257\n\nPEP: 257\n\nTitle: Docstring Conventions\n\n## Abstract\n\nThis PEP documents docstrings.\n"
    assert lead_start(article(pep, "pep.md")) == pep.index("This PEP")
    assert lead_start(article(RECIPE, "hummus.md")) is None  # it opens with its steps: no lead to quote
    assert lead_start(article("  Plain text opens here.", "notes.txt")) == 2


def test_a_question_asks_for_a_section_by_its_heading():
    from qa.blocks import Heading, asked_heading, heading_words

    assert asked_heading("What are the ingredients of the hummus?") == Heading(heading_words("## Ingredients"),
                                                                               ("hummus",))
    assert asked_heading("List the features of fd.") == Heading(("featur",), ("fd",))
    assert asked_heading("What are our standards?") == Heading(heading_words("Our Standards")) == Heading(("standard",))
    assert asked_heading("What is the scope of the Code of Conduct?") == Heading(("scope",), ("code", "conduct"))
    assert asked_heading("How do I install fd?") is None


SECTIONS = """# Hummus

*A recipe*

## Ingredients

- One can of chickpeas
- Half a cup of tahini

## Serving

Serve it warm. Or cold.
"""


def test_the_section_a_heading_names_and_its_whole_list():
    from qa.blocks import IN_PLACE, Heading, section_match, whole_list

    doc = article(SECTIONS, "hummus.md")
    ingredients = Heading(("ingredi",))
    first, second = SECTIONS.index("One can"), SECTIONS.index("Half a cup")
    assert section_match(doc, first, ingredients) == 1.0 and section_match(doc, second, ingredients) == IN_PLACE
    assert section_match(doc, SECTIONS.index("Serve it"), ingredients) == 0.0
    assert section_match(doc, SECTIONS.index("Serve it"), Heading(("serv",))) == 1.0
    assert section_match(doc, SECTIONS.index("Or cold"), Heading(("serv",))) == IN_PLACE
    assert section_match(doc, first, Heading(("hummus", "ingredi"))) == 1.0  # "the hummus ingredients"
    assert section_match(doc, first, Heading(("ingredi", "list"))) == 0.0
    # asked of something the document never mentions: not this section ("the ingredients of a margarita")
    assert section_match(doc, first, Heading(("ingredi",), ("chickpea",))) == 1.0
    assert section_match(doc, first, Heading(("ingredi",), ("margarita",))) == 0.0
    assert section_match(doc, first, Heading(("margarita", "ingredi"))) == 0.0
    assert section_match(doc, first, Heading(("ingredi",), ("hummus", "recip"))) == 1.0  # "recipe": the kind
    # the whole list from its first marker, verbatim; not from a later item, not past the limit
    start, end = whole_list(doc, first)
    assert SECTIONS[start:end] == "- One can of chickpeas\n- Half a cup of tahini"
    assert whole_list(doc, second) == (start, end)
    assert whole_list(doc, first, limit=25) is None  # only the first item fits: no list to widen to
    assert whole_list(doc, SECTIONS.index("Serve it")) is None
    assert whole_list(article(SECTIONS, "hummus.txt"), first) is None


def test_a_labelled_field_answers_for_its_label():
    from qa.blocks import asked_heading, field_match

    sheet = ("# Bhutan\n\nArea: total: 38,394 sq km\n\nArea - comparative: slightly larger than Maryland\n\n"
             "Capital: name: Thimphu\n\nClimate: varies. Area: inside a paragraph\n\nNatural resources: timber")
    doc = article(sheet, "bhutan.md")

    def at(snippet: str, question: str, length: int = 0) -> float:
        start = sheet.index(snippet)
        return field_match(doc, start, start + (length or len(snippet)), asked_heading(question))

    assert at("Area: total: 38,394 sq km", "What is the area of Bhutan?") == 1.0
    assert at("Area - comparative: slightly larger than Maryland", "What is the area of Bhutan?") == 0.0
    assert at("Capital: name: Thimphu", "What is the area of Bhutan?") == 0.0
    assert at("Area: inside a paragraph", "What is the area of Bhutan?") == 0.0  # not a line of its own
    assert at("Natural resources: timber", "What are Bhutan's natural resources?") == 1.0
    assert at("Area: total: 38,394 sq km", "What is the area of Canada?") == 0.0  # another country's


def test_the_steps_are_under_directions_and_a_question_may_say_what_they_are_to():
    from qa.blocks import Heading, asked_heading, section_match

    recipe = "# Hummus\n\n## Ingredients\n\n- Chickpeas\n\n## Directions\n\n1. Blend the chickpeas.\n2. Serve.\n"
    doc = article(recipe, "hummus.md")
    steps = recipe.index("1. Blend")
    assert asked_heading("Give me the steps to make hummus") == Heading(("step",), ("make", "hummus"))
    assert section_match(doc, steps, asked_heading("Give me the steps to make hummus")) == 1.0
    assert section_match(doc, steps, asked_heading("What are the instructions for the hummus?")) == 1.0
    assert section_match(doc, steps, asked_heading("What are the ingredients of the hummus?")) == 0.0


def test_a_faq_section_answers_the_question_its_heading_asks():
    from qa.blocks import IN_PLACE, faq_match

    readme = ("# tool\n\n### Why should I use tool?\n\nIt is fast.\n\nIt is small.\n\n"
              "### Why shouldn't I use tool?\n\nIt is new.\n\n### What is a widget?\n\nWidgets are parts.\n")
    doc = article(readme, "README.md")

    def at(snippet: str, question: str) -> float:
        return faq_match(doc, readme.index(snippet), question)

    assert at("It is fast.", "Why should I use tool?") == 1.0
    assert 0.0 < at("It is small.", "Why should I use tool?") < IN_PLACE  # the opening answers a FAQ
    assert at("It is new.", "Why should I use tool?") == 0.0  # the negated heading
    assert at("It is new.", "Why would I not want to use tool?") == 1.0  # one more word, negated both
    assert at("It is fast.", "How should I use tool?") == 0.0  # another question word
    assert at("Widgets are parts.", "What is a widget?") == 0.0  # "what" may be defined later in its section
    assert faq_match(article(readme, "README.txt"), readme.index("It is fast."), "Why should I use tool?") == 0.0


def test_a_query_of_a_few_words_names_what_it_asks_about():
    from qa.blocks import asked_subject

    assert asked_subject("ripgrep") == "ripgrep"
    assert asked_subject("hummus ingredients") == "hummus ingredients"
    assert asked_subject("install ripgrep") is None  # a command, not a subject
    assert asked_subject("ripgrep on windows?") is None  # a question
    assert asked_subject("how to install ripgrep") is None
    assert asked_subject("what ripgrep searches by default") is None


def test_who_wrote_and_when_was_it_created_ask_for_the_header_fields_so_labelled():
    from qa.blocks import Heading, asked_heading, field_match

    header = "# PEP 257\n\nPEP: 257\n\nAuthor: David Goodger\n\nCreated: 29-May-2001\n\nDocstrings are strings."
    doc = article(header, "pep.md")

    def at(snippet: str, question: str) -> float:
        start = header.index(snippet)
        return field_match(doc, start, start + len(snippet), asked_heading(question))

    assert asked_heading("Who wrote PEP 257?") == Heading(("author",), ("pep", "257"))
    assert asked_heading("When was PEP 257 last updated?") == Heading(("updat",), ("pep", "257"))
    assert at("Author: David Goodger", "Who wrote PEP 257?") == 1.0
    assert at("Created: 29-May-2001", "When was PEP 257 created?") == 1.0
    assert at("Created: 29-May-2001", "Who wrote PEP 257?") == 0.0
    assert at("Author: David Goodger", "Who wrote PEP 801?") == 0.0  # a document that never mentions PEP 801


LADDER = """# Code of Conduct

## Enforcement Guidelines

### 1. Correction

A private warning.

### 2. Warning

A warning with consequences.

### 3. Permanent Ban

A permanent ban.

#### Notes

Bans are final.

## Attribution

Adapted from the Contributor Covenant.
"""


def test_the_last_unit_is_the_last_numbered_section_too():
    from qa.blocks import LAST, Place, place_match

    doc = article(LADDER, "coc.md")

    def at(snippet: str, place: Place = Place(LAST, "level")) -> float:
        return place_match(doc, LADDER.index(snippet), place)

    assert at("A permanent ban") == 1.0  # "3. Permanent Ban": no numbered sibling after it
    assert at("A warning with") == 0.0 and at("A private warning") == 0.0
    assert at("Bans are final") == 0.0  # a subsection of the last: its own heading carries no number
    assert at("Adapted from") == 0.0
    assert at("A warning with", Place(2, "level")) == 1.0 and at("A permanent ban", Place(3, "stage")) == 1.0


def test_the_options_a_question_names_are_kept_as_written():
    assert asked_options("What does fd -H do?") == ("-H",)
    assert asked_options("Where must the `--no-project` flag go, and does -P/--pcre2 need it?") == (
        "--no-project", "-P", "--pcre2")
    for plain in ("What is e-mail?", "Where was the U.S.-UK staff based?", "Is it fast - really?", "Is -5 below zero?"):
        assert asked_options(plain) == (), plain


def test_a_unit_speaks_of_an_option_in_its_prose_with_the_case_as_asked():
    defined = "To show hidden files, use the `-H` (or `--hidden`) option:\n\n```\n> fd -H pre-commit\n```"
    assert option_match(defined, ("-H",)) == OPTION_NAMED
    assert option_match("Run `fd -h` for help.", ("-H",)) == 0.0  # "-h" is another option
    assert option_match("Combine both (`-HI`).", ("-H",)) == 0.0
    assert option_match("Remove them all:\n\n```\n> fd -H '^\\.DS_Store$' -X rm\n```", ("-H",)) == 0.0  # code only
    assert option_match("Use `-P/--pcre2` for look-around.", ("-P", "--pcre2")) == OPTION_NAMED
    assert option_match("Use `-P` for look-around.", ("-P", "--pcre2")) == OPTION_NAMED / 2


def test_a_title_bracket_names_the_project_its_document_belongs_to():
    assert title_project("Running scripts (uv documentation)") == "uv"
    assert title_project("Quickstart (Requests documentation)") == "Requests"
    assert title_project("Query Parameters (FastAPI tutorial)") == "FastAPI"
    for plain in ("ripgrep (README)", "Bhutan (The World Factbook)", "Installation (The Rust Programming Language)",
                  "Hummus"):
        assert title_project(plain) == "", plain


def test_what_a_document_says_about_a_topic_is_the_section_whose_heading_names_it_among_other_words():
    from qa.blocks import Heading, asked_heading, section_match

    asked = asked_heading("What does the playbook say about hosting?")
    assert asked == Heading(("host",), ("playbook",), within=True)
    playbook = article("# Playbook\n\nThirteen plays.\n\n## Play 9: Deploy in a flexible hosting environment\n\n"
                       "Deploy on flexible infrastructure. Scale on demand.\n\n## Play 10: Automate testing\n\n"
                       "Test every change.\n", "playbook.md")
    opening = playbook.text.index("Deploy on")
    assert section_match(playbook, opening, asked) == 1.0
    assert section_match(playbook, playbook.text.index("Test every"), asked) == 0.0
    # asked for by its heading, a section must be named as its heading names it: "Play 9", not its topic
    assert section_match(playbook, opening, asked_heading("What is the hosting of the playbook?")) == 0.0


def test_what_a_section_is_asked_of_is_in_the_title_or_in_the_section_itself():
    from qa.blocks import asked_heading, section_match

    covenant = article("# Code of Conduct\n\n## Enforcement\n\nReport abuse to the leaders.\n\n"
                       "## Enforcement Guidelines\n\nLeaders follow these guidelines:\n\n### 4. Permanent Ban\n\n"
                       "A pattern of violation of community standards.\n", "covenant.md")
    report = covenant.text.index("Report abuse")
    # "a pattern of violations" is spoken of under another heading: "## Enforcement" does not answer it
    assert section_match(covenant, report, asked_heading("What is the enforcement for a pattern of violations?")) == 0
    assert section_match(covenant, report, asked_heading("What is the enforcement of abuse?")) == 1.0  # its own words
    assert section_match(covenant, report, asked_heading("What is the enforcement of the code of conduct?")) == 1.0
    guidelines = asked_heading("What are the enforcement guidelines for a pattern of violations?")
    # a subsection is part of its section
    assert section_match(covenant, covenant.text.index("Leaders follow"), guidelines) == 1.0


def test_a_definition_question_and_the_sentences_that_define_its_term():
    from qa.blocks import asked_definition, defines

    assert asked_definition("What is a linker?") == "linker"
    assert asked_definition("What is the National Accuracy Clearinghouse?") == "National Accuracy Clearinghouse"
    for attribute in ("What is the capital of Bhutan?", "What is Play 3?", "What is the Covenant about?",
                      "What is it?", "When is a linker needed?"):
        assert asked_definition(attribute) is None
    assert defines("The National Accuracy Clearinghouse (NAC) is a data matching system.", "National Accuracy "
                   "Clearinghouse")
    assert defines("You will also need a _linker_, which is a program that joins outputs.", "linker")
    assert defines("ripgrep, a line-oriented search tool, is fast.", "ripgrep")
    assert defines("Query parameters are the key-value pairs after the ?.", "query parameter")
    assert not defines("The National Accuracy Clearinghouse was established by the 2018 Farm Bill.",
                       "National Accuracy Clearinghouse")
    assert not defines("Install a C compiler, which will typically include a linker.", "linker")
    assert not defines("fripgrep is a fork.", "ripgrep")  # the term as a whole word
    # a gloss in brackets defines; an abbreviation in brackets does not
    assert defines("Geologists use stratigraphy (the study of sedimentary layers) and maps.", "stratigraphy")
    assert not defines("The Treaty (the TEU) was signed in 1992.", "treaty")


def test_a_follow_up_asking_for_the_next_unit_and_the_place_of_a_unit():
    from qa.blocks import asked_next, ordinal, place_at

    assert asked_next("and what's the step after that?") == (1, "step")
    assert asked_next("What's next?") == (1, None) and asked_next("And the next tip?") == (1, "tip")
    assert asked_next("What comes before that?") == (-1, None)
    for other in ("What is the next version of Rust?", "What happened after that in the war?",
                  "What is the next release date?"):
        assert asked_next(other) is None  # asks about something else than a place
    assert [ordinal(n) for n in (1, 6, 12, 13, 22)] == ["first", "sixth", "twelfth", "13th", "22nd"]
    recipe = article("# Bread\n\n## Steps\n\n1. Mix.\n2. Add sea salt.\n\n### Tip 4: Rest the dough\n\nCover it.\n",
                     "bread.md")
    assert place_at(recipe, recipe.text.index("Add sea")) == (2, None)
    assert place_at(recipe, recipe.text.index("Cover it")) == (4, "tip")
    assert place_at(recipe, recipe.text.index("# Bread")) is None


def test_a_lead_in_is_a_sentence_ending_in_a_colon_before_its_code_block_or_list():
    assert leads_in("From your shell, run the following\nupdate script:\n\n```console\n$ rustup update\n```")
    assert leads_in("Notes:\n\n- Triple quotes are used.\n- No blank line.")
    assert not leads_in("Updating is easy.")  # no layout
    assert not leads_in("```console\n$ rustup update\n```")  # the block alone
    assert not leads_in("Run this.\n\n```console\n$ rustup update\n```")  # no colon announces it


def test_a_question_taking_a_fields_first_word_for_another_thing_names_another_field():
    from qa.blocks import names_another_field

    symbols = "National symbol(s): mythical thunder dragon (druk); national colors: orange, yellow"
    assert names_another_field("What is Bhutan's national dish?", "National symbol(s)", symbols)
    assert names_another_field("What is Bhutan's national sport?", "National symbol(s)", symbols)
    assert not names_another_field("What is Bhutan's national symbol?", "National symbol(s)", symbols)
    assert not names_another_field("What are Bhutan's national colours?", "National symbol(s)", symbols + "; colours")
    assert not names_another_field("What is the life expectancy?", "Life expectancy at birth",
                                   "Life expectancy at birth: 73 years")
    assert not names_another_field("What is the climate like?", "Climate", "Climate: varies")  # one word: no qualifier
    # the label's last word qualified otherwise: the inflation rate is not the GDP growth rate
    growth = "Real GDP growth rate: 2023: 4.9% (2023 est.)"
    assert names_another_field("What was Bhutan's inflation rate in 2023?", "Real GDP growth rate", growth)
    assert not names_another_field("What is Bhutan's GDP growth rate?", "Real GDP growth rate", growth)
    assert not names_another_field("What is the Bhutan rate?", "Real GDP growth rate", growth)  # a name qualifies none
    assert not names_another_field("who wrote bhutan's anthem?", "National anthem", "National anthem(s): lyrics")
    # a question naming what the field lists asks about it
    partners = "Exports - partners: India 92%, Italy 4% (2023)"
    assert not names_another_field("How much of Bhutan's export trade goes to India?", "Exports - partners", partners)
    assert names_another_field("How much of Bhutan's export trade goes to Nepal?", "Exports - partners", partners)
    # a follow-up's context after the asker's words qualifies nothing
    assert not names_another_field("and when was it posted? (PEP)", "Post-History", "Post-History: 13-Jun-2001")
