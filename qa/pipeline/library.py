"""Changing the library while it serves: queued rebuilds, uploads and removals, feedback exports."""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa import stores
from qa.config import Settings
from qa.documents import DOCUMENT_SUFFIXES, sniff
from qa.ingest import SUFFIXES as INGEST_SUFFIXES
from qa.pipeline.assistant import Assistant
from qa.pipeline.build import build_index
from qa.stores import IndexMissing


@dataclass
class ReindexJob:
    id: str
    state: str = "queued"  # queued, running, succeeded, failed
    stage: str = ""
    started_at: float = 0.0
    finished_at: float | None = None
    report: dict | None = None
    error: str | None = None
    done: int = 0  # texts embedded so far in the current stage
    total: int = 0
    stage_started: float = 0.0

    def progress(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.stage, self.stage_started = stage, time.time()
        self.done, self.total = done, total

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left in the current stage at its rate so far (None before there is a rate)."""
        elapsed = time.time() - self.stage_started
        if not self.total or not self.done or self.done >= self.total or elapsed <= 0:
            return None
        return round((self.total - self.done) * elapsed / self.done, 1)

    def public(self) -> dict:
        return {"id": self.id, "state": self.state, "stage": self.stage, "done": self.done, "total": self.total,
                "eta_seconds": self.eta_seconds, "started_at": self.started_at, "finished_at": self.finished_at,
                "report": self.report, "error": self.error}


class Reindexer:
    """Runs one rebuild at a time in a background thread and swaps the result in when it is done."""

    def __init__(self, assistant: Assistant, keep: int = 20,
                 on_finish: Callable[[ReindexJob], None] = lambda job: None):
        import threading

        self.assistant = assistant
        self.on_finish = on_finish  # hears every job that ends, succeeded or failed (metrics)
        self.jobs: dict[str, ReindexJob] = {}
        self.keep = keep
        self._lock = threading.Lock()
        self._running: str | None = None
        self._queued: ReindexJob | None = None

    def start(self) -> ReindexJob | None:
        """A new job, or None while one is already running."""
        with self._lock:
            if self._running is not None:
                return None
            job = self._new_job()
            self._running = job.id
        self._launch(job)
        return job

    def request(self) -> ReindexJob:
        """A rebuild that sees the corpus as it is now: started at once, or queued behind the running one
        (one queued job at most: every change made meanwhile is picked up by it)."""
        with self._lock:
            if self._running is None:
                job = self._new_job()
                self._running = job.id
            elif self._queued is not None:
                return self._queued
            else:
                self._queued = job = self._new_job()
                return job
        self._launch(job)
        return job

    def _new_job(self) -> ReindexJob:
        import uuid

        job = ReindexJob(id=uuid.uuid4().hex, started_at=time.time())
        self.jobs[job.id] = job
        for old in list(self.jobs)[: max(0, len(self.jobs) - self.keep)]:
            if old not in (self._running, self._queued.id if self._queued else None, job.id):
                del self.jobs[old]
        return job

    def _launch(self, job: ReindexJob) -> None:
        import threading

        threading.Thread(target=self._run, args=(job,), name=f"reindex-{job.id[:8]}", daemon=True).start()

    def _run(self, job: ReindexJob) -> None:
        job.state = "running"

        def on_stage(message: str) -> None:
            job.stage, job.stage_started, job.done, job.total = message, time.time(), 0, 0

        try:
            report = build_index(self.assistant.settings, self.assistant.embedder, on_stage=on_stage,
                                 on_progress=job.progress)
            job.report = dataclasses.asdict(report)
            job.stage = "switching to the new version"
            self.assistant.reload_if_changed()
            job.state, job.stage = "succeeded", "done"
        except Exception as error:  # reported to the caller through the job, never raised into the server
            job.state, job.error = "failed", str(error)
        finally:
            job.finished_at = time.time()
            try:
                self.on_finish(job)
            except Exception:  # a listener's failure must not stop the queue
                import logging

                logging.getLogger(__name__).exception("on_finish failed")
            with self._lock:
                self._running = None
                queued, self._queued = self._queued, None
                if queued is not None:
                    queued.started_at = time.time()
                    self._running = queued.id
            if queued is not None:
                self._launch(queued)

    def get(self, job_id: str) -> ReindexJob | None:
        return self.jobs.get(job_id)


# -- the library: files added and removed through the admin API ------------------------------------------------

class LibraryRefused(ValueError):
    """A change the library refuses; ``status`` is the HTTP status the API answers with, the message says why."""

    def __init__(self, message: str, status: int = 415):
        super().__init__(message)
        self.status = status


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_file_name(name: str | None) -> str:
    """The upload's base name, with path parts and unusual characters dropped; refused if nothing usable is left."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE_NAME.sub("_", base).strip(" .")[:150]
    suffix = Path(cleaned).suffix.lower()
    if not cleaned or cleaned.startswith(".") or not Path(cleaned).stem:
        raise LibraryRefused(f"{name!r} is not a usable file name", 400)
    if suffix not in INGEST_SUFFIXES:
        raise LibraryRefused(f"{base!r}: only {', '.join(sorted(INGEST_SUFFIXES))} files can be added")
    return cleaned


def check_upload(name: str | None, raw: bytes, max_file_bytes: int) -> str:
    """The safe name of an acceptable upload: a supported type by its content, within the size limit."""
    safe = safe_file_name(name)
    if len(raw) > max_file_bytes:
        raise LibraryRefused(f"{safe!r} is larger than {max_file_bytes} bytes (QA_MAX_FILE_BYTES)", 413)
    if not raw.strip():
        raise LibraryRefused(f"{safe!r} is empty", 400)
    suffix = Path(safe).suffix.lower()
    kind = sniff(raw)
    if suffix in DOCUMENT_SUFFIXES:
        if kind != suffix.lstrip("."):
            raise LibraryRefused(f"{safe!r} is not a {suffix.lstrip('.').upper()} file (checked by its content)")
    elif kind is not None or b"\x00" in raw:
        raise LibraryRefused(f"{safe!r} is not a text file (checked by its content)")
    return safe


def library_folder(settings: Settings) -> Path:
    """The corpus folder that uploads go into; the sample bundled in the package is never written to."""
    from qa.config import SAMPLE_CORPUS

    corpus = Path(settings.corpus)
    if corpus.resolve() == SAMPLE_CORPUS.resolve():
        raise LibraryRefused("qa is serving the bundled sample: start it with `qa serve --corpus DIR` to keep a "
                             "library of your own", 409)
    return corpus


def add_files(settings: Settings, files: Sequence[tuple[str | None, bytes]]) -> list[str]:
    """Check every file, then write them all into the corpus folder atomically (all or none refused).

    A file with the name of one already there replaces it (a new version of the same article)."""
    import tempfile

    corpus = library_folder(settings)
    checked = [(check_upload(name, raw, settings.max_file_bytes), raw) for name, raw in files]
    if not checked:
        raise LibraryRefused("no files were sent (multipart form fields named 'file')", 400)
    names = [name for name, _ in checked]
    if len(set(names)) != len(names):
        raise LibraryRefused("two files have the same name", 400)
    corpus.mkdir(parents=True, exist_ok=True)
    for name, raw in checked:
        handle, temporary = tempfile.mkstemp(prefix=".upload-", dir=corpus)  # hidden: ingest skips it
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(raw)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, corpus / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return names


def remove_article(settings: Settings, assistant: Assistant, article_id: str) -> str:
    """Delete the file an article came from (relative path returned); the next rebuild drops it."""
    corpus = library_folder(settings)
    article = assistant.article(article_id)
    if article is None:
        raise LibraryRefused(f"no article with id {article_id!r}", 404)
    if "#" in article.source:
        raise LibraryRefused(f"{article_id!r} is one record of {article.source.split('#')[0]!r}: edit that file "
                             "to remove it", 409)
    path = (corpus / article.source).resolve()
    if not path.is_relative_to(corpus.resolve()):
        raise LibraryRefused(f"{article.source!r} is outside the corpus folder", 409)
    path.unlink(missing_ok=True)
    return article.source


def export_feedback(settings: Settings, fmt: str, verdict: str | None = None) -> str:
    """The stored feedback as JSON lines, or as a SQuAD v2.0 file over the live index's articles."""
    import json

    from qa.feedback import FILE_NAME, FeedbackStore, export_jsonl, export_squad

    path = Path(settings.data_dir or settings.index) / FILE_NAME
    if not path.exists():
        raise IndexMissing(f"no feedback stored yet: {str(path)!r} does not exist")
    store = FeedbackStore(path, log_questions=False)
    try:
        rows = store.feedback(verdict)
    finally:
        store.close()
    if fmt == "jsonl":
        return export_jsonl(rows)
    live = stores.load(Path(settings.index), verify=False)
    articles = {a.id: (a.title, a.text) for a in live.article_list}
    return json.dumps(export_squad(rows, articles), ensure_ascii=False, indent=1) + "\n"
