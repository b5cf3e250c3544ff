"""The reader's training command, run for a few steps on a tiny SQuAD-format fixture with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.reader_training import encode, examples, main

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


@pytest.mark.model
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
                 "--steps", "5", "--batch-size", "2", "--max-tokens", "64"]) == 0
    assert json.loads((again / "training.json").read_text())["step"] == 5
