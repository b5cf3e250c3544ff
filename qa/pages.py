"""HTML routes: the chat page (``/``, also without JavaScript via ``?q=``) and the article view.

They render the same Reply as ``/ask``. Highlights are built from offsets: the text is cut into
pieces and each piece is escaped by the template; no HTML is ever built by string replacement.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from qa.blocks import has_layout
from qa.config import Settings
from qa.pipeline import Assistant, Turn, example_questions
from qa.types import Reply

router = APIRouter(include_in_schema=False)
_CONTROL = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F\ud800-\udfff]")
_templates: Jinja2Templates | None = None


@dataclass(frozen=True)
class Piece:
    text: str
    marked: bool = False
    first: bool = False  # the first highlighted piece: the anchor to scroll to


def pieces(text: str, offset: int, ranges: list[tuple[int, int]]) -> list[Piece]:
    """Cut ``text`` (which starts at ``offset`` in its article) at highlight ranges (article offsets)."""
    spans = sorted((max(s - offset, 0), min(e - offset, len(text))) for s, e in ranges)
    spans = [(s, e) for s, e in spans if s < e]
    out, cursor, first = [], 0, True
    for start, end in spans:
        start = max(start, cursor)
        if start >= end:
            continue
        if start > cursor:
            out.append(Piece(text[cursor:start]))
        out.append(Piece(text[start:end], marked=True, first=first))
        first = False
        cursor = end
    if cursor < len(text):
        out.append(Piece(text[cursor:]))
    return out


def _highlight_param(ranges: list[tuple[int, int]]) -> str:
    return ",".join(f"{s}-{e}" for s, e in ranges)


def _parse_highlights(value: str | None, length: int) -> list[tuple[int, int]]:
    ranges = []
    for part in (value or "").split(",")[:20]:
        start, sep, end = part.partition("-")
        if sep and start.isdigit() and end.isdigit():
            s, e = int(start), int(end)
            if 0 <= s < e <= length:
                ranges.append((s, e))
    return ranges


def view_model(reply: Reply) -> dict:
    """What the templates need beyond the Reply: pieces for each cited passage."""
    sources = []
    for citation in reply.citations:
        quoted = [(s.start, s.end) for s in reply.sentences if s.citation == citation.id]
        short = reply.short_answer
        # the page of the first sentence quoted from it, where the reader will look; else where the passage starts
        page = next((s.page for s in reply.sentences if s.citation == citation.id and s.page), citation.page)
        sources.append({
            "citation": citation,
            "page": page,
            "pieces": pieces(citation.text, citation.start, quoted),
            "link": f"/articles/{citation.article_id}?hl={_highlight_param(quoted)}#hl",
        })
    sentences = []
    for s in reply.sentences:
        short = reply.short_answer
        marks = [(short.start, short.end)] if short and short.article_id == s.article_id else []
        sentences.append({"sentence": s, "pieces": pieces(s.text, s.start, marks), "laid_out": has_layout(s.text)})
    related = [
        {"passage": p, "link": f"/articles/{p.article_id}?hl={p.start}-{p.end}#hl"} for p in reply.passages[:3]
    ]
    plain = reply.answer
    if reply.citations:
        lines = []
        for source in sources:
            c, page = source["citation"], source["page"]
            lines.append(f"[{c.id}] {c.title} ({c.source}{f', p. {page}' if page else ''})")
        plain += "\n\n" + "\n".join(lines)
    import json

    # What POST /feedback needs about this reply (answer cut to the 1000 characters it accepts).
    feedback = json.dumps({
        "question": reply.question, "query": reply.query[:1000], "answer": reply.answer[:1000],
        "sentences": [{"text": s.text, "article_id": s.article_id, "start": s.start, "end": s.end,
                       "citation": s.citation} for s in reply.sentences],
        "citations": [{"id": c.id, "article_id": c.article_id, "start": c.start, "end": c.end, "title": c.title}
                      for c in reply.citations]})
    return {"reply": reply, "sentences": sentences, "sources": sources, "related": related, "plain": plain,
            "feedback": feedback}


def wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "") and not (
        request.url.path.startswith("/api/") or request.url.path in ("/ask", "/health")
    )


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return templates().TemplateResponse(request, "error.html", {"status": status, "message": message},
                                        status_code=status)


def templates() -> Jinja2Templates:
    assert _templates is not None, "pages.mount() was not called"
    return _templates


def mount(app: FastAPI, settings: Settings) -> None:
    global _templates
    _templates = Jinja2Templates(directory=str(Path(settings.web_dir) / "templates"))
    _templates.env.autoescape = True  # for every template, whatever its name
    app.mount("/static", StaticFiles(directory=str(Path(settings.web_dir) / "static")), name="static")
    try:
        import swagger_ui_bundle

        app.mount("/docs-static", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-static")
    except ImportError:
        pass
    app.include_router(router)


def _assistant(request: Request) -> Assistant:
    assistant = request.app.state.assistant
    if assistant is None:
        raise HTTPException(503, request.app.state.load_error or "no index is loaded")
    return assistant


@router.get("/", response_class=HTMLResponse)
async def chat(request: Request, q: str | None = Query(None), h: list[str] = Query([])):
    """The chat. ``?q=`` answers on the server (no JavaScript needed); ``h`` carries earlier questions."""
    assistant = _assistant(request)
    context: dict = {"articles": assistant.articles(), "examples": example_questions(assistant.store),
                     "turns": [], "history": [], "error": None, "question": ""}
    if q is not None:
        from qa.api import AskRequest, answer

        history = [x for x in h if x.strip()][-10:]
        try:
            body = AskRequest(question=q, history=[{"question": x} for x in history])
        except ValidationError as error:
            context["error"] = "; ".join(e["msg"] for e in error.errors())
            context["question"] = _CONTROL.sub("", q[:1000])  # shown again in the box, minus what was refused
            return templates().TemplateResponse(request, "chat.html", context, status_code=422)
        started = time.perf_counter()
        reply = await answer(request, assistant, body.question, [Turn(x) for x in history], body.top_k)
        context["turns"] = [{"index": 0, **view_model(reply), "elapsed_ms": (time.perf_counter() - started) * 1000}]
        context["history"] = [*history, body.question]
    return templates().TemplateResponse(request, "chat.html", context)


@router.post("/chat/turn", response_class=HTMLResponse)
async def chat_turn(request: Request, index: int = Query(0, ge=0, le=10_000)):
    """One answered turn as an HTML fragment, for the page's script: same Reply, same template."""
    from qa.api import AskRequest, answer

    assistant = _assistant(request)
    try:
        body = AskRequest.model_validate(await request.json())
    except ValidationError as error:
        raise HTTPException(422, "; ".join(e["msg"] for e in error.errors())) from None
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested thousands deep
        raise HTTPException(422, "the request body is not valid JSON") from None
    history = [Turn(t.question, t.answer) for t in body.history]
    started = time.perf_counter()
    reply = await answer(request, assistant, body.question, history, body.top_k)
    context = {"turn": {"index": index, **view_model(reply), "elapsed_ms": (time.perf_counter() - started) * 1000}}
    return templates().TemplateResponse(request, "_turn.html", context)


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article_view(request: Request, article_id: str, hl: str | None = Query(None, max_length=400)):
    assistant = _assistant(request)
    article = assistant.article(article_id)
    if article is None:
        raise HTTPException(404, f"no article with id {article_id!r}")
    ranges = _parse_highlights(hl, len(article.text))
    url = article.url if article.url and article.url.lower().startswith(("http://", "https://")) else None
    return templates().TemplateResponse(
        request, "article.html",
        {"article": article, "url": url, "pages": paged_pieces(article, ranges), "highlighted": bool(ranges)},
    )


def paged_pieces(article, ranges: list[tuple[int, int]]) -> list[dict]:
    """The article's text cut into its pages (one part, page None, when it has none), each cut at highlights."""
    from dataclasses import replace

    starts = list(article.pages or (0,))
    ends = [*starts[1:], len(article.text)]
    parts, anchored = [], False
    for number, (lo, hi) in enumerate(zip(starts, ends), 1):
        cut = pieces(article.text[lo:hi], lo, ranges)
        if anchored:  # one scroll anchor for the whole article
            cut = [replace(piece, first=False) for piece in cut]
        anchored = anchored or any(piece.first for piece in cut)
        parts.append({"number": number if article.pages else None, "pieces": cut})
    return parts


@router.get("/library", response_class=HTMLResponse)
def library(request: Request):
    """Every article, and (with QA_ADMIN_TOKEN set) upload, delete and rebuild; reading stays open."""
    assistant = _assistant(request)
    settings = request.app.state.settings
    from qa.config import SAMPLE_CORPUS

    writable = Path(settings.corpus).resolve() != SAMPLE_CORPUS.resolve()
    return templates().TemplateResponse(request, "library.html", {
        **assistant.library(), "admin": bool(settings.admin_token), "writable": writable,
        "max_file_bytes": settings.max_file_bytes})


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, next: str = Query("/", max_length=2000)):
    from qa.access import safe_next

    if not request.app.state.keys:
        return RedirectResponse("/", status_code=303)
    return templates().TemplateResponse(request, "signin.html", {"next": safe_next(next), "error": None})


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request):
    """Checks the key from the form and sets the signed session cookie (the key itself is not stored)."""
    from qa.access import COOKIE, safe_next

    ring = request.app.state.keys
    if not ring:
        return RedirectResponse("/", status_code=303)
    form = await request.form(max_files=0, max_fields=5)
    key, target = str(form.get("key") or ""), safe_next(str(form.get("next") or "/"))
    await form.close()
    guard = request.app.state.keys_throttle
    address = request.client.host if request.client else "unknown"
    wait = guard.retry_after(address)
    if wait is not None:
        response = templates().TemplateResponse(request, "signin.html", {
            "next": target, "error": f"Too many wrong keys from this address: try again in {wait} s."}, status_code=429)
        response.headers["Retry-After"] = str(wait)
        return response
    name = ring.name_of(key)
    if name is None:
        guard.fail(address)
        return templates().TemplateResponse(request, "signin.html", {"next": target, "error": "That key is not valid."},
                                            status_code=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, ring.cookie_for(name), max_age=ring.session_seconds, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path="/")
    return response


@router.post("/signout")
def signout(request: Request):
    from qa.access import COOKIE

    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
