"""Shared fixtures: a tiny corpus, a fake embedder for fast tests, the real model for end-to-end ones."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from qa.config import Settings  # noqa: E402
from qa.embed import FakeEmbedder  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "qa" / "seeds"
SHARED = ROOT.parent / "shared"

TINY_ARTICLES = {
    "volcanoes.md": "---\ntitle: Volcanoes of Iceland\n---\n# Volcanoes\n\nIceland has about 130 volcanic mountains. "
    "Hekla is one of the most active volcanoes in the country. It erupted more than 20 times since 874.\n\n"
    "Eyjafjallajökull erupted in 2010 and disrupted air travel across Europe for six days. "
    "Scientists at the University of Iceland monitor seismic activity around the clock.\n",
    "coffee.txt": "Coffee was first cultivated in Yemen in the 15th century.\n"
    "Dr. Smith of the U.S. Department of Agriculture studied coffee rust on Jan. 5, 1990. "
    "Brazil is the largest coffee producer in the world. Vietnam is the second largest producer.\n",
    "news/bridge.html": "<html><head><title>The Golden Gate Bridge</title><style>p{}</style></head><body>"
    "<h1>Golden Gate</h1><p>The Golden Gate Bridge opened in 1937.</p>"
    "<p>Its main span is 1,280 metres long. It was painted International Orange.</p>"
    "<script>alert('x')</script></body></html>",
    "feed.jsonl": '{"id": "penguins-1", "title": "Emperor penguins", "text": "Emperor penguins breed in the '
    'Antarctic winter. Males incubate the eggs for about 65 days.", "url": "https://example.org/p"}\n'
    '{"title": "no text field"}\n',
    "notes.pdf": "not an article",
}


def write_corpus(folder: Path, articles: dict[str, str] = TINY_ARTICLES) -> Path:
    for name, text in articles.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus")


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def tiny_settings(tmp_path: Path, tiny_corpus: Path) -> Settings:
    """The fake embedder's settings; the reader is off here (its own tests and the real-model ones read)."""
    return Settings.from_env({}, corpus=tiny_corpus, index=tmp_path / "index", model="fake-hash-embedder",
                             min_confidence=0.3, reader="off")


@pytest.fixture
def tiny_assistant(tiny_settings: Settings, fake_embedder: FakeEmbedder):
    from qa.pipeline import Assistant, build_index

    build_index(tiny_settings, fake_embedder)
    return Assistant.load(tiny_settings, fake_embedder)


@pytest.fixture(scope="session")
def real_embedder():
    from qa.embed import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    embedder.model  # load once for the session
    return embedder


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory, real_embedder) -> Settings:
    """The bundled seeds, indexed with the real model into a temporary folder."""
    from qa.pipeline import build_index

    folder = tmp_path_factory.mktemp("seed-index")
    corpus = folder / "seeds"
    shutil.copytree(SEEDS, corpus)
    settings = Settings.from_env({}, corpus=corpus, index=folder / "index")
    build_index(settings, real_embedder)
    return settings


@pytest.fixture(scope="session")
def seed_assistant(seed_settings, real_embedder):
    from qa.pipeline import Assistant

    return Assistant.load(seed_settings, real_embedder)
