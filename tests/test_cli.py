import json
import os
import subprocess
import sys

from pathlib import Path

import pytest

from qa.cli import main
from qa.config import Settings


SEEDS = Path(__file__).resolve().parent.parent / "qa" / "seeds"


def run_qa(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def test_help_lists_commands_and_environment_without_heavy_imports():
    code = "import sys, qa.cli; qa.cli.build_parser().format_help(); " \
           "print(sorted(m for m in ('torch', 'faiss', 'fastapi', 'sentence_transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    result = run_qa("--help")
    assert result.returncode == 0
    for word in ("index", "ask", "serve", "QA_INDEX", "QA_MODEL", "QA_CORPUS"):
        assert word in result.stdout


def test_settings_come_from_the_environment_and_options_win():
    settings = Settings.from_env({"QA_INDEX": "/x", "QA_TOP_K": "7", "QA_PORT": "9000"}, index=None, port=8123)
    assert str(settings.index) == "/x" and settings.top_k == 7 and settings.port == 8123


def test_bad_environment_value_is_a_clear_error(capsys, monkeypatch):
    monkeypatch.setenv("QA_PORT", "eighty")
    assert main(["ask", "hi"]) == 2
    assert "QA_PORT='eighty' is not a valid int" in capsys.readouterr().err


def test_ask_without_an_index_says_how_to_build_one(tmp_path, capsys):
    assert main(["ask", "hello?", "--index", str(tmp_path / "none")]) == 2
    assert "qa index" in capsys.readouterr().err


def test_index_of_an_empty_corpus_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["index", "--corpus", str(tmp_path / "empty"), "--index", str(tmp_path / "i"), "-q"]) == 2
    assert "no articles found" in capsys.readouterr().err


@pytest.mark.model
def test_index_then_ask_prints_a_cited_answer(tmp_path):
    env = {"QA_CORPUS": str(SEEDS), "QA_INDEX": str(tmp_path / "index")}
    built = run_qa("index", env=env)
    assert built.returncode == 0, built.stderr
    assert "1 articles" in built.stdout and "1 added" in built.stdout
    again = run_qa("index", env=env)
    assert "is up to date" in again.stdout and "nothing changed" in again.stdout
    answer = run_qa("ask", "What did Rahmon and Patrushev discuss?", env=env)
    assert answer.returncode == 0, answer.stderr
    assert "[1]" in answer.stdout and "Tajik President Rahmon receives Patrushev" in answer.stdout
    as_json = json.loads(run_qa("ask", "Who is Nikolai Patrushev?", "--json", env=env).stdout)
    assert as_json["answerable"] and as_json["citations"][0]["source"].endswith(".txt")
    refused = run_qa("ask", "hi", env={**env, "QA_MODEL": str(tmp_path)})
    assert refused.returncode == 2 and "holds no sentence-transformers model" in refused.stderr


def test_every_setting_is_documented_in_help_and_readme():
    from dataclasses import fields

    from qa.config import SETTINGS_DOC, Settings

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for f in fields(Settings):
        assert f.name in SETTINGS_DOC, f.name
        assert f"`QA_{f.name.upper()}`" in readme, f.name


def test_serve_builds_or_updates_from_a_given_corpus_and_otherwise_serves_what_is_there(
        tmp_path, tiny_corpus, fake_embedder, monkeypatch, capsys):
    import uvicorn

    import qa.pipeline

    served = []
    monkeypatch.setattr(qa.pipeline.components, "make_embedder", lambda settings, serving=False: fake_embedder)
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(options["port"]))
    monkeypatch.delenv("QA_CORPUS", raising=False)
    index = str(tmp_path / "index")

    assert main(["serve", "--index", index, "--corpus", str(tiny_corpus), "--port", "8123"]) == 0
    said = capsys.readouterr().err
    assert "No index in" in said and "articles: 4 added" in said and "qa serve --corpus" not in said

    (tiny_corpus / "tea.txt").write_text("Tea was first drunk in China. Darjeeling tea grows in India.\n")
    assert main(["serve", "--index", index, "--corpus", str(tiny_corpus)]) == 0
    said = capsys.readouterr().err
    assert "Updating the index" in said and "1 added" in said and "4 unchanged" in said

    assert main(["serve", "--index", index]) == 0  # no corpus given: serve the index as it is
    said = capsys.readouterr().err
    assert "Updating" not in said and "No index" not in said
    assert "To use your own articles: qa serve --corpus" in said and str(tiny_corpus) not in said
    assert served == [8123, 8000, 8000]


def test_the_defaults_come_from_the_package_not_the_current_folder(tmp_path, monkeypatch):
    from qa.config import PACKAGE_DIR

    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.corpus == PACKAGE_DIR / "seeds" and any(settings.corpus.glob("*.txt"))
    assert (settings.web_dir / "templates" / "chat.html").is_file() and (settings.web_dir / "static" / "app.css").is_file()
    assert str(settings.index) == "index"  # the index is the user's: relative to where qa runs
