"""Feedback and the question log in the real SQLite file: concurrency, restarts, kill -9, export, qa eval."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from live_server import LiveServer

from qa.app import create_app
from qa.feedback import FILE_NAME, FeedbackStore, export_squad

QUESTION = "Which country is the largest coffee producer?"


def verdict_for(reply: dict, verdict: str, comment: str | None = None) -> dict:
    body = {"question": reply["question"], "query": reply["query"], "answer": reply["answer"][:1000],
            "verdict": verdict, "sentences": reply["sentences"], "citations": reply["citations"]}
    return {**body, "comment": comment} if comment else body


def test_feedback_is_stored_with_its_reply_and_questions_are_logged(tiny_settings, tiny_assistant):
    settings = replace(tiny_settings, reload_interval=0, api_keys="team:team-key-0123456")
    app = create_app(settings, tiny_assistant)
    with TestClient(app, headers={"X-API-Key": "team-key-0123456"}) as client:
        reply = client.post("/ask", json={"question": QUESTION}).json()
        created = client.post("/feedback", json=verdict_for(reply, "up"))
        assert created.status_code == 201 and created.json()["id"] == 1
        assert client.post("/feedback", json={**verdict_for(reply, "up"), "verdict": "meh"}).status_code == 422
        assert client.post("/feedback", content=b"verdict=up").status_code == 415
    (row,) = app.state.feedback.feedback()
    assert row["verdict"] == "up" and row["key_name"] == "team" and row["question"] == QUESTION
    assert row["index_version"] == tiny_assistant.store.manifest["version"]
    assert row["sentences"][0]["text"] == reply["sentences"][0]["text"]
    assert app.state.feedback.count("questions") == 1  # flushed when the app stopped
    assert (Path(settings.index) / FILE_NAME).exists()


def test_questions_are_not_logged_when_told_not_to(tiny_settings, tiny_assistant):
    settings = replace(tiny_settings, reload_interval=0, log_questions=0)
    app = create_app(settings, tiny_assistant)
    with TestClient(app) as client:
        client.post("/ask", json={"question": QUESTION})
    assert app.state.feedback.count("questions") == 0


def test_sixteen_clients_fifty_posts_each_lose_nothing(tiny_settings, tiny_assistant, tmp_path):
    settings = replace(tiny_settings, reload_interval=0, data_dir=str(tmp_path / "data"))
    reply = tiny_assistant.ask(QUESTION).to_dict()
    ids, errors = [], []
    with LiveServer(create_app(settings, tiny_assistant)) as server:
        def client(n: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as http:
                for i in range(50):
                    response = http.post("/feedback", json=verdict_for(reply, "down", f"client {n} post {i}"))
                    (ids if response.status_code == 201 else errors).append(response.json().get("id"))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == [] and len(ids) == 800 and len(set(ids)) == 800
    reopened = FeedbackStore(tmp_path / "data" / FILE_NAME)  # after the server stopped: a restart
    comments = {row["comment"] for row in reopened.feedback()}
    assert len(comments) == 800 and "client 15 post 49" in comments
    reopened.close()


def test_what_was_answered_201_survives_a_kill_9(tiny_settings, fake_embedder, tmp_path):
    from qa.pipeline import build_index

    build_index(tiny_settings, fake_embedder)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, str(Path(__file__).parent / "feedback_server.py"),
                               str(tiny_settings.corpus), str(tiny_settings.index), str(port)],
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                reply = httpx.post(url + "/ask", json={"question": QUESTION}, timeout=10).json()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.2)
        answered, stop = [], threading.Event()

        def post() -> None:
            with httpx.Client(base_url=url, timeout=10) as http:
                while not stop.is_set():
                    try:
                        response = http.post("/feedback", json=verdict_for(reply, "up"))
                    except httpx.HTTPError:
                        return  # the server is gone
                    if response.status_code == 201:
                        answered.append(response.json()["id"])

        threads = [threading.Thread(target=post) for _ in range(4)]
        for t in threads:
            t.start()
        while len(answered) < 40:
            time.sleep(0.01)
        server.send_signal(signal.SIGKILL)  # mid-write: requests are in flight
        server.wait(10)
        stop.set()
        for t in threads:
            t.join(15)
    finally:
        if server.poll() is None:
            server.kill()
    store = FeedbackStore(Path(tiny_settings.index) / FILE_NAME)
    stored = {row["id"] for row in store.feedback()}
    store.close()
    assert set(answered) <= stored and len(answered) >= 40


def test_feedback_exports_as_squad_that_qa_eval_reads(tiny_settings, tiny_assistant, fake_embedder, tmp_path):
    from qa.cli import main
    from qa.evaluate import load_squad, run_eval

    settings = replace(tiny_settings, reload_interval=0)
    with TestClient(create_app(settings, tiny_assistant)) as client:
        right = client.post("/ask", json={"question": QUESTION}).json()
        client.post("/feedback", json=verdict_for(right, "up"))
        wrong = client.post("/ask", json={"question": "When did Eyjafjallajökull erupt?"}).json()
        client.post("/feedback", json=verdict_for(wrong, "down", "in 2010"))
        client.post("/feedback", json=verdict_for(wrong, "down", "no idea"))
    out = tmp_path / "feedback.json"
    assert main(["feedback", "export", "--format", "squad", "--index", str(settings.index), "--out", str(out)]) == 0
    dataset = load_squad(out)
    questions = {q.question: q for q in dataset.questions()}
    assert list(questions[QUESTION].answers) == [right["sentences"][0]["text"]]
    exported = json.loads(out.read_text())
    by_id = {qa["id"]: qa for article in exported["data"] for p in article["paragraphs"] for qa in p["qas"]}
    assert by_id["feedback-2"]["answers"][0]["text"] == "in 2010" and by_id["feedback-3"]["is_impossible"]
    results = run_eval(out, embedder=fake_embedder, settings=replace(settings, reader="off"), workdir=tmp_path / "eval")
    assert results["counts"]["questions"] == 3 and results["counts"]["unanswerable"] == 1
    jsonl = tmp_path / "feedback.jsonl"
    assert main(["feedback", "export", "--index", str(settings.index), "--out", str(jsonl), "--verdict", "down"]) == 0
    assert [json.loads(line)["verdict"] for line in jsonl.read_text().splitlines()] == ["down", "down"]


def test_export_skips_what_cannot_be_checked():
    rows = [{"id": 1, "question": "q?", "verdict": "up", "comment": None, "citations": [],
             "sentences": [{"text": "gone", "article_id": "a", "start": 0, "end": 4}]},
            {"id": 2, "question": "r?", "verdict": "up", "comment": None, "citations": [{"article_id": ["odd"]}],
             "sentences": ["not a dict"]}]
    assert export_squad(rows, {"a": ("A", "Here the text changed.")}) == {"version": "v2.0", "data": []}
