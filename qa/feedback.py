"""What users say about answers, and the questions they ask: one SQLite file (WAL), the standard library only.

``feedback``: every "helpful" / "not helpful" verdict with its question, answer, quoted sentences and
citations, the time, the index version and the API key's name (when keys are on). Each is committed
with ``synchronous=FULL`` before ``POST /feedback`` answers 201, so what was answered survives a
``kill -9``. ``questions``: every question asked (unless ``QA_LOG_QUESTIONS=0``), written by a
background thread in batches so that logging never slows an answer.

``export_squad`` turns the feedback into a SQuAD v2.0 file ``qa eval`` reads: a helpful answer's first
quoted sentence becomes the gold answer; a not-helpful one becomes a question whose answer is the
text of its comment where that is found verbatim in a cited article, else an unanswerable question
(the articles, as far as anyone has said, do not hold the answer it gave). A not-helpful abstention
cites nothing: its comment is looked for in every article.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
from pathlib import Path

FILE_NAME = "qa.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    index_version TEXT,
    key_name TEXT,
    question TEXT NOT NULL,
    query TEXT,
    answer TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('up', 'down')),
    comment TEXT,
    sentences TEXT NOT NULL DEFAULT '[]',
    citations TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    index_version TEXT,
    key_name TEXT,
    question TEXT NOT NULL,
    query TEXT,
    answerable INTEGER,
    confidence REAL
);
"""


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class FeedbackStore:
    """The SQLite file: feedback written at once and durably, questions in the background."""

    def __init__(self, path: str | Path, log_questions: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = self._connect(synchronous="FULL")
        self._db.executescript(SCHEMA)
        self.log_questions = log_questions
        self._questions: queue.Queue = queue.Queue(maxsize=10_000)
        self._writer: threading.Thread | None = None

    def _connect(self, synchronous: str) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.execute("PRAGMA busy_timeout=30000")
        return db

    def add(self, *, question: str, answer: str, verdict: str, query: str | None = None, comment: str | None = None,
            sentences: list | None = None, citations: list | None = None, index_version: str | None = None,
            key_name: str | None = None) -> int:
        """Store one verdict; returns its id once it is on disk."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO feedback (at, index_version, key_name, question, query, answer, verdict, comment, "
                "sentences, citations) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (_now(), index_version, key_name, question, query, answer, verdict, comment,
                 # ASCII escapes: whatever a client sent (lone surrogates too) is stored, and read back as sent
                 json.dumps(sentences or []), json.dumps(citations or [])))
            return int(cursor.lastrowid)

    def log_question(self, *, question: str, query: str, answerable: bool, confidence: float,
                     index_version: str | None, key_name: str | None) -> None:
        """Queue a question for the background writer (dropped, never blocking, if the queue is full)."""
        if not self.log_questions:
            return
        if self._writer is None:
            with self._lock:
                if self._writer is None:
                    self._writer = threading.Thread(target=self._write_questions, name="qa-question-log", daemon=True)
                    self._writer.start()
        try:
            self._questions.put_nowait((_now(), index_version, key_name, question, query, int(answerable), confidence))
        except queue.Full:
            pass

    def _write_questions(self) -> None:
        db = self._connect(synchronous="NORMAL")
        while True:
            rows = [self._questions.get()]
            while len(rows) < 500:
                try:
                    rows.append(self._questions.get_nowait())
                except queue.Empty:
                    break
            if rows[-1] is None:
                rows.pop()
                self._insert_questions(db, rows)
                db.close()
                return
            self._insert_questions(db, rows)

    @staticmethod
    def _insert_questions(db: sqlite3.Connection, rows: list) -> None:
        if rows:
            with db:
                db.executemany("INSERT INTO questions (at, index_version, key_name, question, query, answerable, "
                               "confidence) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def flush(self, timeout: float = 10.0) -> None:
        """Write the queued questions and stop the writer (a new one starts with the next question)."""
        writer = self._writer
        if writer is not None:
            self._questions.put(None)
            writer.join(timeout)
            self._writer = None

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._db.close()

    def feedback(self, verdict: str | None = None) -> list[dict]:
        with self._lock:
            self._db.row_factory = sqlite3.Row
            try:
                sql = "SELECT * FROM feedback" + (" WHERE verdict = ?" if verdict else "") + " ORDER BY id"
                rows = [dict(r) for r in self._db.execute(sql, (verdict,) if verdict else ())]
            finally:
                self._db.row_factory = None
        for row in rows:
            row["sentences"], row["citations"] = json.loads(row["sentences"]), json.loads(row["citations"])
        return rows

    def count(self, table: str) -> int:
        assert table in ("feedback", "questions")
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def export_jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def export_squad(rows: list[dict], articles: dict[str, tuple[str, str]]) -> dict:
    """A SQuAD v2.0 dataset of the feedback, over the articles it cites (id -> (title, text))."""
    by_article: dict[str, list[dict]] = {}
    for row in rows:
        quoted = [s for s in row["sentences"] if isinstance(s, dict)]
        cited = [c.get("article_id") for c in row["citations"] if isinstance(c, dict)] + [s.get("article_id") for s in quoted]
        cited = list(dict.fromkeys(a for a in cited if isinstance(a, str) and a in articles))
        if not cited and row["verdict"] == "down":
            cited = list(articles)  # an abstention cites nothing: look for the comment everywhere
        if not cited:
            continue
        home, answers = cited[0], []
        if row["verdict"] == "up":
            first = quoted[0] if quoted else {}
            start, end = first.get("start"), first.get("end")
            if (not isinstance(first.get("article_id"), str) or first["article_id"] not in articles
                    or not isinstance(start, int) or not isinstance(end, int)):
                continue  # nothing quoted that can still be found: no test case
            home, text = first["article_id"], articles[first["article_id"]][1]
            if not (0 <= start < end and text[start:end] == first.get("text")):
                continue  # the article changed since
            answers = [{"text": first["text"], "answer_start": start}]
        elif row["verdict"] == "down" and (row.get("comment") or "").strip():
            wanted = row["comment"].strip()
            for article_id in cited:
                at = articles[article_id][1].find(wanted)
                if at >= 0:
                    home, answers = article_id, [{"text": wanted, "answer_start": at}]
                    break
        by_article.setdefault(home, []).append({
            "id": f"feedback-{row['id']}", "question": row["question"], "answers": answers,
            "is_impossible": not answers})
    data = [{"title": articles[a][0], "paragraphs": [{"context": articles[a][1], "qas": qas}]}
            for a, qas in by_article.items()]
    return {"version": "v2.0", "data": data}
