"""JSON routes: /ask, /api/articles, /health. Request and response models live here only."""

from __future__ import annotations

import asyncio
import math
import weakref
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from qa.pipeline import Assistant, LibraryRefused, Turn, add_files, remove_article
from qa.types import Reply

router = APIRouter()

MAX_TEXT = 1000
# What the validators below enforce, also stated in the OpenAPI schema so that clients (and schemathesis)
# know that control characters (tab, line feed and carriage return aside) are refused.
_ALLOWED = r"[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]"
TEXT_PATTERN = rf"^{_ALLOWED}*$"
QUESTION_PATTERN = rf"^{_ALLOWED}*[^\s\x00-\x1F\x7F]{_ALLOWED}*$"  # and not only white space

Question = Annotated[str, Field(min_length=1, max_length=MAX_TEXT, json_schema_extra={"pattern": QUESTION_PATTERN},
                                description="1–1000 characters, not only white space, no control characters")]
Answer = Annotated[str, Field(max_length=MAX_TEXT, json_schema_extra={"pattern": TEXT_PATTERN},
                              description="at most 1000 characters (a client cuts longer answers), no control "
                              "characters")]


def _check_characters(value: str) -> str:
    for ch in value:
        if ch in "\t\n\r":
            continue
        if ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF:
            raise ValueError("must not contain control characters or lone surrogates")
    return value


def _clean(value: str) -> str:
    value = _check_characters(value).strip()
    if not value:
        raise ValueError("must not be empty or only white space")
    if len(value) > MAX_TEXT:
        raise ValueError(f"must be at most {MAX_TEXT} characters")
    return value


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Question
    answer: Answer | None = None

    _clean_question = field_validator("question")(lambda cls, v: _clean(v))
    _clean_answer = field_validator("answer")(lambda cls, v: v if v is None else _check_characters(v))


class AskRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"question": "What did Rahmon and Patrushev discuss?", "top_k": 5}]},
    )
    question: Question
    top_k: int = Field(5, ge=1, le=20, strict=True, description="passages to retrieve (a JSON integer)")
    history: list[HistoryTurn] = Field(default_factory=list, max_length=10, description="earlier turns, oldest first")
    article: str | None = Field(None, min_length=1, max_length=MAX_TEXT,
                                description="answer only from this article (an id from /api/articles)")

    _clean_question = field_validator("question")(lambda cls, v: _clean(v))

    @field_validator("top_k", mode="before")
    @classmethod
    def _whole_number(cls, value):
        # A JSON integer: 5 and 5.0 (the same number in JSON), never true, "5" or 5.5.
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value


class ErrorOut(BaseModel):
    detail: str


class Problem(BaseModel):
    field: str
    message: str


class ValidationErrorOut(BaseModel):
    detail: str = Field(description="what is wrong and where, in one line; the input is never echoed")
    errors: list[Problem] = []


ERROR_RESPONSES: dict = {
    422: {"model": ValidationErrorOut, "description": "The request is not valid: `detail` says why"},
    413: {"model": ErrorOut, "description": "The body is larger than QA_MAX_BODY_BYTES"},
}
ASK_RESPONSES: dict = {
    **ERROR_RESPONSES,
    415: {"model": ErrorOut, "description": "The body is not JSON (send `Content-Type: application/json`)"},
    404: {"model": ErrorOut, "description": "`article` names no indexed article"},
    503: {"model": ErrorOut, "description": "No index is loaded, or all answer slots stayed busy for "
          "QA_QUEUE_TIMEOUT seconds (then with `Retry-After`)"},
}


class AnswerSlots:
    """At most ``limit`` answers are computed at once; a request waits up to ``timeout`` seconds for a slot.

    Beyond that the caller gets a quick 503 with ``Retry-After`` instead of queueing into a client
    timeout. One semaphore per event loop (an app normally runs on one).
    """

    def __init__(self, limit: int, timeout: float):
        self.limit = limit
        self.timeout = timeout
        self.in_use = 0  # answers being computed now (for /metrics)
        self._semaphores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.limit)
        return semaphore

    async def run(self, function, *args):
        semaphore = self._semaphore()
        try:
            if semaphore.locked():
                await asyncio.wait_for(semaphore.acquire(), self.timeout)
            else:
                await semaphore.acquire()  # a free slot is taken at once, even with a zero timeout
        except TimeoutError:
            retry = max(1, math.ceil(self.timeout))
            raise HTTPException(
                status_code=503, headers={"Retry-After": str(retry)},
                detail=f"the server is busy ({self.limit} answers in progress): try again in {retry} s",
            ) from None
        self.in_use += 1
        try:
            # The model and FAISS calls block: keep them off the event loop.
            return await run_in_threadpool(function, *args)
        finally:
            self.in_use -= 1
            semaphore.release()


async def answer(request: Request, assistant: Assistant, question: str, history: list[Turn], top_k: int,
                 article: str | None = None) -> Reply:
    """``assistant.ask`` in a thread, within the app's concurrency limit (see AnswerSlots); the question is logged."""
    slots = getattr(request.app.state, "answer_slots", None)
    if slots is None:
        reply = await run_in_threadpool(assistant.ask, question, history, top_k, article)
    else:
        reply = await slots.run(assistant.ask, question, history, top_k, article)
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.observe_reply(reply)
    store = getattr(request.app.state, "feedback", None)
    if store is not None:
        store.log_question(question=question, query=reply.query, answerable=reply.answerable,
                           confidence=reply.confidence, index_version=assistant.store.manifest.get("version"),
                           key_name=getattr(request.state, "key_name", None))
    return reply


class SentenceOut(BaseModel):
    text: str
    citation: int
    article_id: str
    start: int
    end: int
    score: float
    page: int | None = Field(None, description="1-based page in a paged document (PDF); null otherwise")


class CitationOut(BaseModel):
    id: int
    article_id: str
    title: str
    source: str
    passage_id: str
    start: int
    end: int
    text: str
    score: float
    page: int | None = Field(None, description="1-based page in a paged document (PDF); null otherwise")


class PassageOut(BaseModel):
    passage_id: str
    article_id: str
    title: str
    start: int
    end: int
    text: str
    score: float
    page: int | None = Field(None, description="1-based page in a paged document (PDF); null otherwise")


class ShortAnswerOut(BaseModel):
    text: str
    article_id: str
    start: int
    end: int
    page: int | None = Field(None, description="1-based page in a paged document (PDF); null otherwise")


class AskResponse(BaseModel):
    question: str
    query: str = Field(description="the retrieval query actually used (after follow-up expansion)")
    answer: str
    answerable: bool
    confidence: float = Field(ge=0, le=1)
    sentences: list[SentenceOut]
    citations: list[CitationOut]
    passages: list[PassageOut]
    short_answer: ShortAnswerOut | None = None
    timings_ms: dict[str, float]


class ArticleSummary(BaseModel):
    id: str
    title: str
    source: str
    passages: int


class ArticleOut(BaseModel):
    id: str
    title: str
    source: str
    url: str | None = None
    date: str | None = None
    text: str


def assistant_or_503(request: Request) -> Assistant:
    assistant = getattr(request.app.state, "assistant", None)
    if assistant is None:
        problem = getattr(request.app.state, "load_error", None) or "no index is loaded"
        raise HTTPException(status_code=503, detail=f"{problem}")
    return assistant


@router.post("/ask", response_model=AskResponse, summary="Answer a question with cited sentences",
             responses=ASK_RESPONSES)
async def ask(body: AskRequest, request: Request) -> dict:
    assistant = assistant_or_503(request)
    history = [Turn(t.question, t.answer) for t in body.history]
    if body.article is not None and assistant.article(body.article) is None:
        raise HTTPException(status_code=404, detail="no article has this id (see /api/articles)")
    reply = await answer(request, assistant, body.question, history, body.top_k, body.article)
    # The Reply already has the documented shape: serialise it directly rather than re-validating
    # it through AskResponse on every request (that doubled the time spent outside the pipeline).
    return JSONResponse(reply.to_dict())


@router.get("/api/articles", response_model=list[ArticleSummary], summary="The indexed articles",
            responses={503: {"model": ErrorOut, "description": "No index is loaded"}})
def list_articles(request: Request) -> list[dict]:
    return assistant_or_503(request).articles()


@router.get("/api/articles/{article_id}", response_model=ArticleOut, summary="One article with its full text",
            responses={404: {"model": ErrorOut, "description": "No article has this id"},
                       **ERROR_RESPONSES, 503: {"model": ErrorOut, "description": "No index is loaded"}})
def get_article(article_id: str, request: Request) -> dict:
    article = assistant_or_503(request).article(article_id)
    if article is None:
        raise HTTPException(status_code=404, detail=f"no article with id {article_id!r}")
    return {"id": article.id, "title": article.title, "source": article.source, "url": article.url,
            "date": article.date, "text": article.text}


class Unavailable(BaseModel):
    status: str
    detail: str


@router.get("/health", summary="Ready once the index is loaded",
            responses={503: {"model": Unavailable, "description": "No index is loaded"}})
def health(request: Request):
    from fastapi.responses import JSONResponse

    assistant = getattr(request.app.state, "assistant", None)
    if assistant is None:
        problem = getattr(request.app.state, "load_error", None) or "no index is loaded"
        return JSONResponse({"status": "unavailable", "detail": problem}, status_code=503)
    return assistant.health()


admin_router = APIRouter(prefix="/admin", tags=["admin"])


def require_admin(request: Request) -> None:
    import hmac

    expected = request.app.state.settings.admin_token.encode()
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # compare_digest takes the same time whatever the mismatch, so the token cannot be guessed byte by byte
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        raise HTTPException(status_code=401, detail="a valid 'Authorization: Bearer <QA_ADMIN_TOKEN>' is required",
                            headers={"WWW-Authenticate": "Bearer"})


def reindexer_or_503(request: Request):
    reindexer = getattr(request.app.state, "reindexer", None)
    if reindexer is None:
        raise HTTPException(status_code=503, detail="no index is loaded yet: build one with `qa index` first")
    return reindexer


@admin_router.post("/reindex", status_code=202, summary="Rebuild the index from the configured corpus")
def start_reindex(request: Request) -> dict:
    """Starts a rebuild (incremental) of the configured corpus; never takes a path from the request."""
    require_admin(request)
    job = reindexer_or_503(request).start()
    if job is None:
        raise HTTPException(status_code=409, detail="a rebuild is already running")
    return job.public()


@admin_router.get("/reindex/{job_id}", summary="Progress of a rebuild")
def reindex_status(job_id: str, request: Request) -> dict:
    require_admin(request)
    job = reindexer_or_503(request).get(job_id)
    if job is None:
        raise HTTPException(status_code=404, detail="no such rebuild job")
    return job.public()


@admin_router.post("/articles", status_code=202, summary="Add articles (multipart 'file' fields) and rebuild")
async def add_articles(request: Request) -> dict:
    """Checks every file (type by content, size, name), writes them into the corpus folder atomically, and
    starts an incremental rebuild (or queues one behind the rebuild that is running)."""
    require_admin(request)
    reindexer = reindexer_or_503(request)
    try:
        form = await request.form(max_files=100, max_fields=10)
    except Exception:  # a body that is not multipart form data
        raise HTTPException(status_code=400, detail="send the files as multipart/form-data fields named 'file'") from None
    files = []
    try:
        for upload in form.getlist("file"):
            if isinstance(upload, str):
                raise HTTPException(status_code=400, detail="each 'file' field must be a file, not text")
            files.append((upload.filename, await upload.read()))
    finally:
        await form.close()  # the spooled temporary files
    settings = request.app.state.settings
    try:
        names = await run_in_threadpool(add_files, settings, files)
    except LibraryRefused as refused:
        raise HTTPException(status_code=refused.status, detail=str(refused)) from None
    return {"files": names, "job": reindexer.request().public()}


@admin_router.delete("/articles/{article_id}", status_code=202, summary="Remove an article's file and rebuild")
def delete_article(article_id: str, request: Request) -> dict:
    require_admin(request)
    reindexer = reindexer_or_503(request)
    try:
        removed = remove_article(request.app.state.settings, assistant_or_503(request), article_id)
    except LibraryRefused as refused:
        raise HTTPException(status_code=refused.status, detail=str(refused)) from None
    return {"removed": removed, "job": reindexer.request().public()}



class FeedbackOut(BaseModel):
    id: int = Field(description="the stored feedback's id")


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Question
    query: Answer | None = None
    answer: Answer
    verdict: Literal["up", "down"] = Field(description="up: helpful; down: not helpful")
    comment: Answer | None = Field(None, description="what was wrong, or the right answer in the article's words")
    sentences: list[dict[str, Any]] = Field(default_factory=list, max_length=10, description="the reply's "
                                            "`sentences` as /ask gave them (text, article_id, start, end…)")
    citations: list[dict[str, Any]] = Field(default_factory=list, max_length=20, description="the reply's `citations`")

    _clean_question = field_validator("question")(lambda cls, v: _clean(v))
    _clean_texts = field_validator("query", "answer", "comment")(lambda cls, v: v if v is None else _check_characters(v))


@router.post("/feedback", status_code=201, summary="Say whether an answer helped",
             responses={**ERROR_RESPONSES,
                        415: {"model": ErrorOut, "description": "The body is not JSON (send `Content-Type: application/json`)"}})
async def give_feedback(body: FeedbackRequest, request: Request) -> FeedbackOut:
    """Stored in the SQLite file with the time, the index version and the API key's name; 201 means it is on disk."""
    store = request.app.state.feedback
    assistant = request.app.state.assistant
    version = assistant.store.manifest.get("version") if assistant is not None else None
    feedback_id = await run_in_threadpool(
        store.add, question=body.question, query=body.query, answer=body.answer, verdict=body.verdict,
        comment=body.comment, sentences=body.sentences, citations=body.citations, index_version=version,
        key_name=getattr(request.state, "key_name", None))
    request.app.state.metrics.feedback.labels(body.verdict).inc()
    return FeedbackOut(id=feedback_id)
