"""Issue 7, hardening: bad input gets a clear 4xx and loses nothing, hostile content never runs,
faults never corrupt what is served, load gets quick 503s instead of timeouts.

Everything here uses the fake embedder and stays well under a minute; the long soak is bench/soak.py.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from live_server import LiveServer
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.config import SchemathesisConfig

from qa.app import SECURITY_HEADERS, create_app
from qa.config import Settings, SettingsError

CSP = SECURITY_HEADERS["Content-Security-Policy"]


def _settings(settings: Settings, **changes) -> Settings:
    # No index watcher: these apps may outlive the test (schemathesis keeps their lifespan running).
    return replace(settings, reload_interval=0, **changes)


@pytest.fixture
def app(tiny_settings, tiny_assistant):
    return create_app(_settings(tiny_settings), tiny_assistant)


@pytest.fixture
def client(app):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def assert_readable_error(response, status: int | tuple[int, ...]) -> str:
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, str) and detail
    assert "Traceback" not in response.text
    return detail


# --- 1. requests --------------------------------------------------------------------------------

QUESTION = "Which country is the largest coffee producer?"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"question": "ok", "history": [{"question": "q", "answer": "a" * 1001}]}, "history.0.answer"),
        ({"question": "ok", "history": [{"question": "q" * 1001}]}, "history.0.question"),
        ({"question": "ok", "history": [{"question": "fine", "answer": "bad\x00nul"}]}, "history.0.answer"),
        ({"question": "ok", "history": [{"question": "bad\x07bell"}]}, "history.0.question"),
        ({"question": "escape \x1b[31m red"}, "question"),
        ({"question": "delete \x7f"}, "question"),
        ({"question": "ok", "history": [{"question": "ok", "answer": "\x0c form feed"}]}, "history.0.answer"),
        ({"question": "ok", "top_k": 10**40}, "top_k"),
        ({"question": "ok", "top_k": -(10**40)}, "top_k"),
        ({"question": "ok", "top_k": 2.5}, "top_k"),
        ({"question": "ok", "top_k": True}, "top_k"),
        ({"question": "ok", "top_k": "5x"}, "top_k"),
        ({"question": "ok", "top_k": None}, "top_k"),
        ({"question": 42}, "question"),
        ({"question": ["a", "list"]}, "question"),
        ({"question": None}, "question"),
        ({"question": "ok", "history": "not a list"}, "history"),
        ({"question": "ok", "history": [None]}, "history.0"),
    ],
)
def test_bad_fields_are_a_readable_422(client, payload, field):
    detail = assert_readable_error(client.post("/ask", json=payload), 422)
    assert field in detail
    assert "a" * 1001 not in detail and "q" * 1001 not in detail


@pytest.mark.parametrize("body", [b"[]", b"[1, 2]", b"42", b"null", b'"a string"', b"true", b"{", b"",
                                  b'{"question": NaN}', b'{"question": "ok", "top_k": Infinity}',
                                  b"[" * 50_000, b'{"question": "\\ud800"}', b'{"question": "\\udfff lone"}',
                                  b'{"question": "ok", "history": [{"question": "q", "answer": "a \\udc00"}]}',
                                  b'{"question": "ok", "history": [{"question": "\\ud83d", "answer": "a"}]}'])
def test_json_that_is_not_a_request_object_is_a_422(client, body):
    for path in ("/ask", "/chat/turn"):
        assert_readable_error(client.post(path, content=body, headers={"content-type": "application/json"}), 422)


@pytest.mark.parametrize("body", [b'{"question": "caf\xe9"}', b"\xff\xfe{}", b'{"question": "\xed\xa0\x80"}'])
def test_invalid_utf8_is_a_422(client, body):
    for path in ("/ask", "/chat/turn"):
        detail = assert_readable_error(client.post(path, content=body, headers={"content-type": "application/json"}),
                                       422)
        assert "UTF-8" in detail


def test_history_answer_limit_is_1000_characters_after_which_nothing_is_lost(client):
    long_answer = "é" * 1000
    ok = client.post("/ask", json={"question": QUESTION, "history": [{"question": "Hi?", "answer": long_answer}] * 10})
    assert ok.status_code == 200
    # The question is trimmed before use; the limit is on what was sent.
    assert client.post("/ask", json={"question": "  " + QUESTION + "\n"}).json()["question"] == QUESTION
    assert client.post("/ask", json={"question": "x" * 1000}).status_code == 200
    assert client.post("/ask", json={"question": QUESTION, "top_k": 3.0}).status_code == 200  # a JSON integer too
    # Tabs and line breaks are fine inside a question and an answer.
    assert client.post("/ask", json={"question": "coffee\tproducer\nBrazil?",
                                     "history": [{"question": "a\r\nb", "answer": "c\td\n"}]}).status_code == 200


@pytest.mark.parametrize(
    "headers, body",
    [
        ({"content-type": "text/plain"}, json.dumps({"question": QUESTION})),
        ({"content-type": "application/x-www-form-urlencoded"}, "question=hello"),
        ({"content-type": "multipart/form-data; boundary=x"}, "--x\r\nContent-Disposition: form-data; "
         'name="question"\r\n\r\nhello\r\n--x--\r\n'),
        ({"content-type": "application/xml"}, "<question>hello</question>"),
        ({}, json.dumps({"question": QUESTION})),
    ],
)
def test_wrong_content_type_is_a_readable_415(client, headers, body):
    for path in ("/ask", "/chat/turn"):
        r = client.post(path, content=body.encode(), headers=headers)
        assert "Content-Type: application/json" in assert_readable_error(r, 415)
    # JSON with a charset or a +json type is fine
    for content_type in ("application/json; charset=utf-8", "application/vnd.api+json"):
        r = client.post("/ask", content=json.dumps({"question": QUESTION}), headers={"content-type": content_type})
        assert r.status_code == 200


@pytest.mark.parametrize("method, path", [("GET", "/ask"), ("PUT", "/ask"), ("DELETE", "/ask"), ("PATCH", "/ask"),
                                          ("GET", "/chat/turn"), ("POST", "/health"), ("POST", "/api/articles"),
                                          ("DELETE", "/api/articles/coffee"), ("POST", "/articles/coffee"),
                                          ("PUT", "/")])
def test_wrong_method_is_a_405_with_allow(client, method, path):
    r = client.request(method, path)
    assert_readable_error(r, 405)
    assert r.headers["allow"]


def test_body_limit_by_content_length_is_a_413_before_parsing(client):
    big = json.dumps({"question": "x" * 70_000}).encode()
    for path in ("/ask", "/chat/turn", "/health", "/api/articles"):
        r = client.post(path, content=big, headers={"content-type": "application/json"})
        detail = assert_readable_error(r, 413)
        assert "65536" in detail and "QA_MAX_BODY_BYTES" in detail
        assert r.headers["connection"] == "close"
        assert "xxxx" not in r.text
    # A declared length over the limit is refused without reading a byte of the body.
    refused = []

    async def app_reads(scope, receive, send):  # pragma: no cover - must never run
        refused.append(scope)

    from qa.app import RequestGuard

    guard = RequestGuard(app_reads, max_body_bytes=65_536)
    sent = []

    async def receive():  # pragma: no cover - must never be called
        raise AssertionError("the body was read")

    async def send(message):
        sent.append(message)

    import asyncio

    asyncio.run(guard({"type": "http", "method": "POST", "path": "/ask",
                       "headers": [(b"content-length", b"10000000"), (b"content-type", b"application/json")]},
                      receive, send))
    assert refused == [] and sent[0]["status"] == 413


def test_body_limit_counts_streamed_bytes_of_chunked_bodies(client):
    def chunks():
        for _ in range(20):
            yield b" " * 4096  # JSON white space: valid up to here, but 80 KiB in all

    r = client.post("/ask", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in r.request.headers  # it really was chunked
    assert_readable_error(r, 413)
    # A body just under the limit gets through to validation.
    body = b'{"question": "' + b"x" * 999 + b'"}' + b" " * (65_536 - 1015)
    assert len(body) <= 65_536
    assert client.post("/ask", content=body, headers={"content-type": "application/json"}).status_code == 200


def test_body_limit_is_a_setting(tiny_settings, tiny_assistant):
    with TestClient(create_app(_settings(tiny_settings, max_body_bytes=2048), tiny_assistant)) as c:
        assert c.post("/ask", json={"question": "x" * 1000}).status_code == 200
        assert c.post("/ask", json={"question": "ok", "history": [{"question": "x" * 1000}] * 3}).status_code == 413
    assert Settings.from_env({"QA_MAX_BODY_BYTES": "4096"}).max_body_bytes == 4096
    with pytest.raises(SettingsError):
        Settings.from_env({"QA_MAX_BODY_BYTES": "10"})


def test_bad_query_parameters_are_4xx(client):
    assert client.get("/", params={"q": "bad\x00nul"}).status_code == 422
    page = client.get("/", params={"q": "bell\x07 and \x1b escape"})
    assert page.status_code == 422 and "\x07" not in page.text and "\x1b" not in page.text
    assert client.get("/", params={"q": "x" * 5000}).status_code == 422
    assert client.get("/", params={"q": QUESTION, "h": ["a\x00"]}).status_code == 422
    assert client.get("/articles/coffee", params={"hl": "1" * 500}).status_code == 422
    assert client.post("/chat/turn?index=-1", json={"question": QUESTION}).status_code == 422
    assert client.post("/chat/turn?index=99999999999999999999", json={"question": QUESTION}).status_code == 422
    assert client.post("/chat/turn?index=abc", json={"question": QUESTION}).status_code == 422


# Schemathesis: the app's own OpenAPI schema, in process, bounded and seeded.

@pytest.fixture
def api_schema(app):
    config = SchemathesisConfig.from_dict({
        "seed": 7,
        "generation": {"max-examples": 50, "database": "none", "deterministic": True},
    })
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_openapi_schema_holds_for_generated_requests(case):
    response = case.call_and_validate()
    assert response.status_code < 500
    assert response.headers.get("x-content-type-options") == ["nosniff"]


@pytest.fixture
def keyed_api_schema(tiny_settings, tiny_assistant):
    app = create_app(_settings(tiny_settings, api_keys="team:team-key-0123456"), tiny_assistant)
    config = SchemathesisConfig.from_dict({
        "seed": 11,
        "generation": {"max-examples": 30, "database": "none", "deterministic": True},
    })
    return _keyed_schema(app, config)


def _keyed_schema(app, config):
    # The schema itself is behind the keys too: load it with one, then send one with every case.
    from fastapi.testclient import TestClient as Client

    with Client(app) as client:
        document = client.get("/openapi.json", headers={"X-API-Key": "team-key-0123456"}).json()
    loaded = schemathesis.openapi.from_dict(document, config=config)
    loaded.app = app
    return loaded


keyed_schema = schemathesis.pytest.from_fixture("keyed_api_schema")


@keyed_schema.parametrize()
def test_openapi_schema_holds_with_api_keys_on(case):
    response = case.call_and_validate(app=case.operation.schema.app, headers={"X-API-Key": "team-key-0123456"})
    assert response.status_code < 500 and response.status_code not in (401, 429)


# --- 2. headers ---------------------------------------------------------------------------------

def assert_security_headers(response, docs: bool = False):
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    if not docs:
        assert csp == CSP and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert not any(name.lower().startswith("access-control-") for name in response.headers)


def test_security_headers_on_every_kind_of_response(client):
    big = b"{" + b" " * 70_000 + b"}"
    html = {"accept": "text/html"}
    responses = {
        "page": client.get("/"),
        "answer page": client.get("/", params={"q": QUESTION}),
        "article page": client.get("/articles/coffee"),
        "api": client.post("/ask", json={"question": QUESTION}),
        "fragment": client.post("/chat/turn", json={"question": QUESTION}),
        "health": client.get("/health"),
        "openapi": client.get("/openapi.json"),
        "404 api": client.get("/api/articles/nope"),
        "404 page": client.get("/articles/nope", headers=html),
        "404 route": client.get("/no/such/route"),
        "404 static": client.get("/static/nope.js"),
        "405": client.get("/ask"),
        "413": client.post("/ask", content=big, headers={"content-type": "application/json"}),
        "415": client.post("/ask", content=b"q=1", headers={"content-type": "text/plain"}),
        "422": client.post("/ask", json={"question": ""}),
        "422 page": client.get("/", params={"q": ""}),
        "static": client.get("/static/chat.js"),
        "static css": client.get("/static/app.css"),
        "head": client.head("/static/app.css"),
        "docs static": client.get("/docs-static/swagger-ui.css"),
        "cross-origin": client.get("/api/articles", headers={"origin": "https://evil.example"}),
        "preflight": client.options("/ask", headers={"origin": "https://evil.example",
                                                     "access-control-request-method": "POST"}),
    }
    for name, response in responses.items():
        assert response.status_code < 500, name
        assert_security_headers(response)
    assert responses["static"].headers["content-type"].startswith("text/javascript")
    docs = client.get("/docs")
    assert_security_headers(docs, docs=True)
    assert "'unsafe-inline'" in docs.headers["content-security-policy"]  # Swagger UI's own inline script
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]


def test_pages_run_no_inline_script(client):
    import re

    for page in (client.get("/").text, client.get("/", params={"q": QUESTION}).text,
                 client.get("/articles/coffee").text, client.get("/articles/nope", headers={"accept": "text/html"}).text,
                 client.post("/chat/turn", json={"question": QUESTION}).text):
        for tag in re.findall(r"<script\b[^>]*>", page, re.I):
            assert 'src="/static/' in tag
        assert not re.search(r"\son[a-z]+\s*=", page, re.I)  # no inline event handlers
        assert "javascript:" not in page.lower()


def test_500_has_headers_and_no_stack_trace_and_the_next_request_works(tiny_settings, tiny_assistant, caplog):
    class Flaky:
        """Fails once, like a fault in the middle of an answer; then answers normally."""

        def __init__(self, inner):
            self.inner, self.failed = inner, False

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def ask(self, *args):
            if not self.failed:
                self.failed = True
                raise RuntimeError("secret internal detail")
            return self.inner.ask(*args)

    with TestClient(create_app(_settings(tiny_settings), Flaky(tiny_assistant)), raise_server_exceptions=False) as c:
        r = c.post("/ask", json={"question": QUESTION})
        detail = assert_readable_error(r, 500)
        assert "secret" not in r.text and "internal error" in detail
        assert_security_headers(r)
        assert c.post("/ask", json={"question": QUESTION}).json()["answerable"] is True
    assert "secret internal detail" in caplog.text  # the log has it, the client does not


def test_cors_only_when_configured(tiny_settings, tiny_assistant):
    settings = _settings(tiny_settings, cors_origins="https://a.example, https://b.example/")
    with TestClient(create_app(settings, tiny_assistant)) as c:
        allowed = c.post("/ask", json={"question": QUESTION}, headers={"origin": "https://a.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://a.example"
        other = c.post("/ask", json={"question": QUESTION}, headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        preflight = c.options("/ask", headers={"origin": "https://b.example", "access-control-request-method": "POST",
                                               "access-control-request-headers": "content-type"})
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "https://b.example"
        assert preflight.headers["x-content-type-options"] == "nosniff"
    assert Settings.from_env({"QA_CORS_ORIGINS": "*"}).cors_origin_list == ["*"]
    assert Settings.from_env({}).cors_origin_list == []
    with pytest.raises(SettingsError, match="QA_CORS_ORIGINS"):
        Settings.from_env({"QA_CORS_ORIGINS": "evil.example"})


# --- 3. corpus ----------------------------------------------------------------------------------

def _read_in_thread(corpus: Path, **kwargs):
    """Ingestor().read with a deadline: a read that blocks (a FIFO) fails the test instead of hanging it."""
    from qa.ingest import Ingestor

    result = {}
    thread = threading.Thread(target=lambda: result.update(report=Ingestor(**kwargs).read(corpus)), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "reading the corpus blocked"
    return result["report"]


def test_corpus_skips_what_it_must_and_counts_it(tmp_path, fake_embedder):
    from qa.pipeline import build_index

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("The secret launch code is 0000.")
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "ok.txt").write_text("Volcanoes erupt when magma rises to the surface.")
    (corpus / "inside-link.txt").symlink_to(corpus / "ok.txt")
    (corpus / "secret-link.txt").symlink_to(outside / "secret.txt")
    (corpus / "outside-dir").symlink_to(outside, target_is_directory=True)
    (corpus / "etc.txt").symlink_to("/etc/passwd")
    (corpus / "loop.txt").symlink_to(corpus / "loop.txt")
    (corpus / "sub" / "up").symlink_to(corpus, target_is_directory=True)  # a folder loop
    (corpus / "dangling.txt").symlink_to(corpus / "missing.txt")
    os.mkfifo(corpus / "pipe.txt")
    os.mkfifo(corpus / "sub" / "pipe.md")
    (corpus / "binary.txt").write_bytes(b"PK\x03\x04\x00\x00 zip bytes")
    (corpus / "huge.txt").write_text("big " * 2000)
    (corpus / "image.png").write_bytes(b"\x89PNG")
    report = _read_in_thread(corpus, max_file_bytes=4000)
    texts = " ".join(a.text for a in report.articles)
    assert "secret" not in texts and "root:" not in texts
    assert sorted(a.id for a in report.articles) == ["inside-link", "ok"]
    assert report.skipped["symlink outside the corpus"] == 3  # secret-link, outside-dir, etc
    assert report.skipped["not a regular file"] == 2  # the FIFOs
    assert report.skipped["binary (NUL bytes)"] == 1
    assert report.skipped["larger than QA_MAX_FILE_BYTES"] == 1
    assert report.skipped["unsupported type (.png)"] == 1
    assert report.skipped["unreadable"] + report.skipped["not a regular file"] >= 3  # loop, dangling
    built = build_index(Settings.from_env({}, corpus=corpus, index=tmp_path / "index", max_file_bytes=4000),
                        fake_embedder)
    summary = built.summary()
    for reason in ("symlink outside the corpus", "not a regular file", "binary (NUL bytes)",
                   "larger than QA_MAX_FILE_BYTES"):
        assert reason in summary


def test_non_utf8_text_is_decoded_and_unprintable_characters_are_neutralised(tmp_path, fake_embedder):
    from qa.pipeline import Assistant, build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "latin1.txt").write_bytes("Le café de Zoë est très réputé à Genève.".encode("latin-1"))
    (corpus / "cp1252.txt").write_bytes("Smart “quotes” and an em dash — in Windows text.".encode("cp1252"))
    (corpus / "broken.txt").write_bytes(b"Broken bytes \x81\x8d\x8f\x90\x9d here, and UTF-8 caf\xc3\xa9 \xff\xfe too.")
    (corpus / "utf16.txt").write_bytes("Text saved as UTF-16 by an old editor.".encode("utf-16"))
    (corpus / "escapes.txt").write_bytes(b"Terminal \x1b[2J\x1b]0;pwned\x07 escapes and a form\x0cfeed.")
    record = ('{"id": "surrogate", "title": "Bad \\ud800 title", "text": "A lone \\udc00 surrogate and a NUL '
              '\\u0000 here.", "url": "https://example.org/\\u0000"}')
    nested = "[" * 50_000  # nested too deep to parse: skipped, not a crash
    (corpus / "records.jsonl").write_text(f'{record}\n{nested}\n"just a string"\n', encoding="utf-8")
    report = _read_in_thread(corpus)
    by_id = {a.id: a for a in report.articles}
    assert by_id["latin1"].text.startswith("Le café de Zoë")
    assert "“quotes”" in by_id["cp1252"].text and "—" in by_id["cp1252"].text
    assert by_id["broken"].text.startswith("Broken bytes")
    assert by_id["utf16"].text == "Text saved as UTF-16 by an old editor."
    assert "\x1b" not in by_id["escapes"].text and "\x07" not in by_id["escapes"].text
    assert len(by_id["escapes"].text) == len("Terminal \x1b[2J\x1b]0;pwned\x07 escapes and a form\x0cfeed.")
    record = by_id["surrogate"]
    assert "\ufffd" in record.title and "\ufffd" in record.text and "\x00" not in record.text + record.url
    assert report.skipped["jsonl line without a text string"] == 2

    settings = Settings.from_env({}, corpus=corpus, index=tmp_path / "index", min_confidence=0.0, reload_interval=0)
    build_index(settings, fake_embedder)
    with TestClient(create_app(settings, Assistant.load(settings, fake_embedder)), raise_server_exceptions=False) as c:
        assert c.get("/api/articles/surrogate").status_code == 200
        assert c.get("/articles/surrogate").status_code == 200
        assert c.get("/api/articles").status_code == 200
        first = c.post("/ask", json={"question": "lone surrogate NUL terminal escapes"})
        assert first.status_code == 200
        # What was served can be sent back as history: nothing in it trips the validation.
        turn = {"question": first.json()["question"], "answer": first.json()["answer"][:1000]}
        assert c.post("/ask", json={"question": "And then?", "history": [turn]}).status_code == 200


def test_empty_corpus_is_a_clear_message(tmp_path, fake_embedder):
    from qa.pipeline import CorpusError, build_index

    corpus = tmp_path / "empty"
    corpus.mkdir()
    (corpus / "notes.pdf").write_bytes(b"%PDF")
    with pytest.raises(CorpusError, match=r"no articles found .*1 files skipped.*add \.txt, \.md, \.html, \.jsonl, \.pdf or \.docx"):
        build_index(Settings.from_env({}, corpus=corpus, index=tmp_path / "index"), fake_embedder)


def test_top_k_beyond_the_passage_count_is_fine(tmp_path, fake_embedder):
    from qa.pipeline import Assistant, build_index

    corpus = tmp_path / "one"
    corpus.mkdir()
    (corpus / "only.txt").write_text("Hekla is one of the most active volcanoes in Iceland.")
    settings = Settings.from_env({}, corpus=corpus, index=tmp_path / "index", min_confidence=0.0, reload_interval=0)
    build_index(settings, fake_embedder)
    assistant = Assistant.load(settings, fake_embedder)
    with TestClient(create_app(settings, assistant)) as c:
        r = c.post("/ask", json={"question": "Which volcano is active?", "top_k": 20})
        assert r.status_code == 200
        body = r.json()
        assert 1 <= len(body["passages"]) <= assistant.health()["passages"]
        assert all(p["article_id"] == "only" for p in body["passages"])
        page = c.get("/", params={"q": "Which volcano is active?"})
        assert page.status_code == 200


# --- 4. paths -----------------------------------------------------------------------------------

TRAVERSALS = [
    "/articles/..%2F..%2Fetc%2Fpasswd",
    "/articles/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/articles/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/articles/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/articles/..%5C..%5Cetc%5Cpasswd",
    "/articles/..\\..\\etc\\passwd",
    "/articles/coffee%00",
    "/articles/%00",
    "/articles/%2e%2e",
    "/articles/%2e",
    "/articles/%C0%AE%C0%AE%2F%C0%AE%C0%AE%2Fetc%2Fpasswd",
    "/api/articles/..%2F..",
    "/api/articles/..%2F..%2Fqa%2Fconfig.py",
    "/api/articles/%2e%2e",
    "/api/articles/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/api/articles/%252e%252e%252f%252e%252e",
    "/api/articles/..%5C..%5Cqa%5Cconfig.py",
    "/api/articles/%00",
    "/api/articles/..%00.txt",
    "/api/articles/%ff%fe",
    "/static/..%2F..%2Fqa%2Fconfig.py",
    "/static/%2e%2e/%2e%2e/qa/config.py",
    "/static/%2e%2e%2f%2e%2e%2fqa%2fconfig.py",
    "/static/..%5C..%5Cqa%5Cconfig.py",
    "/static/%252e%252e%252fREADME.md",
    "/static/chat.js%00.png",
    "/docs-static/..%2F..%2F..%2Fetc%2Fpasswd",
]


def assert_no_file_leaked(status: int, text: str):
    assert status in (400, 404, 405, 422), status
    assert "root:" not in text and "SETTINGS_DOC" not in text and "qa — answers quoted" not in text


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_id_or_url_reads_outside_the_index(client, path):
    for accept in ("text/html", "application/json"):
        r = client.get(path, headers={"accept": accept})
        assert_no_file_leaked(r.status_code, r.text)


def _raw_get(port: int, target: str) -> tuple[int, str]:
    """Send the request line as given: no client-side normalisation of '..' segments."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("latin-1"))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace")


# --- 5. load ------------------------------------------------------------------------------------

def test_raw_traversal_paths_on_a_real_server(app):
    with LiveServer(app) as server:
        for target in ["/static/../../qa/config.py", "/static/../../../../etc/passwd", "/static/..\\..\\README.md",
                       "/articles/../../etc/passwd", "/api/articles/../../etc/passwd", "/docs-static/../../etc/passwd",
                       "/static//etc/passwd", "/static/%2e%2e/%2e%2e/README.md", *TRAVERSALS]:
            status, body = _raw_get(server.port, target)
            assert_no_file_leaked(status, body)
        # A malformed chunked body and a lying Content-Length are the server's to refuse, not a 500.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(b"POST /ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
            reply = s.recv(65536)
        assert not reply.startswith(b"HTTP/1.1 5")


def _ask_many(url: str, clients: int, per_client: int, path: str = "/ask", timeout: float = 15):
    """``clients`` threads, each asking ``per_client`` times; returns (status, seconds, response) tuples."""
    def one_client(n: int):
        results = []
        with httpx.Client(base_url=url, timeout=timeout) as http:
            for i in range(per_client):
                started = time.perf_counter()
                try:
                    r = http.post(path, json={"question": f"{QUESTION} {n} {i}", "top_k": 3})
                    results.append((r.status_code, time.perf_counter() - started, r))
                except httpx.TimeoutException:
                    results.append(("timeout", time.perf_counter() - started, None))
        return results

    with ThreadPoolExecutor(clients) as pool:
        return [item for part in pool.map(one_client, range(clients)) for item in part]


def test_sixteen_concurrent_clients_get_answers(tiny_settings, tiny_assistant):
    settings = _settings(tiny_settings)
    assert settings.max_concurrency == 8 and settings.queue_timeout == 2.0  # the defaults
    with LiveServer(create_app(settings, tiny_assistant)) as server:
        results = _ask_many(server.url, clients=16, per_client=6)
        results += _ask_many(server.url, clients=16, per_client=2, path="/chat/turn")
    statuses = [status for status, _, _ in results]
    assert statuses.count(200) == len(statuses) == 16 * 8, sorted(set(map(str, statuses)))


class SlowEmbedder:
    """The fake embedder, but every query takes ``delay`` seconds: an overloaded model."""

    def __init__(self, inner, delay: float):
        self.inner, self.delay = inner, delay

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode(self, texts, **kwargs):
        time.sleep(self.delay)
        return self.inner.encode(texts, **kwargs)

    def encode_with_tokens(self, texts, *args, **kwargs):
        time.sleep(self.delay)
        return self.inner.encode_with_tokens(texts, *args, **kwargs)


def test_over_the_limit_requests_get_a_quick_503_not_a_timeout(tiny_settings, tiny_assistant, fake_embedder):
    from qa.pipeline import Assistant

    settings = _settings(tiny_settings, max_concurrency=1, queue_timeout=0.3)
    slow = Assistant.load(settings, SlowEmbedder(fake_embedder, delay=0.4))
    with LiveServer(create_app(settings, slow)) as server:
        results = _ask_many(server.url, clients=8, per_client=2, timeout=10)
        results += _ask_many(server.url, clients=4, per_client=1, path="/chat/turn", timeout=10)
        with httpx.Client(base_url=server.url, timeout=10) as http:  # the slots were all given back
            assert http.post("/ask", json={"question": QUESTION}).status_code == 200
            busy = [r for status, _, r in results if status == 503]
    statuses = [status for status, _, _ in results]
    assert "timeout" not in statuses
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 2 and statuses.count(503) >= 4, statuses
    for r in busy:
        assert r.headers["retry-after"] == "1"
        assert "busy" in r.json()["detail"]
        assert_security_headers(r)
    assert Settings.from_env({"QA_MAX_CONCURRENCY": "3", "QA_QUEUE_TIMEOUT": "0.5"}).max_concurrency == 3
    with pytest.raises(SettingsError):
        Settings.from_env({"QA_MAX_CONCURRENCY": "0"})


@pytest.mark.browser
def test_chat_follow_ups_after_a_long_answer_stay_within_the_history_limit(tmp_path, fake_embedder):
    """chat.js cuts the answers it sends back as history to 1000 characters: follow-ups never get a 422."""
    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip(f"{chromium} is not installed")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    from qa.pipeline import Assistant, build_index

    corpus = tmp_path / "long"
    corpus.mkdir()
    clause = "the glacier moved slowly across the valley floor while ice crystals sparkled in the morning sun"
    sentences = [f"Glacier sentence {n} says that {', and '.join([clause] * 11)} — emoji 🧊 included." for n in range(4)]
    (corpus / "glaciers.txt").write_text(" ".join(sentences))
    settings = Settings.from_env({}, corpus=corpus, index=tmp_path / "index", min_confidence=0.0, reload_interval=0)
    build_index(settings, fake_embedder)
    sent = []
    with LiveServer(create_app(settings, Assistant.load(settings, fake_embedder))) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.on("request", lambda r: sent.append(json.loads(r.post_data)) if "/chat/turn" in r.url else None)
        page.goto(server.url + "/")
        box = page.get_by_label("Your question")
        for n, question in enumerate(["What does the glacier sentence say?", "And the ice crystals?",
                                      "What about the valley floor?"]):
            box.fill(question)
            box.press("Enter")
            page.locator(f"#turn-{n}").wait_for(timeout=10_000)
        long_answer = page.locator("#turn-0").get_attribute("data-answer")
        assert len(long_answer) > 1000  # the case that needs cutting
        assert page.locator("#form-error").is_hidden()
        browser.close()
    assert len(sent) == 3 and len(sent[2]["history"]) == 2
    for body in sent:
        for turn in body["history"]:
            assert len(turn["answer"]) <= 1000 and len(turn["question"]) <= 1000
    assert long_answer.startswith(sent[1]["history"][0]["answer"])


class GatedEmbedder:
    """The fake embedder, but a query waits until the test opens the gate: an answer held in flight."""

    def __init__(self, inner):
        self.inner, self.entered, self.gate = inner, threading.Event(), threading.Event()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode(self, texts, **kwargs):
        self.entered.set()
        assert self.gate.wait(20), "the gate was never opened"
        return self.inner.encode(texts, **kwargs)

    def encode_with_tokens(self, texts, *args, **kwargs):
        self.entered.set()
        assert self.gate.wait(20), "the gate was never opened"
        return self.inner.encode_with_tokens(texts, *args, **kwargs)


@pytest.mark.parametrize("queue_timeout", [0.0, 0.5])
def test_busy_means_503_with_retry_after_on_every_answering_route(tiny_settings, fake_embedder, queue_timeout):
    from qa.pipeline import Assistant, build_index

    settings = _settings(tiny_settings, max_concurrency=1, queue_timeout=queue_timeout)
    build_index(settings, fake_embedder)
    gated = GatedEmbedder(fake_embedder)
    with LiveServer(create_app(settings, Assistant.load(settings, gated))) as server, \
            httpx.Client(base_url=server.url, timeout=10) as http, ThreadPoolExecutor(1) as pool:
        gated.gate.set()
        assert http.post("/ask", json={"question": QUESTION}).status_code == 200  # a free slot: no wait
        gated.gate.clear()
        gated.entered.clear()  # set by the first request: wait for the held one to be inside
        held = pool.submit(http.post, "/ask", json={"question": QUESTION})  # takes the only slot
        assert gated.entered.wait(10)
        refusals = {
            "/ask": http.post("/ask", json={"question": QUESTION}),
            "/chat/turn": http.post("/chat/turn", json={"question": QUESTION}),
            "/?q=": http.get("/", params={"q": QUESTION}, headers={"accept": "text/html"}),
        }
        assert http.get("/health").status_code == 200  # reads are not limited
        assert http.post("/ask", json={"question": ""}).status_code == 422  # nor is refusing bad input
        gated.gate.set()
        assert held.result().status_code == 200
        assert http.post("/ask", json={"question": QUESTION}).status_code == 200  # the slot came back
    for route, r in refusals.items():
        assert r.status_code == 503, route
        assert r.headers["retry-after"] == "1", route
        assert "busy" in (r.json()["detail"] if route != "/?q=" else r.text), route
        assert_security_headers(r)
