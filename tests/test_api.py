import pytest
from fastapi.testclient import TestClient

from qa.app import create_app


@pytest.fixture
def client(tiny_settings, tiny_assistant):
    with TestClient(create_app(tiny_settings, tiny_assistant), raise_server_exceptions=False) as c:
        yield c


def test_ask_follows_the_contract(client, tiny_assistant):
    r = client.post("/ask", json={"question": "Which country is the largest coffee producer?", "top_k": 3})
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"question", "query", "answer", "answerable", "confidence", "sentences", "citations",
                         "passages", "timings_ms"}
    assert body["answerable"] is True and 0 <= body["confidence"] <= 1
    assert len(body["passages"]) == 3
    assert set(body["timings_ms"]) >= {"retrieve", "extract", "total"}
    for s in body["sentences"]:
        assert tiny_assistant.article(s["article_id"]).text[s["start"] : s["end"]] == s["text"]
        assert f'{s["text"]} [{s["citation"]}]' in body["answer"]
    for c in body["citations"]:
        assert tiny_assistant.article(c["article_id"]).text[c["start"] : c["end"]] == c["text"]
    for p in body["passages"]:
        assert tiny_assistant.article(p["article_id"]).text[p["start"] : p["end"]] == p["text"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "question"),
        ({"question": ""}, "question"),
        ({"question": "   "}, "question"),
        ({"question": "x" * 1001}, "question"),
        ({"question": "ok", "top_k": 0}, "top_k"),
        ({"question": "ok", "top_k": 21}, "top_k"),
        ({"question": "ok", "history": [{"question": "q"}] * 11}, "history"),
        ({"question": "ok", "history": [{"answer": "no question"}]}, "history.0.question"),
        ({"question": "bad\u0000nul"}, "question"),
        ({"question": "ok", "colour": "blue"}, "colour"),
    ],
)
def test_bad_input_is_a_readable_422(client, payload, field):
    r = client.post("/ask", json=payload)
    assert r.status_code == 422
    body = r.json()
    assert isinstance(body["detail"], str) and field in body["detail"]
    assert "x" * 1001 not in r.text  # the input is not echoed back


def test_lone_surrogate_is_a_422_not_a_500(client):
    r = client.post("/ask", content=b'{"question": "\\ud800 broken"}', headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_not_json_is_a_422(client):
    r = client.post("/ask", content=b"question=hi", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_articles_and_one_article(client):
    listed = client.get("/api/articles").json()
    assert {a["id"] for a in listed} == {"coffee", "volcanoes", "news-bridge", "penguins-1"}
    article = client.get("/api/articles/coffee").json()
    assert article["text"].startswith("Coffee was first cultivated")
    missing = client.get("/api/articles/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


def test_health_reports_counts(client):
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["articles"] == 4 and body["passages"] >= 4 and "built_at" in body
    assert body["version"] == __import__("qa").__version__


def test_no_index_is_a_503_naming_the_command(tmp_path, tiny_settings):
    from dataclasses import replace

    settings = replace(tiny_settings, index=tmp_path / "empty-index")
    with TestClient(create_app(settings)) as c:
        r = c.post("/ask", json={"question": "anything"})
        assert r.status_code == 503 and "qa index" in r.json()["detail"]
        assert c.get("/health").status_code == 503


def test_openapi_and_offline_docs(client):
    schema = client.get("/openapi.json").json()
    assert "/ask" in schema["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/docs-static/swagger-ui-bundle.js" in docs.text
    assert client.get("/docs-static/swagger-ui-bundle.js").status_code == 200


def test_security_headers_everywhere(client):
    for response in (client.get("/health"), client.post("/ask", json={}), client.get("/")):
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"


def test_ask_within_one_article(client):
    body = client.post("/ask", json={"question": "Which country is the largest coffee producer?",
                                     "article": "volcanoes"}).json()
    assert body["passages"] and {p["article_id"] for p in body["passages"]} == {"volcanoes"}
    assert all(s["article_id"] == "volcanoes" for s in body["sentences"])
    missing = client.post("/ask", json={"question": "Where?", "article": "no-such-article"})
    assert missing.status_code == 404 and "no article" in missing.json()["detail"]
