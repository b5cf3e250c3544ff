"""The chat in real headless Chromium (Debian's /usr/bin/chromium) through Playwright."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from live_server import LiveServer

CHROMIUM = "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing in CI: .ci/run must install Debian's chromium")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.browser

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
               "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def seed_server(seed_settings, seed_assistant):
    from qa.app import create_app

    with LiveServer(create_app(seed_settings, seed_assistant)) as server:
        yield server


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.allowed_problems = []  # messages a test expects (a refused sign-in's 401, say)
    yield page
    context.close()
    problems = [p for p in problems if not any(allowed in p for allowed in page.allowed_problems)]
    assert problems == [], problems  # no script errors, no CSP violations


@pytest.mark.model
def test_ask_follow_up_and_open_the_source(page, seed_server):
    page.goto(seed_server.url + "/")
    expect(page.get_by_role("heading", name="Ask about 1 article")).to_be_visible()
    page.evaluate("window.__noReload = true")
    box = page.get_by_label("Your question")
    box.fill("What did Rahmon and Patrushev discuss?")
    box.press("Enter")
    first = page.locator("#turn-0")
    expect(first.locator(".answer")).to_contain_text("Collective Security Treaty Organization")
    expect(first.locator("a.cite").first).to_have_text("[1]")
    expect(first.locator(".sources mark").first).to_be_visible()
    expect(first.locator(".timing")).to_contain_text("answered in")
    assert page.evaluate("window.__noReload") is True  # answered without a page load

    box.fill("When was he born?")
    box.press("Enter")
    second = page.locator("#turn-1")
    expect(second.locator(".answer")).to_contain_text("born July 11, 1951")
    expect(second.locator(".query")).to_contain_text("Patrushev")  # the subject came from the history

    # Shift+Enter adds a line instead of sending.
    box.fill("line one")
    box.press("Shift+Enter")
    assert page.locator(".turn").count() == 2 and "\n" in box.input_value()

    second.locator(".sources a").first.click()
    page.wait_for_url("**/articles/**")
    highlight = page.locator("mark#hl")
    expect(highlight).to_contain_text("born July 11, 1951")
    expect(highlight).to_be_in_viewport()


@pytest.mark.model
def test_example_question_is_clickable_and_no_answer_looks_different(page, seed_server):
    page.goto(seed_server.url + "/")
    page.locator("a.example").first.click()
    expect(page.locator("#turn-0")).to_be_visible()
    page.get_by_label("Your question").fill("What is the capital of France?")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#turn-1.no-answer .abstain")).to_contain_text("could not find")
    expect(page.locator("#turn-1 .related li").first).to_be_visible()


@pytest.mark.model
def test_works_without_javascript(browser, seed_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(seed_server.url + "/?q=Who+is+Nikolai+Patrushev%3F")
    expect(page.locator("#turn-0 .answer")).to_contain_text("Russian politician")
    page.get_by_label("Your question").fill("When was he born?")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#turn-0 .answer")).to_contain_text("born July 11, 1951")
    context.close()


def test_hostile_articles_render_as_text_and_run_nothing(browser, tmp_path):
    from qa.app import create_app
    from qa.config import Settings
    from qa.embed import FakeEmbedder
    from qa.pipeline import Assistant, build_index

    corpus = tmp_path / "hostile"
    corpus.mkdir()
    (corpus / "evil.txt").write_text(
        'The payload <script>window.__pwned = 1; alert("pwned")</script> sits in this sentence. '
        'An image <img src=x onerror="window.__pwned = 2; alert(2)"> follows here.'
    )
    (corpus / "evil-page.html").write_text(
        "<html><head><title>Evil &lt;script&gt;alert(3)&lt;/script&gt;</title></head><body>"
        "<p>Text with &lt;img src=x onerror=alert(4)&gt; escaped markup inside the payload sentence.</p>"
        "<script>alert(5)</script></body></html>"
    )
    settings = Settings.from_env({}, corpus=corpus, index=tmp_path / "idx", min_confidence=0.0)
    embedder = FakeEmbedder()
    build_index(settings, embedder)
    dialogs = []
    with LiveServer(create_app(settings, Assistant.load(settings, embedder))) as server:
        context = browser.new_context()
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(server.url + "/")
        page.get_by_label("Your question").fill("payload sentence image")
        page.get_by_label("Your question").press("Enter")
        expect(page.locator("#turn-0 .answer")).to_contain_text("<")
        page.goto(server.url + "/?q=payload+sentence+image")
        page.goto(server.url + "/articles/evil")
        expect(page.locator(".article-text")).to_contain_text('<script>window.__pwned = 1; alert("pwned")</script>')
        page.goto(server.url + "/articles/evil")
        assert page.evaluate("window.__pwned") is None
        context.close()
    assert dialogs == []


@pytest.fixture
def library_server(tmp_path, fake_embedder):
    from qa.app import create_app
    from qa.config import Settings
    from qa.pipeline import Assistant, build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bread.md").write_text("# Bread\n\nBread is baked in ovens at about 220 degrees.\n", encoding="utf-8")
    settings = Settings.from_env({}, corpus=corpus, index=tmp_path / "index", model=fake_embedder.name, reader="off",
                                 min_confidence=0.0, admin_token="s3cret-token", reload_interval=0)
    build_index(settings, fake_embedder)
    with LiveServer(create_app(settings, Assistant.load(settings, fake_embedder))) as server:
        yield server


def test_library_upload_ask_with_page_and_delete(page, library_server):
    from test_documents import PAGE_SENTENCES, make_docx, make_pdf

    page.on("dialog", lambda dialog: dialog.accept("s3cret-token" if dialog.type == "prompt" else None))
    page.goto(library_server.url + "/library")
    expect(page.get_by_role("heading", name="Library")).to_be_visible()
    expect(page.locator("table.articles tbody tr")).to_have_count(1)
    page.set_input_files("#files", files=[{"name": "coast.pdf", "mimeType": "application/pdf",
                                           "buffer": make_pdf(PAGE_SENTENCES)}])
    dropped = page.evaluate_handle(
        "(bytes) => { const data = new DataTransfer();"
        " data.items.add(new File([new Uint8Array(bytes)], 'guide.docx')); return data; }", list(make_docx()))
    page.dispatch_event("#drop", "drop", {"dataTransfer": dropped})
    expect(page.locator("#chosen li")).to_have_count(2)
    page.get_by_role("button", name="Upload and rebuild").click()
    expect(page.locator("#job-summary")).to_contain_text("added 2", timeout=30_000)
    expect(page.locator("#job-progress")).to_have_attribute("value", "1")
    page.wait_for_load_state("load")
    expect(page.locator("table.articles tbody tr")).to_have_count(3, timeout=10_000)
    expect(page.locator("tr[data-id='coast'] td").nth(3)).to_have_text("3")  # pages

    page.goto(library_server.url + "/")
    box = page.get_by_label("Your question")
    box.fill("When was the Halvorsen lighthouse automated?")
    box.press("Enter")
    turn = page.locator("#turn-0")
    expect(turn.locator(".answer")).to_contain_text("automated in 1987")
    expect(turn.locator(".sources .page").first).to_have_text("p. 3")
    turn.locator(".sources a").first.click()
    page.wait_for_url("**/articles/coast**")
    expect(page.locator("#page-3")).to_be_visible()
    expect(page.locator("mark#hl")).to_contain_text("automated in 1987")

    page.goto(library_server.url + "/library")
    page.locator("button.delete[data-id='coast']").click()
    expect(page.locator("#job-summary")).to_contain_text("removed 1", timeout=30_000)
    expect(page.locator("tr[data-id='coast']")).to_have_count(0, timeout=10_000)
    page.goto(library_server.url + "/")
    box = page.get_by_label("Your question")
    box.fill("When was the Halvorsen lighthouse automated?")
    box.press("Enter")
    expect(page.locator("#turn-0 .answer")).not_to_contain_text("automated in 1987")


@pytest.fixture
def keyed_server(tiny_settings, tiny_assistant):
    from dataclasses import replace

    from qa.app import create_app

    settings = replace(tiny_settings, api_keys="team:team-key-0123456", reload_interval=0)
    with LiveServer(create_app(settings, tiny_assistant)) as server:
        yield server


def test_sign_in_then_ask_and_an_expired_session_signs_in_again(page, keyed_server):
    page.allowed_problems.append("status of 401 (Unauthorized)")  # the wrong key's page says 401
    page.goto(keyed_server.url + "/library")
    page.wait_for_url("**/signin?next=%2Flibrary")
    page.get_by_label("API key").fill("not-the-key-000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("That key is not valid.")
    page.get_by_label("API key").fill("team-key-0123456")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/library")
    expect(page.get_by_role("heading", name="Library")).to_be_visible()
    cookies = page.context.cookies()
    assert [c["httpOnly"] for c in cookies if c["name"] == "qa_session"] == [True]
    assert all("team-key" not in c["value"] for c in cookies)

    page.goto(keyed_server.url + "/")
    box = page.get_by_label("Your question")
    box.fill("Which country is the largest coffee producer?")
    box.press("Enter")
    expect(page.locator("#turn-0 .answer")).to_contain_text("Brazil")

    session = next(c for c in page.context.cookies() if c["name"] == "qa_session")
    expired = keyed_server.app.state.keys.cookie_for("team", now=0.0)
    page.context.add_cookies([{**session, "value": expired}])
    page.goto(keyed_server.url + "/")
    page.wait_for_url("**/signin?next=%2F")
    page.get_by_label("API key").fill("team-key-0123456")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(keyed_server.url + "/")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/signin")
    assert not [c for c in page.context.cookies() if c["name"] == "qa_session"]


@pytest.fixture
def tiny_server(tiny_settings, tiny_assistant):
    from dataclasses import replace

    from qa.app import create_app

    with LiveServer(create_app(replace(tiny_settings, reload_interval=0), tiny_assistant)) as server:
        yield server


def test_feedback_from_the_chat_is_stored_and_exported(page, tiny_server, tiny_settings, tmp_path):
    from qa.pipeline import export_feedback

    page.goto(tiny_server.url + "/")
    box = page.get_by_label("Your question")
    box.fill("Which country is the largest coffee producer?")
    box.press("Enter")
    turn = page.locator("#turn-0")
    expect(turn.locator(".answer")).to_contain_text("Brazil")
    turn.get_by_role("button", name="Helpful", exact=True).click()
    expect(turn.locator(".feedback-done")).to_have_text("Thank you: noted.")
    box.fill("When did Eyjafjallajökull erupt?")
    box.press("Enter")
    second = page.locator("#turn-1")
    second.get_by_role("button", name="Not helpful").click()
    second.get_by_label("What was wrong, or what is the right answer? (optional)").fill("in 2010")
    second.get_by_role("button", name="Send").click()
    expect(second.locator(".feedback-done")).to_have_text("Thank you: noted.")
    rows = [json.loads(line) for line in export_feedback(tiny_settings, "jsonl").splitlines()]
    assert [(r["verdict"], r["comment"]) for r in rows] == [("up", None), ("down", "in 2010")]
    assert rows[0]["sentences"][0]["text"].startswith("Brazil")
    # ... and runs through qa eval: the helpful answer is a question with its sentence as the gold answer
    from dataclasses import replace

    from qa.embed import FakeEmbedder
    from qa.evaluate import run_eval

    exported = tmp_path / "feedback.json"
    exported.write_text(export_feedback(tiny_settings, "squad"), encoding="utf-8")
    results = run_eval(exported, embedder=FakeEmbedder(), settings=replace(tiny_settings, reader="off"),
                       workdir=tmp_path / "eval")
    by_question = {r["question"]: r for r in results["questions"]}
    assert results["counts"]["answerable"] == 2  # the comment "in 2010" is found in the volcano article
    assert by_question["Which country is the largest coffee producer?"]["hit1"]
