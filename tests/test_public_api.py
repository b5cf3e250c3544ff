"""The Python API: qa.build / qa.open / ask / ask_many, the README's example, errors, threads."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import qa

ROOT = Path(__file__).resolve().parent.parent


def without_timings(reply: dict) -> dict:
    """The reply as JSON sees it (tuples are lists), timings left out."""
    return {k: v for k, v in json.loads(json.dumps(reply)).items() if k != "timings_ms"}


def test_the_public_names_are_listed_and_cheap_to_import():
    code = ("import sys, qa; names = [getattr(qa, n) for n in ('open', 'build', '__version__')]; "
            "print([m for m in ('torch', 'faiss', 'fastapi', 'onnxruntime') if m in sys.modules])")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    for name in qa.__all__:
        assert getattr(qa, name) is not None
    with pytest.raises(AttributeError):
        qa.not_a_name  # noqa: B018


def test_errors_are_qas_own_with_the_cli_messages(tmp_path):
    with pytest.raises(qa.IndexMissing, match=r"no index in .*: build one with `qa index --index"):
        qa.open(tmp_path / "nothing-here", model="fake-hash-embedder")
    (tmp_path / "empty").mkdir()
    with pytest.raises(qa.CorpusError, match="no articles found"):
        qa.build(tmp_path / "empty", index=tmp_path / "index")
    with pytest.raises(qa.SettingsError):
        qa.open(tmp_path, top_k=99)


@pytest.mark.model
def test_the_readme_example_runs_as_written(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use from Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this checkout's qa (the wheel test runs the installed one)
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env=env)
    assert done.returncode == 0, done.stderr
    assert "Collective Security Treaty Organization" in done.stdout or "security" in done.stdout
    assert "[True, False]" in done.stdout  # the counterpart is answered, France's capital is not
    assert (tmp_path / "qa-index").is_dir()


@pytest.fixture(scope="module")
def opened(seed_settings):
    return qa.open(seed_settings.index, backend="torch")  # the seed fixture is built with torch


@pytest.mark.model
def test_a_reply_is_the_same_as_post_ask(opened, seed_settings):
    from fastapi.testclient import TestClient

    from qa.app import create_app

    question = "What did Rahmon and Patrushev discuss?"
    with TestClient(create_app(seed_settings, opened)) as client:
        over_http = client.post("/ask", json={"question": question}).json()
    assert without_timings(opened.ask(question).to_dict()) == without_timings(over_http)
    follow = opened.ask("When was he born?", history=[{"question": "Who is Nikolai Patrushev?"}])
    assert follow.query == "When was Nikolai Patrushev born?"
    assert opened.ask("When was he born?", history=[("Who is Nikolai Patrushev?", None)]).query == follow.query


QUESTIONS = ["What did Rahmon and Patrushev discuss?", "Who is Patrushev's Tajik counterpart?",
             "Which organisation did Patrushev lead from 1999 to 2008?", "What is the capital of France?",
             "What border did they want to strengthen?", "Who is Nikolai Patrushev?"]


@pytest.mark.model
def test_one_assistant_shared_by_threads_gives_the_same_replies(opened):
    expected = {q: without_timings(opened.ask(q).to_dict()) for q in QUESTIONS}
    seen, problems = [], []

    def worker(offset: int) -> None:
        try:
            for i in range(12):
                q = QUESTIONS[(i + offset) % len(QUESTIONS)]
                seen.append(without_timings(opened.ask(q).to_dict()) == expected[q])
        except Exception as error:  # noqa: BLE001 (reported below)
            problems.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert problems == [] and len(seen) == 96 and all(seen)


@pytest.mark.model
def test_ask_many_gives_what_ask_gives(opened):
    many = opened.ask_many(QUESTIONS, workers=3)
    assert [without_timings(r.to_dict()) for r in many] == [without_timings(opened.ask(q).to_dict()) for q in QUESTIONS]
    assert all(r.timings_ms["total"] > 0 for r in many)
