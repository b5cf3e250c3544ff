import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa.cli import main
from qa.config import Settings
from qa.embed import FakeEmbedder
from qa.evaluate import (
    DatasetError,
    EvalError,
    contains_answer,
    exact_match,
    f1_score,
    format_table,
    load_squad,
    normalize_answer,
    parse_article_range,
    render_html,
    run_eval,
    score_predictions,
    write_html,
    write_json,
)

SQUAD = Path(__file__).resolve().parents[2] / "shared" / "bench" / "data" / "squad"
needs_squad = pytest.mark.skipif(not (SQUAD / "dev-v1.1.json").exists(),
                                 reason=f"SQuAD benchmark data not found at {SQUAD} (../shared beside the repo)")

TINY = {
    "version": "v2.0",
    "data": [
        {
            "title": "Iceland_Volcanoes",
            "paragraphs": [
                {
                    "context": "Iceland has about 130 volcanic mountains. Hekla is one of the most active "
                    "volcanoes in the country. Hekla erupted more than 20 times since 874.",
                    "qas": [
                        {"id": "q1", "question": "How many volcanic mountains does Iceland have?",
                         "answers": [{"text": "about 130", "answer_start": 12}], "is_impossible": False},
                        {"id": "q2", "question": "<script>alert('x')</script> Which volcano is most active?",
                         "answers": [{"text": "Hekla", "answer_start": 43}], "is_impossible": False},
                    ],
                },
                {
                    "context": "Eyjafjallajokull erupted in 2010 and disrupted air travel across Europe for six "
                    "days. Scientists at the University of Iceland monitor seismic activity.",
                    "qas": [
                        {"id": "q3", "question": "For how many days did Eyjafjallajokull disrupt air travel?",
                         "answers": [{"text": "six days", "answer_start": 75}], "is_impossible": False},
                        {"id": "q4", "question": "What is the population of the Moon colony on Mars?",
                         "answers": [], "is_impossible": True},
                    ],
                },
            ],
        },
        {
            "title": "Coffee",
            "paragraphs": [
                {
                    "context": "Coffee was first cultivated in Yemen in the 15th century. Brazil is the largest "
                    "coffee producer in the world. Vietnam is the second largest producer.",
                    "qas": [
                        {"id": "q5", "question": "Which country is the largest coffee producer in the world?",
                         "answers": [{"text": "Brazil", "answer_start": 58}], "is_impossible": False},
                        {"id": "q6", "question": "Where was coffee first cultivated?",
                         "answers": [{"text": "Yemen", "answer_start": 31}, {"text": "in Yemen", "answer_start": 28}],
                         "is_impossible": False},
                    ],
                }
            ],
        },
    ],
}


@pytest.fixture
def tiny_squad(tmp_path: Path) -> Path:
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps(TINY), encoding="utf-8")
    return path


@pytest.fixture
def fake_settings() -> Settings:
    return Settings.from_env({}, model="fake-hash-embedder", min_confidence=0.3)


# --- the scorer -----------------------------------------------------------------------------------------------

def test_normalize_answer_follows_the_official_rules():
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("An apple, a pear") == "apple pear"
    assert normalize_answer("theory") == "theory"  # articles only as whole words
    assert normalize_answer("  U.S.\tArmy ") == "us army"
    assert normalize_answer("the") == ""


def test_exact_match_and_f1():
    assert exact_match("the Broncos", "Broncos.") == 1.0
    assert exact_match("Denver Broncos", "Broncos") == 0.0
    assert f1_score("Denver Broncos", "Broncos") == pytest.approx(2 / 3)
    assert f1_score("Carolina Panthers", "Denver Broncos") == 0.0
    assert f1_score("", "") == 1.0 and f1_score("", "Broncos") == 0.0 and f1_score("x", "") == 0.0
    assert f1_score("x y y", "y y z") == pytest.approx(2 / 3)  # counts repeated tokens once per occurrence


def test_score_predictions_takes_the_best_gold_and_counts_missing_as_wrong(tiny_squad):
    scores = score_predictions(tiny_squad, {"q1": "130", "q2": "Hekla", "q3": "six days", "q4": "",
                                            "q5": "Brazil", "q6": "in Yemen."})
    assert scores["total"] == 6 and scores["missing"] == 0
    assert scores["exact"] == pytest.approx(100 * 5 / 6)
    assert scores["NoAns_exact"] == 100.0 and scores["HasAns_total"] == 5 and scores["NoAns_total"] == 1
    wrong = score_predictions(tiny_squad, {"q4": "Mars"})
    assert wrong["exact"] == 0.0 and wrong["missing"] == 5


@needs_squad
def test_scorer_reproduces_the_official_v11_figures():
    predictions = json.loads((SQUAD / "predictions" / "v1.1-dev.BERT-ensemble-Google-AI-Language.json").read_text())
    scores = score_predictions(SQUAD / "dev-v1.1.json", predictions)
    assert scores["total"] == 10570 and scores["missing"] == 0
    assert round(scores["exact"], 3) == 86.206
    assert round(scores["f1"], 3) == 92.196


@needs_squad
def test_scorer_reproduces_the_official_v20_figures():
    predictions = json.loads(
        (SQUAD / "predictions" / "v2.0-dev.BERT-single-model-Google-AI-Language.json").read_text())
    scores = score_predictions(SQUAD / "dev-v2.0.reconstructed.json", predictions)
    assert scores["total"] == 11873 and scores["missing"] == 0
    assert (round(scores["exact"], 3), round(scores["f1"], 3)) == (78.742, 81.775)
    assert (round(scores["HasAns_exact"], 3), round(scores["HasAns_f1"], 3)) == (74.106, 80.182)
    assert round(scores["NoAns_exact"], 3) == 83.364


# --- the dataset ----------------------------------------------------------------------------------------------

def test_loading_errors_are_one_clear_line(tmp_path):
    with pytest.raises(DatasetError, match="no such dataset file"):
        load_squad(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DatasetError, match="not valid JSON"):
        load_squad(bad)
    bad.write_text('{"data": [{"title": "x"}]}')
    with pytest.raises(DatasetError, match="not SQuAD JSON"):
        load_squad(bad)


def test_article_ranges():
    assert parse_article_range("1-24") == (1, 24)
    assert parse_article_range("7") == (7, 7)
    assert parse_article_range((25, 48)) == (25, 48)
    for bad in ("0-3", "5-2", "x"):
        with pytest.raises(EvalError):
            parse_article_range(bad)


def test_contains_answer_works_on_normalised_words():
    assert contains_answer("The U.S. Army, founded in 1775.", ["u.s. army"])
    assert not contains_answer("In 1950 it rained.", ["195"])
    assert not contains_answer("anything", ["the"])  # a gold answer that normalises to nothing never matches


# --- the evaluation run ---------------------------------------------------------------------------------------

def test_run_eval_on_a_tiny_dataset(tiny_squad, fake_settings, tmp_path):
    embedder = FakeEmbedder()
    results = run_eval(tiny_squad, embedder=embedder, settings=fake_settings, workdir=tmp_path / "work")
    counts, metrics, config = results["counts"], results["metrics"], results["config"]
    assert counts == {"articles": 2, "passages": counts["passages"], "sentences": counts["sentences"],
                      "questions": 6, "answerable": 5, "unanswerable": 1, "questions_in_selection": 6}
    assert counts["passages"] >= 2
    assert config["squad_v2"] and config["model"] == "fake-hash-embedder" and config["articles"] == "1-2"

    corpus = [json.loads(line) for line in (tmp_path / "work" / "corpus" / "squad.jsonl").read_text().splitlines()]
    assert [a["title"] for a in corpus] == ["Iceland Volcanoes", "Coffee"]
    assert corpus[0]["text"] == "\n\n".join(p["context"] for p in TINY["data"][0]["paragraphs"])

    # Two articles and at most a handful of passages: every answer is within the top 10.
    assert metrics["recall@10"] == 1.0 and metrics["mrr@10"] > 0
    curve = metrics["recall_curve"]
    assert len(curve) == 10 and all(a <= b for a, b in zip(curve, curve[1:]))
    for key in ("recall@1", "recall@5", "sentence_hit@1", "sentence_hit@3", "exact_match", "f1",
                "answer_rate", "no_answer_accuracy", "answerable_decision_accuracy", "has_answer_hit@1"):
        assert 0.0 <= metrics[key] <= 1.0, key
    assert metrics["sentence_hit@1"] <= metrics["sentence_hit@3"]
    assert metrics["has_answer_hit@1"] == metrics["sentence_hit@1"]
    assert metrics["latency_p50_ms"] <= metrics["latency_p95_ms"]

    records = {r["id"]: r for r in results["questions"]}
    assert set(records) == {"q1", "q2", "q3", "q4", "q5", "q6"}
    assert records["q4"]["is_impossible"] and records["q4"]["retrieval_rank"] is None
    for r in records.values():
        if not r["answerable"]:
            assert r["prediction"] == "" and not r["hit1"]
        if r["hit1"]:
            assert r["hit3"] and r["answerable"]
    # The exact figures follow from the records.
    assert metrics["exact_match"] == pytest.approx(sum(r["em"] for r in records.values()) / 6)
    assert metrics["no_answer_accuracy"] == float(not records["q4"]["answerable"])

    # A second run in the same workdir reuses every embedding.
    embedder.calls = 0
    again = run_eval(tiny_squad, embedder=embedder, settings=fake_settings, workdir=tmp_path / "work")
    assert again["build"]["embedded"] == 0 and again["metrics"] == {**metrics, **{
        k: again["metrics"][k] for k in ("latency_p50_ms", "latency_p95_ms")}}
    assert embedder.calls == 12  # only the questions: ask + retrieve for each


def test_run_eval_samples_and_selects_articles(tiny_squad, fake_settings):
    one = run_eval(tiny_squad, articles="2-2", embedder=FakeEmbedder(), settings=fake_settings)
    assert one["counts"]["articles"] == 1 and [r["id"] for r in one["questions"]] == ["q5", "q6"]
    assert "no_answer_accuracy" in one["metrics"]  # still a v2.0 file
    sample = run_eval(tiny_squad, limit=3, seed=1, embedder=FakeEmbedder(), settings=fake_settings)
    ids = [r["id"] for r in sample["questions"]]
    assert len(ids) == 3 and ids == sorted(ids)  # sampled, then back in file order
    assert ids == [r["id"] for r in run_eval(tiny_squad, limit=3, seed=1, embedder=FakeEmbedder(),
                                             settings=fake_settings)["questions"]]
    with pytest.raises(EvalError, match="only 2 articles"):
        run_eval(tiny_squad, articles="3-4", embedder=FakeEmbedder(), settings=fake_settings)


def test_reports_table_json_and_escaped_html(tiny_squad, fake_settings, tmp_path):
    results = run_eval(tiny_squad, embedder=FakeEmbedder(), settings=fake_settings)
    table = format_table(results)
    for word in ("recall@1", "recall@10", "MRR@10", "hit@1", "hit@3", "exact match", "F1", "no-answer accuracy",
                 "'no answer' precision", "p95", "2 articles", "6 questions (1 unanswerable)"):
        assert word in table, word

    write_json(results, tmp_path / "eval.json")
    loaded = json.loads((tmp_path / "eval.json").read_text())
    assert loaded["metrics"]["recall_curve"] == results["metrics"]["recall_curve"]
    assert len(loaded["questions"]) == 6 and loaded["config"]["top_k"] == 5

    write_html(results, tmp_path / "eval.html")
    page = (tmp_path / "eval.html").read_text()
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert page.count("<svg") == 3 and "http://www.w3.org/2000/svg" in page
    assert "src=" not in page and "<link" not in page  # self-contained
    assert "Answer recall@k" in page and "Calibration" in page


def test_html_of_an_empty_calibration_still_renders(tiny_squad, fake_settings):
    results = run_eval(tiny_squad, articles="1-1", limit=1, seed=3, embedder=FakeEmbedder(), settings=fake_settings)
    assert render_html(results).count("<svg") == 3


# --- the command ----------------------------------------------------------------------------------------------

def test_eval_command_bad_input_is_a_one_line_error(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert "no such dataset file" in err and len(err.strip().splitlines()) == 1
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    assert main(["eval", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["eval", str(bad), "--articles", "3-1"]) == 2
    assert "--articles" in capsys.readouterr().err
    assert main(["eval", str(bad), "--limit", "0"]) == 2
    assert "--limit" in capsys.readouterr().err


def test_eval_command_with_the_fake_embedder(tiny_squad, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("QA_MODEL", "fake-hash-embedder")
    monkeypatch.setattr("qa.pipeline.components.make_embedder", lambda settings: FakeEmbedder())
    code = main(["eval", str(tiny_squad), "--limit", "4", "--quiet", "--json", str(tmp_path / "e.json"),
                 "--html", str(tmp_path / "e.html"), "--workdir", str(tmp_path / "w")])
    out = capsys.readouterr().out
    assert code == 0 and "recall@5" in out and "4 questions" in out
    assert len(json.loads((tmp_path / "e.json").read_text())["questions"]) == 4
    assert (tmp_path / "e.html").read_text().startswith("<!doctype html>")


@pytest.mark.model
def test_eval_command_with_the_real_model(tiny_squad, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "qa", "eval", str(tiny_squad), "--limit", "5", "--seed", "2",
         "--json", str(tmp_path / "eval.json")],
        capture_output=True, text=True, timeout=120,
        env={**{k: v for k, v in os.environ.items() if k != "QA_MODEL"}, "HF_HUB_OFFLINE": "1",
             "TRANSFORMERS_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "answer recall@1" in result.stdout and "5 questions" in result.stdout
    results = json.loads((tmp_path / "eval.json").read_text())
    assert results["config"]["model"] == "all-MiniLM-L6-v2+onnx-int8"  # the default backend
    assert results["metrics"]["recall@10"] == 1.0  # two tiny articles: every answer is retrievable
