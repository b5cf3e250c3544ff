"""What the server is doing: Prometheus metrics (``GET /metrics``) and optional JSON access logs with request ids.

One registry per app (tests run many apps side by side). Routes are labelled by their template
(``/articles/{article_id}``), never by the raw path, so label cardinality stays bounded; a path no
route matches is ``unmatched``.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("qa.access")


class Metrics:
    def __init__(self, app_state):
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("qa_requests", "HTTP requests by route, method and status", ["route", "method", "status"],
                                registry=r)
        self.request_seconds = Histogram("qa_request_seconds", "HTTP request duration by route", ["route"],
                                         buckets=LATENCY_BUCKETS, registry=r)
        self.stage_seconds = Histogram("qa_answer_stage_seconds", "Time per answer stage (retrieve, read, extract, "
                                       "total)", ["stage"], buckets=LATENCY_BUCKETS, registry=r)
        self.answers = Counter("qa_answers", "Answers by outcome", ["outcome"], registry=r)
        self.feedback = Counter("qa_feedback", "Feedback received by verdict", ["verdict"], registry=r)
        self.rebuilds = Counter("qa_rebuilds", "Index rebuilds run by the server, by outcome", ["outcome"], registry=r)
        self.rebuild_seconds = Histogram("qa_rebuild_seconds", "Index rebuild duration",
                                         buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600), registry=r)
        for outcome in ("answered", "abstained"):
            self.answers.labels(outcome)
        for verdict in ("up", "down"):
            self.feedback.labels(verdict)
        for outcome in ("succeeded", "failed"):
            self.rebuilds.labels(outcome)
        r.register(_IndexCollector(app_state))

    def observe_reply(self, reply) -> None:
        self.answers.labels("answered" if reply.answerable else "abstained").inc()
        for stage, ms in reply.timings_ms.items():
            self.stage_seconds.labels(stage).observe(ms / 1000)

    def observe_rebuild(self, job) -> None:
        self.rebuilds.labels("succeeded" if job.state == "succeeded" else "failed").inc()
        if job.finished_at and job.started_at:
            self.rebuild_seconds.observe(max(0.0, job.finished_at - job.started_at))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _IndexCollector:
    """Read at scrape time: the index version, its size, and the answer slots in use."""

    def __init__(self, state):
        self.state = state

    def describe(self):
        return []

    def collect(self):
        assistant = getattr(self.state, "assistant", None)
        info = GaugeMetricFamily("qa_index_info", "The index being served (always 1)", labels=["version", "model"])
        articles = GaugeMetricFamily("qa_index_articles", "Articles in the index being served")
        passages = GaugeMetricFamily("qa_index_passages", "Passages in the index being served")
        if assistant is not None:
            manifest = assistant.store.manifest
            info.add_metric([str(manifest.get("version")), str(manifest.get("model"))], 1)
            articles.add_metric([], manifest.get("articles", 0))
            passages.add_metric([], manifest.get("passages", 0))
        slots = GaugeMetricFamily("qa_answer_slots_in_use", "Answers being computed now")
        answer_slots = getattr(self.state, "answer_slots", None)
        slots.add_metric([], answer_slots.in_use if answer_slots is not None else 0)
        yield from (info, articles, passages, slots)


class ObserveRequests:
    """ASGI middleware: counts and times every request by route template, gives it a request id
    (``X-Request-ID``, kept from the client when it is a short token), and with ``json_logs`` writes one
    JSON access-log line per request."""

    def __init__(self, app, metrics: Metrics, json_logs: bool = False):
        self.app = app
        self.metrics = metrics
        self.json_logs = json_logs

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        given = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"x-request-id"), "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        status = [500]

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"x-request-id", request_id.encode("latin-1"))]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", None) or ("/static" if scope.get("path", "").startswith("/static/")
                                                     else "unmatched")
            seconds = time.perf_counter() - started
            self.metrics.requests.labels(label, scope.get("method", ""), str(status[0])).inc()
            self.metrics.request_seconds.labels(label).observe(seconds)
            if self.json_logs:
                access_log.info(json.dumps({
                    "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "request_id": request_id,
                    "method": scope.get("method"), "route": label, "status": status[0],
                    "ms": round(seconds * 1000, 2), "key": scope.get("state", {}).get("key_name")}))
