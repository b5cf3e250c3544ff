"""JSON routes: /ask, /api/articles, /health. Request and response models live here only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, field_validator

from qa.pipeline import Assistant, Turn

router = APIRouter()

Question = Annotated[str, Field(min_length=1, max_length=1000, description="1–1000 characters after trimming")]


def _clean(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty or only white space")
    if len(value) > 1000:
        raise ValueError("must be at most 1000 characters")
    for ch in value:
        if ch in "\t\n\r":
            continue
        if ord(ch) < 32 or ord(ch) == 127 or 0xD800 <= ord(ch) <= 0xDFFF:
            raise ValueError("must not contain control characters or lone surrogates")
    return value


class HistoryTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Question
    answer: Annotated[str, Field(max_length=5000)] | None = None

    _clean_question = field_validator("question")(lambda cls, v: _clean(v))


class AskRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"question": "What did Rahmon and Patrushev discuss?", "top_k": 5}]},
    )
    question: Question
    top_k: int = Field(5, ge=1, le=20, description="passages to retrieve")
    history: list[HistoryTurn] = Field(default_factory=list, max_length=10, description="earlier turns, oldest first")

    _clean_question = field_validator("question")(lambda cls, v: _clean(v))


class SentenceOut(BaseModel):
    text: str
    citation: int
    article_id: str
    start: int
    end: int
    score: float


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


class PassageOut(BaseModel):
    passage_id: str
    article_id: str
    title: str
    start: int
    end: int
    text: str
    score: float


class ShortAnswerOut(BaseModel):
    text: str
    article_id: str
    start: int
    end: int


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


@router.post("/ask", response_model=AskResponse, summary="Answer a question with cited sentences")
async def ask(body: AskRequest, request: Request) -> dict:
    assistant = assistant_or_503(request)
    history = [Turn(t.question, t.answer) for t in body.history]
    # The model and FAISS calls block: keep them off the event loop.
    reply = await run_in_threadpool(assistant.ask, body.question, history, body.top_k)
    return reply.to_dict()


@router.get("/api/articles", response_model=list[ArticleSummary], summary="The indexed articles")
def list_articles(request: Request) -> list[dict]:
    return assistant_or_503(request).articles()


@router.get("/api/articles/{article_id}", response_model=ArticleOut, summary="One article with its full text")
def get_article(article_id: str, request: Request) -> dict:
    article = assistant_or_503(request).article(article_id)
    if article is None:
        raise HTTPException(status_code=404, detail=f"no article with id {article_id!r}")
    return {"id": article.id, "title": article.title, "source": article.source, "url": article.url,
            "date": article.date, "text": article.text}


@router.get("/health", summary="Ready once the index is loaded")
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
