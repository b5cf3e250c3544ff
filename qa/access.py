"""Who may ask: API keys (``QA_API_KEYS``, ``QA_API_KEYS_FILE``), a signed session cookie for the chat, and a
slow-down for addresses that keep sending wrong keys. Stdlib only; off (everything open) when no key is set.

- The API takes a key as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``; the admin routes keep
  ``Authorization`` for the admin token, so there the key comes as ``X-API-Key`` or the session cookie.
- The chat's sign-in page (``/signin``) sets an HttpOnly, SameSite=Strict cookie holding the key's name
  and an expiry, signed with HMAC-SHA256; the key itself never leaves the form, and is never logged.
- Keys are compared in constant time, each against every configured key, so the time does not say how
  close a guess was. After ``MAX_FAILURES`` wrong keys within ``WINDOW`` seconds an address gets 429
  with Retry-After until the window has passed.
- Open without a key: ``/health``, the sign-in page and the static files it needs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import defaultdict, deque
from pathlib import Path
from urllib.parse import quote

COOKIE = "qa_session"
OPEN_PATHS = ("/health", "/signin", "/signout")
OPEN_PREFIXES = ("/static/",)
MAX_FAILURES = 10
WINDOW = 60.0


def json_refusal(status: int, detail: str, headers: dict[str, str] | None = None):
    """A JSON error as raw ASGI messages (start, body): ``{"detail": ...}``, like every refusal of the app."""
    body = json.dumps({"detail": detail}).encode()
    return {
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items())],
    }, {"type": "http.response.body", "body": body}


class KeysError(ValueError):
    pass


def parse_keys(inline: str, file: str | Path | None) -> dict[str, str]:
    """name -> key, from ``name:key`` (or bare ``key``, named key-1, key-2…) items and a file of ``name:key`` lines."""
    items = [part.strip() for part in inline.split(",") if part.strip()]
    if file:
        path = Path(file)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise KeysError(f"QA_API_KEYS_FILE {str(path)!r} cannot be read: {error.strerror}") from None
        items += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    keys: dict[str, str] = {}
    for number, item in enumerate(items, 1):
        name, sep, key = item.partition(":")
        name, key = (name.strip(), key.strip()) if sep else (f"key-{number}", name.strip())
        if len(key) < 8:
            raise KeysError(f"API key {name!r} is shorter than 8 characters")
        if name in keys:
            raise KeysError(f"API key name {name!r} is used twice")
        keys[name] = key
    return keys


class KeyRing:
    """The configured keys: which name a key belongs to, and signed session cookies for a name."""

    def __init__(self, keys: dict[str, str], session_hours: float = 12.0, secret: bytes | None = None):
        self.keys = {name: key.encode() for name, key in keys.items()}
        self.session_seconds = int(session_hours * 3600)
        # Derived from the keys: a cookie outlives a restart, and dies when its keys change.
        material = "\n".join(f"{n}:{k}" for n, k in sorted(keys.items())).encode()
        self.secret = secret or hashlib.sha256(b"qa-session\n" + material).digest()

    def __bool__(self) -> bool:
        return bool(self.keys)

    def name_of(self, given: str | None) -> str | None:
        """The key's name, or None; every configured key is compared, each in constant time."""
        candidate = (given or "").encode()
        found = None
        for name, key in self.keys.items():
            if hmac.compare_digest(candidate, key):
                found = name
        return found

    def cookie_for(self, name: str, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + self.session_seconds)
        # no '=' padding: a cookie value with '=' is sent back quoted
        payload = f"{base64.urlsafe_b64encode(name.encode()).decode().rstrip('=')}.{expires}"
        return f"{payload}.{self._sign(payload)}"

    def name_from_cookie(self, value: str | None, now: float | None = None) -> str | None:
        """The name a valid, unexpired cookie was issued for (and whose key is still configured), else None."""
        try:
            encoded, expires, signature = (value or "").split(".")
            if not hmac.compare_digest(signature, self._sign(f"{encoded}.{expires}")):
                return None
            if int(expires) < (time.time() if now is None else now):
                return None
            name = base64.urlsafe_b64decode(encoded.encode() + b"=" * (-len(encoded) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return name if name in self.keys else None

    def _sign(self, payload: str) -> str:
        return hmac.new(self.secret, payload.encode(), hashlib.sha256).hexdigest()


class Throttle:
    """Wrong keys per address in a sliding window; past the limit, how long until it may try again."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = WINDOW):
        self.limit, self.window = limit, window
        self._failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, address: str, now: float | None = None) -> int | None:
        now = time.monotonic() if now is None else now
        with self._lock:
            failures = self._failures.get(address)
            if not failures:
                return None
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if len(failures) < self.limit:
                return None
            return max(1, int(failures[0] + self.window - now) + 1)

    def fail(self, address: str, now: float | None = None) -> None:
        with self._lock:
            failures = self._failures[address]
            failures.append(time.monotonic() if now is None else now)
            while len(failures) > self.limit * 2:
                failures.popleft()
            if len(self._failures) > 100_000:  # bounded memory under a spray of addresses
                self._failures.pop(next(iter(self._failures)))


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _cookie(scope, name: str) -> str | None:
    for part in _header(scope, b"cookie").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip('"')
    return None


def wants_page(scope) -> bool:
    """A browser asking for a page (not the JSON API): sent to the sign-in page rather than given a 401."""
    path = scope.get("path", "")
    return (scope.get("method") == "GET" and "text/html" in _header(scope, b"accept")
            and not path.startswith(("/api/", "/admin/")) and path not in ("/ask", "/metrics", "/openapi.json"))


class AccessGuard:
    """ASGI middleware: every route but the open ones needs a key (header) or a signed session cookie."""

    def __init__(self, app, ring: KeyRing, throttle: Throttle | None = None, open_paths: tuple[str, ...] = ()):
        self.app = app
        self.ring = ring
        self.throttle = throttle or Throttle()
        self.open_paths = (*OPEN_PATHS, *open_paths)  # /metrics, when it has its own token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.ring:
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if path in self.open_paths or path.startswith(OPEN_PREFIXES) or scope.get("method") == "OPTIONS":
            return await self.app(scope, receive, send)
        address = (scope.get("client") or ("unknown", 0))[0]
        wait = self.throttle.retry_after(address)
        if wait is not None:
            return await _reply(send, 429, "too many wrong keys from this address: try again later",
                                {"Retry-After": str(wait)})
        given = _header(scope, b"x-api-key").strip()
        if not given and not path.startswith("/admin/"):  # there Authorization carries the admin token
            scheme, _, value = _header(scope, b"authorization").partition(" ")
            given = value.strip() if scheme.lower() == "bearer" else ""
        if given:
            name = self.ring.name_of(given)
            if name is None:
                self.throttle.fail(address)
                return await _reply(send, 401, "this API key is not valid", {"WWW-Authenticate": "Bearer"})
        else:
            name = self.ring.name_from_cookie(_cookie(scope, COOKIE))
            if name is None:
                if wants_page(scope):
                    target = path + (f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else "")
                    return await _redirect(send, f"/signin?next={quote(target, safe='')}")
                return await _reply(send, 401, "an API key is required: send 'Authorization: Bearer <key>' "
                                    "(or 'X-API-Key: <key>'), or sign in at /signin", {"WWW-Authenticate": "Bearer"})
        scope.setdefault("state", {})["key_name"] = name
        return await self.app(scope, receive, send)


async def _reply(send, status: int, detail: str, headers: dict[str, str]) -> None:

    start, body = json_refusal(status, detail, headers)
    await send(start)
    await send(body)


async def _redirect(send, location: str) -> None:
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another host)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value
