import re

import pytest
from fastapi.testclient import TestClient

from qa.app import create_app
from qa.pages import pieces


@pytest.fixture
def client(tiny_settings, tiny_assistant):
    with TestClient(create_app(tiny_settings, tiny_assistant)) as c:
        yield c


def test_pieces_cut_text_at_offsets():
    cut = pieces("Hello brave new world", 100, [(106, 111), (116, 121)])
    assert [(p.text, p.marked) for p in cut] == [("Hello ", False), ("brave", True), (" new ", False), ("world", True)]
    assert cut[1].first and not cut[3].first


def test_empty_state_lists_articles_and_examples(client):
    page = client.get("/").text
    assert "Ask about 4 articles" in page
    assert "Volcanoes of Iceland" in page
    assert 'name="q"' in page and "<script src=\"/static/chat.js\"" in page
    assert "<script>" not in page  # no inline script


def test_no_js_answer_on_the_server(client):
    page = client.get("/", params={"q": "Which country is the largest coffee producer?"}).text
    assert "Brazil is the largest coffee producer in the world." in page
    assert 'href="#src-0-1"' in page and 'id="src-0-1"' in page
    assert "<mark>Brazil is the largest coffee producer in the world.</mark>" in page
    assert 'type="hidden" name="h" value="Which country is the largest coffee producer?"' in page


def test_no_answer_looks_different_and_lists_related(client):
    page = client.get("/", params={"q": "zzz qqq xxx"}).text
    assert 'class="turn no-answer"' in page and "Related reading" in page


def test_fragment_for_the_script_renders_one_turn(client):
    r = client.post("/chat/turn?index=3", json={"question": "When did Eyjafjallajökull erupt?"})
    assert r.status_code == 200 and r.text.lstrip().startswith('<article class="turn')
    assert 'id="turn-3"' in r.text
    assert client.post("/chat/turn", json={"question": ""}).status_code == 422


def test_article_view_highlights_from_offsets(client, tiny_assistant):
    text = tiny_assistant.article("coffee").text
    start = text.index("Brazil")
    end = text.index("world.") + len("world.")
    page = client.get(f"/articles/coffee?hl={start}-{end}").text
    assert '<mark id="hl" tabindex="-1">Brazil is the largest coffee producer in the world.</mark>' in page


def test_bad_highlights_and_unknown_articles(client):
    assert client.get("/articles/coffee?hl=9-1,abc,5-999999").status_code == 200
    r = client.get("/articles/..%2F..%2Fetc%2Fpasswd", headers={"accept": "text/html"})
    assert r.status_code == 404 and "root:" not in r.text


def test_hostile_article_text_is_escaped(tmp_path, fake_embedder):
    from qa.config import Settings
    from qa.pipeline import Assistant, build_index

    corpus = tmp_path / "hostile"
    corpus.mkdir()
    (corpus / "evil.txt").write_text(
        'The payload <script>alert("pwned")</script> sits here. '
        'An image <img src=x onerror="alert(1)"> follows. Also a javascript link.'
    )
    (corpus / "evil.jsonl").write_text('{"id": "e2", "title": "<b>bold</b>", "text": "Click me now.", '
                                       '"url": "javascript:alert(1)"}\n')
    settings = Settings.from_env({}, corpus=corpus, index=tmp_path / "idx", min_confidence=0.0)
    build_index(settings, fake_embedder)
    with TestClient(create_app(settings, Assistant.load(settings, fake_embedder))) as c:
        for page in (c.get("/", params={"q": "payload script alert"}).text, c.get("/articles/evil").text,
                     c.get("/articles/e2").text, c.get("/").text):
            assert "<script>alert" not in page and "<img src=x" not in page and "<b>bold" not in page
            assert "javascript:alert" not in page
            assert not re.search(r"<script(?![^>]*src=\"/static/chat.js\")", page)
        assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in c.get("/articles/evil").text

