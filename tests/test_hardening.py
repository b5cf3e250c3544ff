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
                                  b"[" * 50_000, b'{"question": "\\ud800"}', b'{"question": "\\udfff lone"}'])
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
        "generation": {"max-examples": 50, "database": "none"},
    })
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_openapi_schema_holds_for_generated_requests(case):
    response = case.call_and_validate()
    assert response.status_code < 500
    assert response.headers.get("x-content-type-options") == ["nosniff"]
