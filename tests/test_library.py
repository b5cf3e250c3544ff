"""The library's admin API: add files (checked, written atomically), remove them, rebuilds started or queued."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from qa.app import create_app
from qa.pipeline import Assistant, LibraryRefused, build_index, safe_file_name
from test_documents import PAGE_SENTENCES, make_docx, make_pdf

AUTH = {"Authorization": "Bearer s3cret-token"}


@pytest.fixture
def library(tiny_settings, fake_embedder):
    build_index(tiny_settings, fake_embedder)
    settings = replace(tiny_settings, admin_token="s3cret-token", reload_interval=0, min_confidence=0.0)
    with TestClient(create_app(settings, Assistant.load(settings, fake_embedder))) as client:
        yield client, settings


def finished(client, job: dict) -> dict:
    deadline = time.monotonic() + 60
    while True:
        status = client.get(f"/admin/reindex/{job['id']}", headers=AUTH).json()
        if status["state"] in ("succeeded", "failed"):
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def test_uploaded_pdf_and_docx_answer_after_their_rebuild_and_go_when_deleted(library):
    client, settings = library
    files = [("file", ("coast.pdf", make_pdf(PAGE_SENTENCES), "application/pdf")),
             ("file", ("guide.docx", make_docx(), "application/octet-stream"))]
    response = client.post("/admin/articles", headers=AUTH, files=files)
    assert response.status_code == 202, response.text
    assert response.json()["files"] == ["coast.pdf", "guide.docx"]
    status = finished(client, response.json()["job"])
    assert status["state"] == "succeeded" and status["report"]["added"] == 2 and status["report"]["parsed"] == 2
    assert (settings.corpus / "coast.pdf").exists() and not list(settings.corpus.glob(".upload-*"))
    body = client.post("/ask", json={"question": "When was the Halvorsen lighthouse automated?"}).json()
    assert body["sentences"][0]["text"] == PAGE_SENTENCES[2] and body["sentences"][0]["page"] == 3

    deleted = client.delete("/admin/articles/coast", headers=AUTH)
    assert deleted.status_code == 202 and deleted.json()["removed"] == "coast.pdf"
    assert finished(client, deleted.json()["job"])["report"]["removed"] == 1
    assert not (settings.corpus / "coast.pdf").exists()
    assert client.get("/api/articles/coast").status_code == 404
    body = client.post("/ask", json={"question": "When was the Halvorsen lighthouse automated?"}).json()
    assert all(PAGE_SENTENCES[2] not in s["text"] for s in body["sentences"])


def test_refused_uploads_write_nothing(library):
    client, settings = library
    before = sorted(p.name for p in settings.corpus.rglob("*"))
    cases = [
        ([("file", ("report.pdf", b"just some text", "application/pdf"))], 415),
        ([("file", ("good.md", b"# Fine\n\nText.", "text/markdown")),
          ("file", ("image.png", b"\x89PNG....", "image/png"))], 415),
        ([("file", ("notes.txt", b"a\x00b binary", "text/plain"))], 415),
        ([("file", ("big.txt", b"x" * (settings.max_file_bytes + 1), "text/plain"))], 413),
        ([("file", ("..", b"text", "text/plain"))], 400),
    ]
    for files, status in cases:
        response = client.post("/admin/articles", headers=AUTH, files=files)
        assert response.status_code == status, (files[0][1][0], response.text)
        assert response.json()["detail"]
    assert client.post("/admin/articles", headers=AUTH, data={"x": "1"}).status_code == 400
    assert sorted(p.name for p in settings.corpus.rglob("*")) == before


def test_file_names_are_sanitised():
    assert safe_file_name("../../etc/evil notes.md") == "evil notes.md"
    assert safe_file_name("C:\\Users\\me\\Report (final).pdf") == "Report _final_.pdf"
    assert safe_file_name(".hidden.md") == "hidden.md"  # never a hidden file, which ingest would skip
    for bad in ("", "..", "archive.zip", ".md", None):
        with pytest.raises(LibraryRefused):
            safe_file_name(bad)


def test_admin_library_routes_need_the_token(library, tiny_settings, tiny_assistant):
    client, _ = library
    files = [("file", ("kites.txt", b"Kites fly.", "text/plain"))]
    assert client.post("/admin/articles", files=files).status_code == 401
    assert client.post("/admin/articles", files=files, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.delete("/admin/articles/coffee").status_code == 401
    assert client.delete("/admin/articles/no-such-article", headers=AUTH).status_code == 404
    assert client.delete("/admin/articles/penguins-1", headers=AUTH).status_code == 409  # a record of a .jsonl
    with TestClient(create_app(tiny_settings, tiny_assistant)) as open_client:  # no token set: no such routes
        assert open_client.post("/admin/articles", files=files).status_code == 404
        assert open_client.delete("/admin/articles/coffee").status_code == 404


def test_a_change_during_a_rebuild_is_queued_behind_it(tiny_settings):
    from test_rebuild import GatedEmbedder

    embedder = GatedEmbedder()  # holds a rebuild at 'running' until the gate opens
    embedder.gate.set()
    build_index(tiny_settings, embedder)
    embedder.gate.clear()
    settings = replace(tiny_settings, admin_token="s3cret-token", reload_interval=0)
    with TestClient(create_app(settings, Assistant.load(settings, embedder))) as client:
        def add(name: str, text: bytes) -> dict:
            return client.post("/admin/articles", headers=AUTH, files=[("file", (name, text, "text/plain"))]).json()["job"]

        first = add("kites.txt", b"Kites fly on strings. They were invented in China.")
        second = add("tides.txt", b"Tides follow the moon. There are two high tides a day.")
        third = add("wind.txt", b"Wind turns the mills. It blows from the west here.")
        assert first["state"] in ("queued", "running") and second["state"] == "queued"
        assert third["id"] == second["id"]  # one queued rebuild picks up every change made meanwhile
        embedder.gate.set()
        assert finished(client, first)["state"] == "succeeded"
        done = finished(client, second)
        assert done["state"] == "succeeded" and done["report"]["added"] == 2  # tides and wind
        for article in ("kites", "tides", "wind"):
            assert client.get(f"/api/articles/{article}").status_code == 200


def test_the_bundled_sample_is_never_written_to(tmp_path, fake_embedder):
    from qa.config import Settings

    settings = Settings.from_env({}, index=tmp_path / "index", model=fake_embedder.name, reader="off",
                                 admin_token="s3cret-token", reload_interval=0)
    build_index(settings, fake_embedder)
    with TestClient(create_app(settings, Assistant.load(settings, fake_embedder))) as client:
        response = client.post("/admin/articles", headers=AUTH, files=[("file", ("x.txt", b"Text.", "text/plain"))])
        assert response.status_code == 409 and "--corpus" in response.json()["detail"]


def test_a_build_reports_its_progress_per_stage(tiny_settings, fake_embedder):
    heard: list[tuple[str, int, int]] = []
    build_index(tiny_settings, fake_embedder, on_progress=lambda stage, done, total: heard.append((stage, done, total)))
    stages = {stage for stage, _, _ in heard}
    assert stages == {"Embedding passages", "Embedding sentences"}
    for stage in stages:
        counts = [(done, total) for s, done, total in heard if s == stage]
        assert counts[-1][0] == counts[-1][1] > 0 and [d for d, _ in counts] == sorted(d for d, _ in counts)


def test_a_job_reports_done_total_and_an_eta():
    from qa.pipeline import ReindexJob

    job = ReindexJob(id="j")
    job.progress("Embedding passages", 0, 100)
    job.stage_started -= 10  # ten seconds into the stage
    job.progress("Embedding passages", 25, 100)
    public = job.public()
    assert (public["stage"], public["done"], public["total"]) == ("Embedding passages", 25, 100)
    assert 25 <= public["eta_seconds"] <= 35  # 75 texts left at 2.5 a second


def test_the_library_page_lists_articles_and_skipped_files_and_reading_stays_open(library, tiny_settings,
                                                                                   tiny_assistant):
    client, settings = library
    page = client.get("/library").text  # no token needed to read
    assert 'data-admin="yes"' in page and 'id="upload-form"' in page
    for title in ("Volcanoes of Iceland", "The Golden Gate Bridge", "Emperor penguins"):
        assert title in page
    assert "notes.pdf</code>: not a PDF (content does not match the extension)" in page
    assert 'class="delete" data-id="penguins-1"' not in page  # a .jsonl record is removed by editing its file
    with TestClient(create_app(tiny_settings, tiny_assistant)) as open_client:
        page = open_client.get("/library").text
        assert 'data-admin="no"' in page and "upload-form" not in page and "Volcanoes of Iceland" in page
