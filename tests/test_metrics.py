"""/metrics in Prometheus text format: it parses, and counts what the test did; request ids and JSON logs."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from qa.app import create_app

QUESTION = {"question": "Which country is the largest coffee producer?"}


def scrape(client, **kwargs) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_count_requests_answers_feedback_and_time_the_stages(tiny_settings, tiny_assistant):
    with TestClient(create_app(replace(tiny_settings, reload_interval=0), tiny_assistant)) as client:
        for _ in range(3):
            reply = client.post("/ask", json=QUESTION).json()
        client.post("/ask", json={"question": "quantum chromodynamics lattice gauge"})
        client.post("/ask", json={})  # 422
        client.get("/articles/coffee")
        client.post("/feedback", json={"question": reply["question"], "answer": reply["answer"], "verdict": "down"})
        samples = scrape(client)
    manifest = tiny_assistant.store.manifest
    assert samples[("qa_requests_total", (("method", "POST"), ("route", "/ask"), ("status", "200")))] == 4
    assert samples[("qa_requests_total", (("method", "POST"), ("route", "/ask"), ("status", "422")))] == 1
    assert samples[("qa_requests_total", (("method", "GET"), ("route", "/articles/{article_id}"), ("status", "200")))] == 1
    assert samples[("qa_answers_total", (("outcome", "answered"),))] + samples[
        ("qa_answers_total", (("outcome", "abstained"),))] == 4
    assert samples[("qa_feedback_total", (("verdict", "down"),))] == 1
    assert samples[("qa_answer_stage_seconds_count", (("stage", "retrieve"),))] == 4
    assert samples[("qa_answer_stage_seconds_count", (("stage", "total"),))] == 4
    assert samples[("qa_request_seconds_count", (("route", "/ask"),))] == 5
    assert samples[("qa_index_info", (("model", manifest["model"]), ("version", manifest["version"])))] == 1
    assert samples[("qa_index_articles", ())] == manifest["articles"]
    assert samples[("qa_answer_slots_in_use", ())] == 0


def test_metrics_sit_behind_the_keys_or_their_own_token(tiny_settings, tiny_assistant):
    keyed = replace(tiny_settings, reload_interval=0, api_keys="team:team-key-0123456")
    with TestClient(create_app(keyed, tiny_assistant)) as client:
        assert client.get("/metrics").status_code == 401
        scrape(client, headers={"X-API-Key": "team-key-0123456"})
    own = replace(keyed, metrics_token="scrape-token-1")
    with TestClient(create_app(own, tiny_assistant)) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        samples = scrape(client, headers={"Authorization": "Bearer scrape-token-1"})
        assert samples[("qa_requests_total", (("method", "GET"), ("route", "/metrics"), ("status", "401")))] == 2


def test_rebuilds_are_counted(tiny_settings, tiny_assistant):
    import time

    settings = replace(tiny_settings, reload_interval=0, admin_token="admin-token-123")
    with TestClient(create_app(settings, tiny_assistant)) as client:
        auth = {"Authorization": "Bearer admin-token-123"}
        job = client.post("/admin/reindex", headers=auth).json()
        while client.get(f"/admin/reindex/{job['id']}", headers=auth).json()["state"] in ("queued", "running"):
            time.sleep(0.05)
        samples = scrape(client)
    assert samples[("qa_rebuilds_total", (("outcome", "succeeded"),))] == 1
    assert samples[("qa_rebuild_seconds_count", ())] == 1


def test_every_response_has_a_request_id_and_json_logs_carry_it(tiny_settings, tiny_assistant, caplog):
    settings = replace(tiny_settings, reload_interval=0, log_format="json")
    with TestClient(create_app(settings, tiny_assistant)) as client, caplog.at_level(logging.INFO, "qa.access"):
        given = client.post("/ask", json=QUESTION, headers={"X-Request-ID": "trace-42"})
        made = client.get("/health")
        odd = client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert given.headers["x-request-id"] == "trace-42"
    assert len(made.headers["x-request-id"]) == 16 and odd.headers["x-request-id"] != "bad id with spaces"
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "qa.access"]
    assert lines[0]["request_id"] == "trace-42" and lines[0]["route"] == "/ask" and lines[0]["status"] == 200
    assert {"time", "method", "ms", "key"} <= set(lines[0])
