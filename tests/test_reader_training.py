"""The reader's training command, run for a few steps on a tiny SQuAD-format fixture with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.reader_training import (cut_answer, distractors, encode, examples, main, near_miss, reword, shared_norm_loss,
                                swap_entity, swap_kind, with_distractors)

FIXTURE = {"version": "1.1", "data": [
    {"title": "Bridge", "paragraphs": [
        {"context": "The Golden Gate Bridge opened in 1937. It was designed by Joseph Strauss.", "qas": [
            {"question": "When did the Golden Gate Bridge open?", "id": "a1",
             "answers": [{"text": "1937", "answer_start": 33}]},
            {"question": "Who designed the bridge?", "id": "a2",
             "answers": [{"text": "Joseph Strauss", "answer_start": 58}]}]},
        {"context": "Its main span is 1,280 metres long. It is painted International Orange.", "qas": [
            {"question": "What colour is the bridge painted?", "id": "a3",
             "answers": [{"text": "International Orange", "answer_start": 50}]}]}]},
    {"title": "Coffee", "paragraphs": [
        {"context": "Coffee was first cultivated in Yemen in the 15th century. Brazil is the largest producer.",
         "qas": [{"question": "Where was coffee first cultivated?", "id": "b1",
                  "answers": [{"text": "Yemen", "answer_start": 31}]}]}]},
]}


@pytest.fixture
def tiny_squad(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(FIXTURE), encoding="utf-8")
    return path


def test_examples_pair_questions_with_paragraphs_that_do_not_answer_them(tiny_squad):
    drawn = examples(tiny_squad, seed=1, negatives=1.0)
    positives = [e for e in drawn if e["start"] >= 0]
    negatives = [e for e in drawn if e["start"] < 0]
    assert len(positives) == 4 and negatives
    for e in positives:
        assert e["context"][e["start"]:e["start"] + len(e["text"])] == e["text"]
    assert all(e["text"] == "" for e in negatives)
    assert examples(tiny_squad, seed=1, negatives=1.0) == drawn  # fixed seed, fixed order


def test_a_swapped_name_or_number_makes_an_on_topic_question_the_paragraph_does_not_answer():
    import random

    context = "The Golden Gate Bridge opened in 1937. It was designed by Joseph Strauss."
    elsewhere = ["Its main span is painted International Orange.", "Strauss admired Leon Moisseiff's work."]
    for seed in range(20):
        question = "When did the Golden Gate Bridge open in San Francisco?"
        swapped = swap_entity(question, context, elsewhere, random.Random(seed))
        changed = [(a, b) for a, b in zip(question.split(), swapped.split()) if a != b]
        assert len(swapped.split()) == len(question.split()) and len(changed) == 1, swapped
        (old, new), = changed
        assert old in ("Golden", "Gate", "Bridge") and new in ("International", "Orange", "Moisseiff's", "Leon")
    year = swap_entity("Which bridge opened in 1937?", context, elsewhere, random.Random(0))
    assert year.startswith("Which bridge opened in ") and "1937" not in year
    assert int(year.rstrip("?").split()[-1]) in range(1926, 1945)
    # nothing shared with the paragraph, or only the first word: no example
    assert swap_entity("What colour is it?", context, elsewhere, random.Random(0)) is None
    assert swap_entity("Strauss designed what?", context, elsewhere, random.Random(0)) is None
    # another form of the same name would still be answerable: never offered
    assert swap_entity("Who opened the Bridge?", context, ["Many Bridges came later."], random.Random(0)) is None


def test_adversarial_examples_are_extra_no_answer_examples_and_off_by_default(tiny_squad):
    plain = examples(tiny_squad, seed=1, negatives=0.0)
    assert all(e["start"] >= 0 for e in plain) and examples(tiny_squad, seed=1, negatives=0.0, adversarial=0.0) == plain
    drawn = examples(tiny_squad, seed=1, negatives=0.0, adversarial=1.0)
    extra = [e for e in drawn if e["start"] < 0]
    assert extra and len(drawn) == len(plain) + len(extra)
    questions = {e["question"] for e in plain}
    assert all(e["question"] not in questions and e["context"] in {p["context"] for a in FIXTURE["data"]
                                                                    for p in a["paragraphs"]} for e in extra)


def test_a_near_miss_swaps_a_word_for_its_opposite_or_negates_the_verb():
    import random

    context = "The Golden Gate Bridge opened in 1937. It was the longest suspension bridge of its time."
    assert near_miss("What was the first bridge to open?", context, random.Random(0)) \
        == "What was the last bridge to open?"
    assert near_miss("Which Largest bridge opened?", context, random.Random(0)) == "Which Smallest bridge opened?"
    # the opposite the paragraph itself uses could still be answered: "shortest" is fine, "longest" is not
    assert {near_miss("What was the shortest bridge?", context, random.Random(seed)) for seed in range(30)} \
        == {None, "What was not the shortest bridge?"}
    # no opposite: the first verb is negated one time in three, never twice
    negated = {near_miss("When did the bridge open?", context, random.Random(seed)) for seed in range(30)}
    assert negated == {None, "When didn't the bridge open?"}
    assert {near_miss("Who is the designer?", context, random.Random(seed)) for seed in range(30)} \
        == {None, "Who is not the designer?"}
    assert all(near_miss("Why didn't it open?", context, random.Random(seed)) is None for seed in range(30))
    assert near_miss("How many metres long?", context, random.Random(0)) is None


def test_near_miss_examples_are_extra_no_answer_examples_and_off_by_default(tiny_squad):
    plain = examples(tiny_squad, seed=1, negatives=0.0)
    assert examples(tiny_squad, seed=1, negatives=0.0, near=0.0) == plain
    drawn = examples(tiny_squad, seed=2, negatives=0.0, near=1.0)
    extra = [e for e in drawn if e["start"] < 0]
    originals = {e["question"]: e["context"] for e in plain}
    assert extra and len(drawn) == len(plain) + len(extra)
    # asked of the paragraph the original question was asked of
    assert all(e["question"] not in originals and e["context"] in originals.values() for e in extra)
    assert "Where was coffee last cultivated?" in {e["question"] for e in extra}


def test_a_kind_swap_asks_the_paragraph_for_a_kind_of_thing_it_never_mentions():
    import random

    context = "Nelle Nemo, a marine biologist, has just returned from a survey of the North Pacific Gyre."
    swapped = {swap_kind("Which university does Nelle Nemo work for?", context, random.Random(seed))
               for seed in range(40)}
    assert all(q.startswith("Which ") and q.endswith(" does Nelle Nemo work for?") for q in swapped)
    assert len(swapped) > 5 and "Which university does Nelle Nemo work for?" not in swapped
    # another kind, in the same number, never a word of the paragraph
    counted = {swap_kind("How many people live in Warsaw?", "Warsaw has 1.7 million people and a port.",
                         random.Random(seed)) for seed in range(40)}
    nouns = {q.split()[2] for q in counted}
    assert all(noun.endswith("s") for noun in nouns) and not nouns & {"people", "men", "women", "ports", "port"}
    assert {swap_kind("Which famous city hosted it?", "x", random.Random(seed)).split()[2]
            for seed in range(20)}.isdisjoint({"city", "town", "village", "country"})
    # no noun that names a kind: nothing to swap
    assert swap_kind("What is the capital of Chile?", context, random.Random(0)) is None
    assert swap_kind("Who designed the bridge?", context, random.Random(0)) is None


def test_kind_swap_examples_are_extra_no_answer_examples_and_off_by_default(tmp_path):
    fixture = json.loads(json.dumps(FIXTURE))
    fixture["data"][0]["paragraphs"][0]["qas"].append(
        {"question": "Which engineer designed the bridge?", "id": "a4", "answers": [{"text": "Joseph Strauss",
                                                                                  "answer_start": 58}]})
    path = tmp_path / "kinds.json"
    path.write_text(json.dumps(fixture), encoding="utf-8")
    plain = examples(path, seed=1, negatives=0.0)
    assert examples(path, seed=1, negatives=0.0, kinds=0.0) == plain
    drawn = examples(path, seed=2, negatives=0.0, kinds=1.0)
    extra = [e for e in drawn if e["start"] < 0]
    assert len(extra) == 1 and len(drawn) == len(plain) + 1  # the only question that names a kind of thing
    question = extra[0]["question"]
    assert question.startswith("Which ") and question.endswith(" designed the bridge?")
    assert question != "Which engineer designed the bridge?" and extra[0]["context"].startswith("The Golden Gate")


def test_hard_negatives_are_the_sibling_paragraph_worded_most_like_the_question_and_off_by_default(tmp_path):
    fixture = json.loads(json.dumps(FIXTURE))
    fixture["data"][0]["paragraphs"].append(  # worded like "When did the Golden Gate Bridge open?", no 1937
        {"context": "The Golden Gate Bridge did open a new era of bridge building, critics said.", "qas": []})
    path = tmp_path / "hard.json"
    path.write_text(json.dumps(fixture), encoding="utf-8")
    assert examples(path, seed=3, negatives=1.0, hard=0.0) == examples(path, seed=3, negatives=1.0)
    drawn = examples(path, seed=3, negatives=1.0, hard=1.0)
    negative = {e["question"]: e["context"] for e in drawn if e["start"] < 0}
    assert negative["When did the Golden Gate Bridge open?"].startswith("The Golden Gate Bridge did open")
    assert negative["What colour is the bridge painted?"].startswith("The Golden Gate Bridge")  # a tie: the first


def test_word_neighbours_are_near_synonyms_not_other_forms_or_opposites():
    from qa.reader_training import WordNeighbours, base_model_folder

    neighbours = WordNeighbours(base_model_folder())
    assert "renowned" in neighbours("famous") and "motto" in neighbours("slogan")
    assert not any(n.startswith("famo") or n.endswith("famous") for n in neighbours("famous"))
    # words whose neighbours are their opposites stay, and opposites are never offered
    assert neighbours("lowest") == [] and neighbours("mandatory") == []
    assert "rarely" not in neighbours("frequently") and "highest" not in neighbours("tallest")
    assert neighbours("notaword") == []


def test_rewording_swaps_shared_words_for_synonyms_the_paragraph_does_not_use():
    import random

    context = "The Golden Gate Bridge opened in 1937. It was designed by Joseph Strauss."
    synonyms = {"designed": ["engineered", "opened"], "bridge": ["viaduct"], "golden": ["gilded"]}.get
    reworded = {reword("Who designed the bridge?", context, lambda w: synonyms(w, []), random.Random(seed))
                for seed in range(40)}
    # "opened" is the paragraph's own word: offering it would keep the match the rewording removes
    assert reworded == {"Who engineered the bridge?", "Who designed the viaduct?", "Who engineered the viaduct?"}
    # names (capitalised), numbers and the paragraph's missing words stay; nothing to swap: None
    assert reword("Who opened the Golden Gate in 1937?", context, lambda w: synonyms(w, []), random.Random(0)) is None
    assert reword("Who painted the fence?", context, lambda w: synonyms(w, []), random.Random(0)) is None


def test_reworded_examples_are_extra_answerable_examples_and_off_by_default(tiny_squad):
    synonyms = {"designed": ["engineered"], "painted": ["coloured"], "cultivated": ["farmed"]}
    plain = examples(tiny_squad, seed=1, negatives=0.0)
    assert examples(tiny_squad, seed=1, negatives=0.0, reworded=0.0) == plain
    drawn = examples(tiny_squad, seed=1, negatives=0.0, reworded=1.0, neighbours=lambda w: synonyms.get(w, []))
    originals = {(e["context"], e["start"], e["text"]) for e in plain}
    extra = [e for e in drawn if e["question"] not in {o["question"] for o in plain}]
    assert len(drawn) == len(plain) + len(extra)
    assert {e["question"] for e in extra} == {"Who engineered the bridge?", "What colour is the bridge coloured?",
                                             "Where was coffee first farmed?"}
    # the same paragraph and the same answer span: still answerable
    assert all((e["context"], e["start"], e["text"]) in originals and e["start"] >= 0 for e in extra)


def test_cutting_the_answer_sentence_leaves_the_topic_without_the_fact():
    from qa.chunk import SentenceSplitter

    splitter = SentenceSplitter()
    context = "The Golden Gate Bridge opened in 1937. It was designed by Joseph Strauss. Its span is 1,280 metres."
    who = {"text": "Joseph Strauss", "answer_start": context.index("Joseph")}
    assert cut_answer(context, who, splitter) == "The Golden Gate Bridge opened in 1937. Its span is 1,280 metres."
    when = {"text": "1937", "answer_start": context.index("1937")}
    assert cut_answer(context, when, splitter) == "It was designed by Joseph Strauss. Its span is 1,280 metres."
    # an answer across two sentences takes both out
    across = {"text": "1937. It was", "answer_start": context.index("1937")}
    assert cut_answer(context, across, splitter) == "Its span is 1,280 metres."
    # nothing left, or the answer still said elsewhere: no example
    assert cut_answer("It opened in 1937.", {"text": "1937", "answer_start": 13}, splitter) is None
    assert cut_answer("It opened in 1937. Strauss died in 1938, a year after 1937.", when | {"answer_start": 13},
                      splitter) is None


def test_cut_answer_examples_are_extra_no_answer_examples_and_off_by_default(tiny_squad):
    plain = examples(tiny_squad, seed=1, negatives=0.0)
    assert examples(tiny_squad, seed=1, negatives=0.0, cut=0.0) == plain
    drawn = examples(tiny_squad, seed=1, negatives=0.0, cut=1.0)
    extra = [e for e in drawn if e["start"] < 0]
    answers = {e["question"]: e for e in plain}
    # every paragraph has two sentences: each question gives one
    assert len(extra) == 4 and len(drawn) == len(plain) + len(extra)
    for e in extra:
        source = answers[e["question"]]
        assert e["context"] in source["context"] and source["text"] not in e["context"] and e["text"] == ""


@pytest.mark.model
def test_distractors_are_the_articles_paragraphs_closest_to_the_question_without_the_answer():
    siblings = ["The bridge has six lanes.", "Strauss designed the Golden Gate Bridge in 1937.",
                "The Golden Gate Bridge was painted orange.", "Fog is common in the bay."]
    question = "When was the Golden Gate Bridge painted orange?"
    assert distractors(question, "1937", siblings) == ["The Golden Gate Bridge was painted orange.",
                                                       "The bridge has six lanes."]
    assert distractors(question, "orange", siblings, count=1) == ["Strauss designed the Golden Gate Bridge in 1937."]


def test_shared_examples_carry_their_distractors_and_are_off_by_default(tiny_squad):
    plain = examples(tiny_squad, seed=1, negatives=0.0)
    assert examples(tiny_squad, seed=1, negatives=0.0, shared=0.0) == plain
    assert not any("distractors" in e for e in plain)
    drawn = examples(tiny_squad, seed=1, negatives=0.0, shared=1.0)
    def key(e):
        return e["question"], e["context"]

    same = sorted(({k: v for k, v in e.items() if k != "distractors"} for e in drawn), key=key)
    assert same == sorted(plain, key=key)  # the same examples (in another order: the draw took more numbers)
    by_question = {e["question"]: e["distractors"] for e in drawn}
    other = FIXTURE["data"][0]["paragraphs"][1]["context"]
    assert by_question["When did the Golden Gate Bridge open?"] == [other]  # the article's other paragraph
    assert by_question["Where was coffee first cultivated?"] == []  # an article of one paragraph
    rows, groups = with_distractors(drawn)
    assert len(rows) == len(drawn) + sum(len(e["distractors"]) for e in drawn)
    for group in groups:
        gold, *others = group
        assert rows[gold]["start"] >= 0 and all(rows[i]["start"] < 0 for i in others)
        assert [rows[i]["context"] for i in others] == rows[gold]["distractors"]


def test_shared_normalisation_scores_the_answer_against_the_other_paragraphs_spans():
    import torch

    starts, ends = torch.tensor([2, 0]), torch.tensor([3, 0])

    def logits(at: int, distractor_at: int | None = None, cls: float = -5.0):
        rows = torch.full((2, 5), -5.0)
        rows[0, at] = 8.0
        if distractor_at is not None:
            rows[1, distractor_at] = 12.0  # the distractor paragraph holds a stronger span
        rows[:, 0] = cls
        return rows

    low = shared_norm_loss(logits(2), logits(3), starts, ends, [[0, 1]])
    high = shared_norm_loss(logits(2, 1), logits(3, 2), starts, ends, [[0, 1]])
    assert float(low) < 0.01 < 1.0 < float(high)
    # "no answer" ([CLS]) scores never compete here: only spans are compared
    assert torch.isclose(shared_norm_loss(logits(2, cls=50.0), logits(3, cls=50.0), starts, ends, [[0, 1]]), low)
    # per row, the distractor's own softmax would not see the answer: the loss reads both rows together
    assert shared_norm_loss(logits(2), logits(3), torch.tensor([0, 0]), ends, [[0, 1]]) is None  # answer cut off


def test_answer_spans_map_to_the_tokens_that_hold_them_and_no_answer_to_cls(tiny_squad):
    from transformers import AutoTokenizer

    from qa.reader_training import base_model_folder

    tokenizer = AutoTokenizer.from_pretrained(str(base_model_folder()))
    batch = [e for e in examples(tiny_squad, seed=1, negatives=1.0)]
    enc, starts, ends, offsets = encode(tokenizer, batch, 64)
    for row, example in enumerate(batch):
        if example["start"] < 0:
            assert starts[row] == ends[row] == 0
            continue
        lo, hi = int(offsets[row][starts[row]][0]), int(offsets[row][ends[row]][1])
        assert example["context"][lo:hi] == example["text"]


@pytest.mark.model
def test_a_short_training_run_writes_weights_a_record_and_a_model_card(tiny_squad, tmp_path):
    out = tmp_path / "reader"
    assert main(["--out", str(out), "--data", str(tiny_squad), "--eval-data", str(tiny_squad), "--eval", "3",
                 "--steps", "3", "--batch-size", "2", "--max-tokens", "64", "--negatives", "1.0",
                 "--save-every", "2"]) == 0
    record = json.loads((out / "training.json").read_text())
    assert record["step"] == 3 and record["seed"] == 13 and record["eval_gold_paragraph"]["questions"] == 3
    assert 0.0 <= record["eval_gold_paragraph"]["f1"] <= 1.0
    for name in ("model.safetensors", "reader_head.safetensors", "tokenizer.json", "MODEL_CARD.md"):
        assert (out / name).is_file(), name
    card = (out / "MODEL_CARD.md").read_text()
    assert "CC BY-SA 4.0" in card and "Apache-2.0" in card and "python -m qa.reader_training" in card
    # Resuming continues at the saved step.
    again = tmp_path / "again"
    assert main(["--out", str(again), "--resume", str(out), "--data", str(tiny_squad), "--eval", "0",
                 "--steps", "6", "--until-step", "5", "--batch-size", "2", "--max-tokens", "64",
                 "--adversarial", "1.0", "--cut-answer", "1.0"]) == 0
    record = json.loads((again / "training.json").read_text())
    assert record["step"] == 5 and record["total_steps"] == 6
    # other settings from step 3 on: a second phase, and the card's commands reproduce both
    assert [(p["from_step"], p["to_step"], p["adversarial"], p.get("cut_answer", 0.0)) for p in record["phases"]] \
        == [(0, 3, 0.0, 0.0), (3, 5, 1.0, 1.0)]
    card = (again / "MODEL_CARD.md").read_text()
    assert "--until-step 3`; then `python -m qa.reader_training --out qa/models/reader --resume qa/models/reader " \
           "--adversarial 1.0 --cut-answer 1.0 --until-step 5`" in card
    assert "the sentence holding the answer cut out" in card



@pytest.mark.model
def test_a_further_pass_has_a_schedule_of_its_own_and_the_card_says_so(tiny_squad, tmp_path):
    common = ["--data", str(tiny_squad), "--eval-data", str(tiny_squad), "--batch-size", "2", "--max-tokens", "64",
              "--negatives", "0.0", "--eval", "0"]
    first = tmp_path / "first"
    assert main(["--out", str(first), "--steps", "2", *common]) == 0
    # the first schedule has run out: resuming it would not move the weights; a pass of its own does
    again = tmp_path / "again"
    assert main(["--out", str(again), "--resume", str(first), "--phase-steps", "3", "--lr", "5e-05", "--seed", "5",
                 "--near-miss", "1.0", "--reword", "1.0", "--shared-norm", "1.0", "--swap-kind", "1.0",
                 "--hard-negatives", "0.5", *common]) == 0
    record = json.loads((again / "training.json").read_text())
    assert (record["step"], record["total_steps"], record["lr"], record["seed"]) == (5, 5, 1e-4, 13)
    phase = record["phases"][-1]
    assert (phase["from_step"], phase["to_step"], phase["phase_steps"], phase["seed"], phase["near_miss"]) \
        == (2, 5, 3, 5, 1.0)
    assert (again / "model.safetensors").read_bytes() != (first / "model.safetensors").read_bytes()
    card = (again / "MODEL_CARD.md").read_text()
    assert ("--resume qa/models/reader --near-miss 1.0 --reword 1.0 --shared-norm 1.0 --swap-kind 1.0"
            " --hard-negatives 0.5 --phase-steps 3 --lr 5e-05 --seed 5`") in card
    assert "shares the most words with the question" in card and phase["hard_negatives"] == 0.5
    assert "says nothing of that kind" in card and phase["swap_kind"] == 1.0
    assert "Steps 2–5 are a further pass with a schedule of its own" in card and "its verb negated" in card
    assert "near-synonyms the paragraph does not use" in card and phase["reword"] == 1.0
    assert "shared normalisation" in card and phase["shared_norm"] == 1.0


V2_FIXTURE = {"version": "v2.0", "data": [
    {"title": "Tea", "paragraphs": [
        {"context": "Tea was first drunk in China. India is the largest exporter of black tea.",
         "qas": [{"question": "Where was tea first drunk?", "id": "c1", "is_impossible": False,
                  "answers": [{"text": "China", "answer_start": 23}]},
                 {"question": "Where was tea first grown in Europe?", "id": "c2", "is_impossible": True,
                  "answers": []}]}]},
]}


def test_tuning_examples_are_a_v2_files_questions_and_never_a_dev_sets(tiny_squad, tmp_path):
    from qa.reader_training import TrainingDataError, tuning_examples, tuning_phase

    v2 = tmp_path / "v2.json"
    v2.write_text(json.dumps(V2_FIXTURE), encoding="utf-8")
    tea = tuning_examples(v2, dev=tiny_squad)
    assert [(e["question"], e["start"]) for e in tea] == [("Where was tea first drunk?", 23),
                                                          ("Where was tea first grown in Europe?", -1)]
    assert tea[0]["context"][23:28] == "China" and tea[1]["text"] == ""
    # a file sharing an article with the dev set (here the dev fixture itself) is refused
    with pytest.raises(TrainingDataError, match="shares 2 article"):
        tuning_examples(tiny_squad, dev=tiny_squad)
    # the phase: every tuning example and as many training examples from the given position on
    training = examples(tiny_squad, seed=1, negatives=0.0)
    mixed = tuning_phase(training, 1, tea, seed=3)
    assert len(mixed) == 4 and all(e in mixed for e in tea)
    replayed = [e for e in mixed if e not in tea]
    assert sorted(replayed, key=json.dumps) == sorted(training[1:3], key=json.dumps)
    assert tuning_phase(training, 1, tea, seed=3) == mixed


@pytest.mark.model
def test_a_tuning_phase_reads_its_mix_once_and_the_card_says_so(tiny_squad, tmp_path):
    v2 = tmp_path / "v2.json"
    v2.write_text(json.dumps(V2_FIXTURE), encoding="utf-8")
    out = tmp_path / "reader"
    common = ["--data", str(tiny_squad), "--eval-data", str(tiny_squad), "--batch-size", "2", "--max-tokens", "64",
              "--negatives", "0.0", "--steps", "50"]
    assert main(["--out", str(out), "--eval", "0", "--until-step", "2", *common]) == 0
    tuned = tmp_path / "tuned"
    assert main(["--out", str(tuned), "--resume", str(out), "--eval", "2", "--tune-data", str(v2), "--lr", "5e-05",
                 *common]) == 0
    record = json.loads((tuned / "training.json").read_text())
    # 2 tuning questions + 2 training examples, batch 2: two steps, then it stops (not at step 50)
    assert record["step"] == 4
    phase = record["phases"][-1]
    assert (phase["from_step"], phase["to_step"], phase["tune_data"]) == (2, 4, "v2.json")
    card = (tuned / "MODEL_CARD.md").read_text()
    assert "--resume qa/models/reader --tune-data v2.json --lr 5e-05 --until-step 4`" in card
    assert "SQuAD 2.0-format training file `v2.json`" in card
    # the dev set as tuning data: a clear refusal, nothing written
    refused = tmp_path / "refused"
    assert main(["--out", str(refused), "--resume", str(out), "--eval", "0", "--tune-data", str(tiny_squad),
                 *common]) == 2
    assert not refused.exists()
