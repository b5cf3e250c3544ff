"""The wheel works anywhere: built, installed (not editable) into a fresh venv, run from empty folders.

One test, about two minutes (most of it pip installing the dependencies, from its cache when warm):
it is what a new user does with `pip install qa-*.whl` or pipx, outside the repository.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import qa

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "qa" / "seeds" / "Tajik President Rahmon receives Patrushev.txt"

pytestmark = pytest.mark.wheel


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*command, cwd: Path, env: dict, timeout: float = 900) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def get(url: str, data: dict | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url, data=json.dumps(data).encode() if data is not None else None,
                                     headers={"Content-Type": "application/json"} if data is not None else {})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read().decode("utf-8")


class Server:
    """``qa serve`` from the installed wheel, in its own folder, stopped at the end."""

    def __init__(self, qa_command: Path, cwd: Path, env: dict, *args: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = cwd / "serve.log"
        with open(self.log, "w") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen([str(qa_command), "serve", "--port", str(self.port), *args], cwd=cwd,
                                            env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 300  # builds the index first (and exports the model once)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"qa serve exited {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if get(self.url + "/health")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"qa serve did not come up:\n{self.log.read_text()[-3000:]}")

    def __exit__(self, *exc) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def test_the_wheel_installs_into_a_fresh_venv_and_serves_from_any_folder(tmp_path):
    wheels = tmp_path / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", wheels, ROOT, cwd=tmp_path,
        env=os.environ.copy())
    wheel = next(wheels.glob("qa-*.whl"))
    # A user's environment: no QA_* settings, no path into the checkout (pip would take the checkout's
    # metadata for an installed qa), a model cache of its own.
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path, env=env)
    run(venv / "bin" / "pip", "install", "--quiet", wheel, cwd=tmp_path, env=env)
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    qa_command = venv / "bin" / "qa"
    empty = tmp_path / "empty"
    empty.mkdir()

    version = run(qa_command, "--version", cwd=empty, env=env).stdout.strip()
    assert version == f"qa {qa.__version__}"
    where = run(venv / "bin" / "python", "-c", "import qa; print(qa.__file__)", cwd=empty, env=env).stdout
    assert Path(where.strip()).is_relative_to(venv), "the test must run the installed package, not the checkout"

    # No options at all: the bundled sample article, an index in ./index, the chat with its CSS and script.
    with Server(qa_command, empty, env) as server:
        status, _, page = get(server.url + "/")
        assert status == 200 and "/static/app.css" in page and "/static/chat.js" in page
        status, kind, css = get(server.url + "/static/app.css")
        assert status == 200 and kind.startswith("text/css") and css == (ROOT / "qa/web/static/app.css").read_text()
        status, kind, _ = get(server.url + "/static/chat.js")
        assert status == 200 and "javascript" in kind
        _, _, body = get(server.url + "/ask", {"question": "What did Rahmon and Patrushev discuss?"})
        reply = json.loads(body)
        article = SAMPLE.read_text(encoding="utf-8")
        assert reply["answerable"] and reply["citations"]
        for sentence in reply["sentences"]:
            assert article[sentence["start"]:sentence["end"]] == sentence["text"]
        assert "Patrushev" in reply["answer"]
    said = (empty / "serve.log").read_text()
    assert "qa serve --corpus" in said and "exporting it with int8 weights" in said
    assert (empty / "index" / "CURRENT").is_file()

    # Your own folder, an index anywhere, from other folders: index in one, serve in another.
    corpus = tmp_path / "articles"
    corpus.mkdir()
    (corpus / "lighthouse.md").write_text(
        "# The Bell Rock Lighthouse\n\nThe Bell Rock Lighthouse stands on a reef off the coast of Angus, Scotland. "
        "Robert Stevenson built it between 1807 and 1810. It is the oldest surviving sea-washed lighthouse "
        "in the world.\n", encoding="utf-8")
    elsewhere, other = tmp_path / "elsewhere", tmp_path / "other"
    elsewhere.mkdir()
    other.mkdir()
    built = run(qa_command, "index", "--corpus", corpus, "--index", tmp_path / "index2", cwd=elsewhere, env=env)
    assert "1 articles" in built.stdout and not list(elsewhere.iterdir())
    with Server(qa_command, other, env, "--index", str(tmp_path / "index2")) as server:
        _, _, body = get(server.url + "/ask", {"question": "Who built the Bell Rock Lighthouse?"})
        reply = json.loads(body)
        assert reply["answerable"] and "Robert Stevenson" in reply["answer"]
        assert reply["citations"][0]["source"] == "lighthouse.md"
    assert not (other / "index").exists()

    # The README's Python example, as written, with the installed package: the bundled sample, then the
    # index it built opened again, from yet another folder.
    readme = (ROOT / "README.md").read_text(encoding="utf-8").split("## Use from Python", 1)[1]
    example = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    scripted = tmp_path / "script"
    scripted.mkdir()
    done = run(venv / "bin" / "python", "-c", example, cwd=scripted, env=env)
    assert "[True, False]" in done.stdout and (scripted / "qa-index" / "CURRENT").is_file()
