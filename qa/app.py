"""The FastAPI application: ``create_app(settings, assistant)``; the lifespan loads the assistant once."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa import __version__
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


def create_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

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
            app.state.reindexer = Reindexer(app.state.assistant)

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

    app = FastAPI(
        title="qa",
        version=__version__,
        description="Extractive answers with citations from a collection of articles. Every quoted "
        "sentence is copied verbatim; `start`/`end` are character offsets in the article text.",
        lifespan=lifespan,
        docs_url=None,
    )
    app.state.settings = settings
    app.state.assistant = assistant
    app.state.load_error = None
    app.state.reindexer = None

    from qa import api, pages

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
        if pages.wants_html(request) and exc.status_code in (404, 503):
            return pages.error_page(request, exc.status_code, str(exc.detail))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse({"detail": "internal error; the server log has the details"}, status_code=500)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path == "/docs":
            response.headers["Content-Security-Policy"] = DOCS_CSP
        return response

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
