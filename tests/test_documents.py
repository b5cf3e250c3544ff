"""PDF and DOCX: real files made here, read with their pages and structure; bad ones skipped with a reason."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from qa.documents import DocumentError, DocumentReader, parse_limited, sniff
from qa.ingest import Ingestor

PAGE_SENTENCES = [
    "The lighthouse keeper lit the lamp every evening at dusk.",
    "Storms on the northern coast were frequent in the winter months.",
    "The Halvorsen lighthouse was automated in 1987 after ninety years of service.",
]


def make_pdf(pages: list[str], title: str | None = "Lighthouses of the North", encrypt: str | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    raw = bytes(pdf.output())
    if encrypt:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(raw)))
        writer.encrypt(encrypt)
        out = io.BytesIO()
        writer.write(out)
        raw = out.getvalue()
    return raw


def make_docx(title: str | None = "Field guide") -> bytes:
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    document.add_heading("Setting up camp", level=1)
    document.add_paragraph("Choose flat ground away from the river. Clear stones before you pitch the tent.")
    document.add_paragraph("You will need the following:")
    document.add_paragraph("a four-season tent", style="List Bullet")
    document.add_paragraph("a stove with spare gas", style="List Bullet")
    document.add_heading("Water", level=2)
    document.add_paragraph("Boil stream water for one minute before drinking it.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Item", "Weight"
    table.cell(1, 0).text, table.cell(1, 1).text = "Tent", "2.1 kg"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_pdf_keeps_its_pages_and_metadata_title(tmp_path):
    (tmp_path / "coast.pdf").write_bytes(make_pdf(PAGE_SENTENCES))
    report = Ingestor().read(tmp_path)
    (article,) = report.articles
    assert article.title == "Lighthouses of the North" and article.source == "coast.pdf"
    assert article.pages is not None and len(article.pages) == 3 and article.pages[0] == 0
    for page, sentence in enumerate(PAGE_SENTENCES, 1):
        at = article.text.index(sentence)
        assert article.page_at(at) == page
    assert article.page_at(0) == 1


def test_a_docx_becomes_markdown_with_headings_lists_and_table_rows(tmp_path):
    (tmp_path / "guide.docx").write_bytes(make_docx())
    (article,) = Ingestor().read(tmp_path).articles
    assert article.title == "Field guide" and article.pages is None
    assert "## Setting up camp" in article.text and "### Water" in article.text
    assert "- a four-season tent\n- a stove with spare gas" in article.text
    assert "| Tent | 2.1 kg |" in article.text

    from qa.chunk import Chunker

    units = [article.text[s.start:s.end] for s in Chunker().split_sentences(article)]
    assert not any(u.startswith("#") for u in units)  # headings are structure, never quoted
    assert "a four-season tent" in " ".join(units)


def test_titles_fall_back_to_the_first_heading_then_the_file_name(tmp_path):
    (tmp_path / "untitled.docx").write_bytes(make_docx(title=None))
    (tmp_path / "plain.pdf").write_bytes(make_pdf(["It rained. The road was closed for a day."], title=None))
    titles = {a.source: a.title for a in Ingestor().read(tmp_path).articles}
    assert titles == {"untitled.docx": "Setting up camp", "plain.pdf": "plain"}


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
        archive.writestr("word/padding.xml", b"\0" * 30_000_000)
    return out.getvalue()


def test_bad_documents_are_skipped_with_their_reasons_and_lose_nothing_else(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.pdf").write_bytes(make_pdf(PAGE_SENTENCES))
    (corpus / "good.docx").write_bytes(make_docx())
    (corpus / "notes.md").write_text("# Notes\n\nA plain note that stays.\n", encoding="utf-8")
    (corpus / "scanned.pdf").write_bytes(make_pdf(["", ""], title=None))
    (corpus / "locked.pdf").write_bytes(make_pdf(PAGE_SENTENCES, encrypt="secret"))
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100)
    (corpus / "notazip.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (corpus / "text.docx").write_text("just text in disguise", encoding="utf-8")
    (corpus / "bomb.docx").write_bytes(zip_bomb())
    (corpus / "renamed.docx").write_bytes(make_pdf(PAGE_SENTENCES))
    (corpus / "huge.pdf").write_bytes(make_pdf(PAGE_SENTENCES) + b"%" * 3_000_000)
    report = Ingestor(max_file_bytes=2_000_000).read(corpus)
    assert sorted(a.source for a in report.articles) == ["good.docx", "good.pdf", "notes.md"]
    reasons = dict(report.problems)
    assert reasons["scanned.pdf"] == "PDF without a text layer (scanned?)"
    assert reasons["locked.pdf"] == "encrypted PDF (needs a password)"
    assert reasons["broken.pdf"] == "damaged PDF (cannot be read)"
    assert reasons["notazip.docx"].startswith("not a DOCX")
    assert reasons["text.docx"].startswith("not a DOCX")
    assert reasons["bomb.docx"] == "DOCX unpacks too large (zip bomb?)"
    assert reasons["renamed.docx"] == "wrong extension (a PDF named .docx)"
    assert report.skipped["larger than QA_MAX_FILE_BYTES"] == 1
    assert sum(report.skipped.values()) == 8


def test_an_unchanged_document_is_parsed_once(tmp_path):
    raw = make_pdf(PAGE_SENTENCES)
    reader = DocumentReader(tmp_path / "cache")
    first = reader.read(raw, ".pdf")
    assert reader.parsed == 1
    again = DocumentReader(tmp_path / "cache")  # a later build, a new process
    assert again.read(raw, ".pdf") == first and again.parsed == 0
    with pytest.raises(DocumentError):
        again.read(b"%PDF-1.4 nothing", ".pdf")
    with pytest.raises(DocumentError):  # failures are cached too: a hostile file is not parsed on every build
        again.read(b"%PDF-1.4 nothing", ".pdf")
    assert again.parsed == 1


def test_a_parser_past_its_deadline_is_stopped():
    with pytest.raises(DocumentError, match="longer than"):
        parse_limited("pdf", make_pdf(PAGE_SENTENCES * 50), seconds=0.0001)


def test_the_kind_comes_from_the_content():
    assert sniff(make_pdf(["x"])) == "pdf" and sniff(make_docx()) == "docx"
    assert sniff(b"hello") is None and sniff(b"PK\x03\x04broken") is None


def test_a_pdf_question_is_cited_with_its_page(tmp_path: Path, fake_embedder):
    from qa.config import Settings
    from qa.pipeline import Assistant, build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "coast.pdf").write_bytes(make_pdf(PAGE_SENTENCES))
    (corpus / "other.md").write_text("# Other\n\nBread is baked in ovens.\n", encoding="utf-8")
    settings = Settings.from_env({}, corpus=corpus, index=tmp_path / "index", model=fake_embedder.name,
                                 reader="off", min_confidence=0.0)
    report = build_index(settings, fake_embedder)
    assert report.parsed == 1
    assistant = Assistant.load(settings, fake_embedder)
    reply = assistant.ask("When was the Halvorsen lighthouse automated?")
    first = reply.sentences[0]
    assert first.text == PAGE_SENTENCES[2] and first.page == 3
    article = assistant.article(first.article_id)
    for item in (*reply.citations, *reply.passages):  # a passage's page is where it starts
        expected = article.page_at(item.start) if item.article_id == article.id else None
        assert item.page == expected
    assert reply.to_dict()["sentences"][0]["page"] == 3
    rebuilt = build_index(settings, fake_embedder, full=True)
    assert rebuilt.parsed == 0  # the text came from the cache


def test_the_chat_shows_the_page_and_the_article_view_marks_page_breaks(tmp_path: Path, fake_embedder):
    from fastapi.testclient import TestClient

    from qa.app import create_app
    from qa.config import Settings
    from qa.pipeline import Assistant, build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "coast.pdf").write_bytes(make_pdf(PAGE_SENTENCES))
    settings = Settings.from_env({}, corpus=corpus, index=tmp_path / "index", model=fake_embedder.name,
                                 reader="off", min_confidence=0.0, reload_interval=0)
    build_index(settings, fake_embedder)
    assistant = Assistant.load(settings, fake_embedder)
    with TestClient(create_app(settings, assistant)) as client:
        turn = client.post("/chat/turn", json={"question": "When was the Halvorsen lighthouse automated?"}).text
        assert '<span class="page muted">p. 3</span>' in turn
        article = assistant.article("coast")
        at = article.text.index(PAGE_SENTENCES[2])
        view = client.get(f"/articles/coast?hl={at}-{at + len(PAGE_SENTENCES[2])}").text
        assert [f'id="page-{n}"' in view for n in (1, 2, 3)] == [True, True, True]
        assert view.index('id="page-3"') < view.index('id="hl"') and view.count('id="hl"') == 1
