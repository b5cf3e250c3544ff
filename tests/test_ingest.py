
import pytest

from qa.ingest import CorpusError, Ingestor, decode, parse_html, parse_markdown, slugify


def test_reads_every_supported_format_with_titles(tiny_corpus):
    report = Ingestor().read(tiny_corpus)
    by_id = {a.id: a for a in report.articles}
    assert set(by_id) == {"coffee", "volcanoes", "news-bridge", "penguins-1"}
    assert by_id["coffee"].title == "coffee"
    assert by_id["volcanoes"].title == "Volcanoes of Iceland"
    assert not by_id["volcanoes"].text.startswith("---")
    assert by_id["news-bridge"].title == "The Golden Gate Bridge"
    assert "alert" not in by_id["news-bridge"].text and "p{}" not in by_id["news-bridge"].text
    assert by_id["penguins-1"].title == "Emperor penguins"
    assert by_id["penguins-1"].url == "https://example.org/p"
    assert report.skipped == {"not a PDF (content does not match the extension)": 1,
                              "jsonl line without a text string": 1}


def test_ids_come_from_paths_not_order(tmp_path):
    (tmp_path / "b.txt").write_text("Bravo text.")
    first = {a.id for a in Ingestor().read(tmp_path).articles}
    (tmp_path / "a.txt").write_text("Alpha text.")
    second = {a.id for a in Ingestor().read(tmp_path).articles}
    assert first == {"b"} and second == {"a", "b"}


def test_jsonl_without_id_gets_a_content_id_independent_of_line(tmp_path):
    (tmp_path / "f.jsonl").write_text('{"text": "One."}\n{"text": "Two."}\n')
    ids = [a.id for a in Ingestor().read(tmp_path).articles]
    (tmp_path / "f.jsonl").write_text('{"text": "Zero."}\n{"text": "Two."}\n')
    ids_after = [a.id for a in Ingestor().read(tmp_path).articles]
    assert ids[1] == ids_after[1] and ids[0] != ids_after[0]


def test_markdown_title_from_first_heading():
    assert parse_markdown("intro\n# The Title #\nbody")[0] == "The Title"
    assert parse_markdown("no heading")[0] is None


def test_html_visible_text_keeps_blocks_and_drops_scripts():
    title, text = parse_html("<h1>Head</h1><p>One &amp; two</p><div>Three<script>x()</script></div>")
    assert title == "Head"
    assert text.splitlines() == ["Head", "One & two", "Three"]


def test_decode_never_fails():
    assert decode("café".encode("cp1252")) == "café"
    assert decode(b"\xef\xbb\xbfbom") == "bom"
    assert isinstance(decode(bytes(range(128, 256))), str)


def test_skips_binary_large_and_outside_symlinks(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "ok.txt").write_text("Fine text.")
    (corpus / "bin.txt").write_bytes(b"abc\x00def")
    (corpus / "big.txt").write_text("x" * 200)
    (tmp_path / "secret.txt").write_text("outside")
    (corpus / "link.txt").symlink_to(tmp_path / "secret.txt")
    report = Ingestor(max_file_bytes=100).read(corpus)
    assert [a.id for a in report.articles] == ["ok"]
    assert report.skipped["binary (NUL bytes)"] == 1
    assert report.skipped["larger than QA_MAX_FILE_BYTES"] == 1
    assert report.skipped["symlink outside the corpus"] == 1


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        Ingestor().read(tmp_path / "nope")


def test_slugify_is_path_safe():
    assert slugify("../../etc/passwd") == "etc-passwd"
    assert slugify("a b/c") == "a-b-c"
    assert slugify("///") == "article"
