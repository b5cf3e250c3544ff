"""The FastAPI application: ``create_app(settings, assistant)``; the lifespan loads the assistant once."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa._version import __version__
from qa.access import json_refusal
from qa.config import Settings
from qa.pipeline import Assistant, IndexProblem, Reindexer

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# The interactive docs load Swagger UI's own inline script: they get a looser policy.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'"
)
# Routes whose body is a JSON question: anything else is refused before it is parsed.
JSON_ROUTES = ("/ask", "/chat/turn", "/feedback")
UPLOAD_ROUTE = "/admin/articles"


class SecurityHeaders:
    """Adds the security headers to every HTTP response that passes through (errors, static files, /docs)."""

    def __init__(self, app):
        self.app = app
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()]
        self.docs_csp = DOCS_CSP.encode("latin-1")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        docs = scope.get("path") == "/docs"

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in self.headers:
                    if name == b"content-security-policy" and docs:
                        headers = [(n, v) for n, v in headers if n.lower() != name]
                        headers.append((name, self.docs_csp))
                    elif name not in present:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestGuard:
    """Checks a request's body before the app parses it.

    - larger than ``max_body_bytes`` (by Content-Length, or counted while a chunked body streams
      in): 413 with a readable detail, without reading the rest;
    - a POST to a JSON route with another content type (form data, text/plain): 415;
    - a JSON body that is not UTF-8: 422.

    The body is read here (at most ``max_body_bytes``) and handed on unchanged.
    """

    def __init__(self, app, max_body_bytes: int, max_upload_bytes: int = 0):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes  # uploads (POST /admin/articles) have their own limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name.lower(), value)
        limit = self.max_body_bytes
        too_large = (f"the request body is larger than {self.max_body_bytes} bytes (QA_MAX_BODY_BYTES); "
                     "questions are at most 1000 characters")
        if scope["method"] == "POST" and scope.get("path") == UPLOAD_ROUTE and self.max_upload_bytes:
            limit = self.max_upload_bytes
            too_large = f"the upload is larger than {limit} bytes (QA_MAX_UPLOAD_BYTES)"
        length = headers.get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                return await self._reply(send, 400, "the Content-Length header is not a number")
            if declared > limit:
                return await self._reply(send, 413, too_large)
        json_route = scope["method"] == "POST" and scope.get("path") in JSON_ROUTES
        content_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        not_json = "send the question as JSON with 'Content-Type: application/json', e.g. {\"question\": \"...\"}"
        if json_route and content_type and not (content_type == "application/json" or content_type.endswith("+json")):
            return await self._reply(send, 415, not_json)
        # Read the whole body (bounded) before the app sees any of it.
        chunks, size, more, first_disconnect = [], 0, True, None
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                first_disconnect = message
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await self._reply(send, 413, too_large)
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if json_route and body:
            if not content_type:
                return await self._reply(send, 415, not_json)
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                return await self._reply(send, 422, "the request body is not valid UTF-8 JSON")
        replayed = False

        async def replay():
            nonlocal replayed
            if first_disconnect is not None:
                return first_disconnect
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the server would

        await self.app(scope, replay, send)

    @staticmethod
    async def _reply(send, status: int, detail: str) -> None:
        # The connection closes: the unread rest of a refused body is not parsed as a next request.
        start, body = json_refusal(status, detail, {"Connection": "close"})
        await send(start)
        await send(body)


def create_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    from qa.access import KeyRing, KeysError, Throttle, parse_keys
    from qa.config import SettingsError

    try:
        ring = KeyRing(parse_keys(settings.api_keys, settings.api_keys_file or None), settings.session_hours)
    except KeysError as error:
        raise SettingsError(str(error)) from None

    def refresh() -> None:
        """Load the index if none is loaded yet, or switch to a newer version."""
        if app.state.assistant is None:
            try:
                app.state.assistant = Assistant.load(settings)
                app.state.load_error = None
            except IndexProblem as error:
                app.state.load_error = str(error)
                return
        else:
            app.state.assistant.reload_if_changed()
        if settings.admin_token and app.state.reindexer is None:
            app.state.reindexer = Reindexer(app.state.assistant, on_finish=app.state.metrics.observe_rebuild)

    async def watch_index() -> None:
        while True:
            await asyncio.sleep(settings.reload_interval)
            try:
                await run_in_threadpool(refresh)
            except Exception:  # a watcher that dies would silently stop updates: log and go on
                log.exception("checking the index for a new version failed")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await run_in_threadpool(refresh)
        if app.state.load_error:
            log.error("%s", app.state.load_error)
        watcher = asyncio.create_task(watch_index()) if settings.reload_interval > 0 else None
        yield
        if watcher is not None:
            watcher.cancel()
        await run_in_threadpool(app.state.feedback.flush)  # the questions still queued

    app = FastAPI(
        title="qa",
        version=__version__,
        description="Extractive answers with citations from a collection of articles. Every quoted "
        "sentence is copied verbatim; `start`/`end` are character offsets in the article text.",
        lifespan=lifespan,
        docs_url=None,
    )
    app.state.settings = settings
    app.state.keys = ring
    app.state.keys_throttle = Throttle()  # wrong keys per address, for the API and the sign-in form alike
    from qa.feedback import FILE_NAME, FeedbackStore

    app.state.feedback = FeedbackStore(Path(settings.data_dir or settings.index) / FILE_NAME,
                                       log_questions=bool(settings.log_questions))
    app.state.assistant = assistant
    app.state.load_error = None
    app.state.reindexer = None

    from qa import api, pages
    from qa.metrics import CONTENT_TYPE, Metrics, ObserveRequests

    app.state.metrics = Metrics(app.state)
    app.state.answer_slots = api.AnswerSlots(settings.max_concurrency, settings.queue_timeout)

    app.include_router(api.router)
    if settings.admin_token:
        app.include_router(api.admin_router)
    pages.mount(app, settings)

    @app.exception_handler(RequestValidationError)
    async def readable_validation_error(request: Request, exc: RequestValidationError):
        # FastAPI's default handler echoes the input back (and fails on lone surrogates): say what is
        # wrong and where, without repeating what was sent.
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
            message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
            problems.append({"field": where, "message": message})
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems) or "invalid request"
        return JSONResponse({"detail": summary, "errors": problems}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        headers = getattr(exc, "headers", None)
        if exc.status_code == 400 and isinstance(exc.__cause__, (ValueError, RecursionError)):
            # FastAPI's "error parsing the body" (e.g. JSON nested thousands deep): bad input, say so
            return JSONResponse({"detail": "the request body is not valid JSON (or nested too deeply)",
                                 "errors": [{"field": "body", "message": "invalid JSON"}]}, status_code=422)
        if pages.wants_html(request) and exc.status_code in (404, 503):
            response = pages.error_page(request, exc.status_code, str(exc.detail))
            response.headers.update(headers or {})
            return response
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        # Sent by Starlette's outermost middleware, past SecurityHeaders: add them here.
        return JSONResponse({"detail": "internal error; the server log has the details"}, status_code=500,
                            headers=SECURITY_HEADERS)

    # Outermost last: SecurityHeaders sees every response, CORS (when configured) answers preflights,
    # RequestGuard refuses bad bodies before any route parses them.
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes,
                       max_upload_bytes=settings.max_upload_bytes if settings.admin_token else 0)
    if settings.cors_origin_list:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origin_list, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type"], max_age=600)
    if ring:
        from qa.access import AccessGuard

        # Inside SecurityHeaders (a refusal gets the headers too), outside everything that reads a body.
        app.add_middleware(AccessGuard, ring=ring, throttle=app.state.keys_throttle,
                           open_paths=("/metrics",) if settings.metrics_token else ())
    app.add_middleware(SecurityHeaders)
    # Outermost: every request is counted and timed, refusals included.
    app.add_middleware(ObserveRequests, metrics=app.state.metrics, json_logs=settings.log_format == "json")

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request):
        """Prometheus text format; with QA_METRICS_TOKEN set, only for 'Authorization: Bearer <token>'."""
        import hmac

        from fastapi import Response

        if settings.metrics_token:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                     settings.metrics_token.encode()):
                return JSONResponse({"detail": "GET /metrics needs 'Authorization: Bearer <QA_METRICS_TOKEN>'"},
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return Response(app.state.metrics.render(), media_type=CONTENT_TYPE)

    @app.get("/docs", include_in_schema=False)
    def docs():
        from fastapi.openapi.docs import get_swagger_ui_html

        # Served from the swagger-ui-bundle package: the machines have no CDN to fetch it from.
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="qa API",
            swagger_js_url="/docs-static/swagger-ui-bundle.js", swagger_css_url="/docs-static/swagger-ui.css",
            swagger_favicon_url="/docs-static/favicon-32x32.png",
        )

    return app
