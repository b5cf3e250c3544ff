"""API keys and the chat's sign-in: right / wrong / missing / expired, for the API and the pages."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from qa.access import COOKIE, KeyRing, KeysError, Throttle, parse_keys, safe_next
from qa.app import create_app

KEYS = "alice:alice-key-123456,bob:bob-key-7890123"


def test_keys_come_inline_and_from_a_file(tmp_path):
    path = tmp_path / "keys"
    path.write_text("# team keys\ncarol:carol-key-55555\n\n", encoding="utf-8")
    assert parse_keys(KEYS, path) == {"alice": "alice-key-123456", "bob": "bob-key-7890123",
                                      "carol": "carol-key-55555"}
    assert parse_keys("just-a-bare-key", None) == {"key-1": "just-a-bare-key"}
    for bad in ("a:short", "a:aaaaaaaaaa,a:bbbbbbbbbb"):
        with pytest.raises(KeysError):
            parse_keys(bad, None)
    with pytest.raises(KeysError, match="cannot be read"):
        parse_keys("", tmp_path / "missing")


def test_session_cookies_are_signed_and_expire():
    ring = KeyRing(parse_keys(KEYS, None), session_hours=1)
    assert ring.name_of("bob-key-7890123") == "bob" and ring.name_of("bob-key-789012") is None
    cookie = ring.cookie_for("alice", now=1000.0)
    assert "alice-key" not in cookie
    assert ring.name_from_cookie(cookie, now=1000.0 + 3599) == "alice"
    assert ring.name_from_cookie(cookie, now=1000.0 + 3601) is None  # expired
    encoded, expires, signature = cookie.split(".")
    assert ring.name_from_cookie(f"{encoded}.{int(expires) + 99999}.{signature}", now=1000.0) is None  # tampered
    other = KeyRing(parse_keys("alice:another-key-000", None))
    assert other.name_from_cookie(cookie, now=1000.0) is None  # keys changed: old sessions end
    assert ring.name_from_cookie("garbage", now=1000.0) is None


def test_wrong_keys_are_slowed_down_per_address():
    throttle = Throttle(limit=3, window=60)
    for second in range(3):
        assert throttle.retry_after("1.2.3.4", now=100.0 + second) is None
        throttle.fail("1.2.3.4", now=100.0 + second)
    assert 55 <= throttle.retry_after("1.2.3.4", now=103.0) <= 60
    assert throttle.retry_after("5.6.7.8", now=103.0) is None
    assert throttle.retry_after("1.2.3.4", now=161.0) is None  # the window passed


def test_only_local_paths_are_followed_after_sign_in():
    assert safe_next("/library?x=1") == "/library?x=1"
    for bad in ("https://evil.example/", "//evil.example", "/\\evil", "", None):
        assert safe_next(bad) == "/"


@pytest.fixture
def keyed(tiny_settings, tiny_assistant):
    settings = replace(tiny_settings, api_keys=KEYS, admin_token="admin-token-123", reload_interval=0)
    with TestClient(create_app(settings, tiny_assistant)) as client:
        yield client


QUESTION = {"question": "When did Eyjafjallajökull erupt?"}


@pytest.mark.parametrize("headers, status", [
    ({"Authorization": "Bearer alice-key-123456"}, 200),
    ({"X-API-Key": "bob-key-7890123"}, 200),
    ({"Authorization": "Bearer alice-key-12345"}, 401),  # one character short
    ({"Authorization": "Basic alice-key-123456"}, 401),
    ({}, 401),
])
def test_the_api_needs_a_key(keyed, headers, status):
    response = keyed.post("/ask", json=QUESTION, headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer" and "key" in response.json()["detail"]
    for path in ("/api/articles", "/openapi.json", "/", "/library", "/articles/coffee"):
        assert keyed.get(path, headers=headers, follow_redirects=False).status_code in (
            (200,) if status == 200 else (401, 303))


def test_health_and_the_sign_in_page_stay_open(keyed):
    assert keyed.get("/health").status_code == 200
    assert keyed.get("/signin").status_code == 200
    assert keyed.get("/static/app.css").status_code == 200


def test_the_chat_signs_in_with_a_cookie_and_sends_strangers_to_the_sign_in_page(keyed):
    page = {"accept": "text/html"}
    redirect = keyed.get("/library?x=1", headers=page, follow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["location"] == "/signin?next=%2Flibrary%3Fx%3D1"
    wrong = keyed.post("/signin", data={"key": "nope-nope-nope", "next": "/library"}, follow_redirects=False)
    assert wrong.status_code == 401 and "That key is not valid." in wrong.text and COOKIE not in wrong.cookies
    right = keyed.post("/signin", data={"key": "bob-key-7890123", "next": "/library"}, follow_redirects=False)
    assert right.status_code == 303 and right.headers["location"] == "/library"
    set_cookie = right.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "SameSite=strict" in set_cookie and "bob-key" not in set_cookie
    assert keyed.get("/library", headers=page).status_code == 200
    assert keyed.post("/ask", json=QUESTION).status_code == 200  # the chat's own requests
    keyed.cookies.clear()
    keyed.cookies.set(COOKIE, keyed.app.state.keys.cookie_for("bob", now=0.0))  # expired long ago
    assert keyed.get("/", headers=page, follow_redirects=False).status_code == 303
    assert keyed.post("/ask", json=QUESTION).status_code == 401


def test_admin_routes_need_the_admin_token_and_a_key(keyed):
    admin = {"Authorization": "Bearer admin-token-123"}
    assert keyed.get("/admin/reindex/x", headers=admin).status_code == 401  # no key
    response = keyed.get("/admin/reindex/x", headers={**admin, "X-API-Key": "alice-key-123456"})
    assert response.status_code == 404  # through both checks: no such job
    assert keyed.get("/admin/reindex/x", headers={"X-API-Key": "alice-key-123456"}).status_code == 401


def test_repeated_wrong_keys_get_429_with_retry_after(keyed):
    for _ in range(10):
        assert keyed.post("/ask", json=QUESTION, headers={"X-API-Key": "wrong-key-000"}).status_code == 401
    blocked = keyed.post("/ask", json=QUESTION, headers={"X-API-Key": "alice-key-123456"})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    assert keyed.post("/signin", data={"key": "alice-key-123456"}, follow_redirects=False).status_code == 429


def test_without_keys_everything_stays_open(tiny_settings, tiny_assistant):
    with TestClient(create_app(tiny_settings, tiny_assistant)) as client:
        assert client.post("/ask", json=QUESTION).status_code == 200
        assert client.get("/signin", follow_redirects=False).status_code == 303
