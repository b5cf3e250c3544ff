"""End to end with the real model on the bundled seed article."""

import pytest
from fastapi.testclient import TestClient

from qa.app import create_app

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def client(seed_settings, seed_assistant):
    with TestClient(create_app(seed_settings, seed_assistant)) as c:
        yield c


def ask(client, question, history=()):
    r = client.post("/ask", json={"question": question, "history": [{"question": q} for q in history]})
    assert r.status_code == 200, r.text
    return r.json()


def assert_verbatim(body, assistant):
    for item in body["sentences"] + body["citations"] + body["passages"]:
        assert assistant.article(item["article_id"]).text[item["start"] : item["end"]] == item["text"]


def test_seed_question_names_at_least_two_topics(client, seed_assistant):
    body = ask(client, "What did Rahmon and Patrushev discuss?")
    assert body["answerable"]
    topics = {
        "security cooperation": "security cooperation" in body["answer"],
        "CIS/CSTO/SCO": any(x in body["answer"] for x in ("CIS", "CSTO", "SCO")),
        "military and technical": "military and technical cooperation" in body["answer"],
    }
    assert sum(topics.values()) >= 2, topics
    assert_verbatim(body, seed_assistant)


def test_follow_up_answers_with_the_birth_date(client, seed_assistant):
    first = ask(client, "Who is Nikolai Patrushev?")
    assert "Russian politician" in first["answer"]
    body = ask(client, "When was he born?", history=["Who is Nikolai Patrushev?"])
    assert body["query"] == "When was Nikolai Patrushev born?"
    assert body["answerable"] and "July 11, 1951" in body["sentences"][0]["text"]
    assert_verbatim(body, seed_assistant)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("Which organisation did Patrushev lead from 1999 to 2008?", "Federal Security Service"),
        ("Who is Patrushev's Tajik counterpart?", "Abdurahim Qahhorov"),
        ("What border did they want to strengthen?", "Afghanistan"),
    ],
)
def test_paraphrased_questions_get_the_right_fact(client, seed_assistant, question, expected):
    body = ask(client, question)
    assert body["answerable"] and expected in body["answer"], body["answer"]
    assert_verbatim(body, seed_assistant)


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "Who won the 2018 football World Cup?",
        "How do I bake sourdough bread?",
        # on topic, but the article does not say
        "Where was Patrushev born?",
        "How many troops guard the border?",
        "Where did the meeting take place?",
    ],
)
def test_out_of_corpus_and_unsaid_questions_abstain(client, question):
    body = ask(client, question)
    assert body["answerable"] is False and body["sentences"] == [] and body["citations"] == []
    assert body["confidence"] < 0.5
