"""Shared by the benchmark scripts: the SQuAD corpus as Markdown files, and appending to RESULTS.md."""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SQUAD = ROOT.parent / "shared" / "bench" / "data" / "squad"
RESULTS = ROOT / "bench" / "RESULTS.md"


def require(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"benchmark data not found: {path} (expected ../shared/bench/data beside the repository)")
    return path


def write_markdown_corpus(folder: Path, dataset: Path | None = None) -> list[dict]:
    """Each SQuAD article as ``<title>.md`` (a '# ' title, then its paragraphs); returns the questions."""
    dataset = require(dataset or SQUAD / "dev-v1.1.json")
    folder.mkdir(parents=True, exist_ok=True)
    questions = []
    for article in json.loads(dataset.read_text(encoding="utf-8"))["data"]:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", article["title"])
        body = "\n\n".join(p["context"] for p in article["paragraphs"])
        (folder / f"{name}.md").write_text(f"# {article['title'].replace('_', ' ')}\n\n{body}\n", encoding="utf-8")
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                questions.append({"question": qa["question"], "answers": [a["text"] for a in qa["answers"]]})
    return questions


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}){memory}, Python {platform.python_version()}"


def publish(title: str, lines: list[str], record: bool = True) -> None:
    """Append the section to RESULTS.md (and print it), or only print the lines with ``--no-record``."""
    if record:
        append_results(title, lines)
    else:
        print("\n".join(lines))


def append_results(title: str, lines: list[str]) -> None:
    """Print a dated section and add it to bench/RESULTS.md with an anchor ``run-YYYY-MM-DD-HHMM`` (``-2``, ``-3``
    when the file has that id): at the end of the runs, just before ``## History``, or at the end of the file."""
    now = time.gmtime()
    command = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    section = [f"### {title} — {time.strftime('%Y-%m-%d %H:%M UTC', now)}", "",
               f"Machine: {machine()}; load average at the end {load} (other jobs shared the CPUs when it is "
               f"above 2). Command: `{command}`", "", *lines, ""]
    text = "\n".join(section)
    print(text)
    doc = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    anchor = base = time.strftime("run-%Y-%m-%d-%H%M", now)
    n = 1
    while f'<a id="{anchor}"></a>' in doc:
        n += 1
        anchor = f"{base}-{n}"
    block = f'<a id="{anchor}"></a>\n{text}'
    history = re.search(r"^## History$", doc, re.M)
    if history:
        doc = doc[:history.start()] + block + "\n" + doc[history.start():]
    else:
        doc += "\n" + block
    RESULTS.write_text(doc, encoding="utf-8")
