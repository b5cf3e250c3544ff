"""The ``qa`` command: index, ask, serve, eval. Heavy imports happen inside the commands."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from qa._version import __version__
from qa.config import SAMPLE_CORPUS, SETTINGS_DOC, Settings, SettingsError


def _env_help() -> str:
    return "environment (command-line options win):\n" + "\n".join(
        f"  QA_{name.upper():<18} {doc}" for name, doc in SETTINGS_DOC.items()
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa",
        description="Answer questions about a folder of articles with sentences quoted from them, each cited.",
        epilog=_env_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"qa {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = commands.add_parser("index", help="build or update the index from the corpus",
                            description="Build the index from the corpus. Incremental: only new or changed "
                            "text is embedded unless --full. With --ray the embedding runs on a Ray cluster "
                            "(Ray Data), into whatever index the settings choose.")
    p.add_argument("--corpus", type=Path, help="corpus folder [QA_CORPUS, default: the bundled sample article]")
    p.add_argument("--index", type=Path, help="index folder [QA_INDEX, default index/]")
    p.add_argument("--model", help="embedding model [QA_MODEL]")
    p.add_argument("--full", action="store_true", help="re-embed everything instead of reusing vectors")
    p.add_argument("--wait", action="store_true", help="wait for a rebuild already running instead of failing")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="embed on a Ray cluster with Ray Data, one model per worker (pip install 'qa[ray]'): "
                   "alone, a private local cluster listening on 127.0.0.1 only, stopped afterwards; or join a "
                   "running one from one of its machines: auto, or the GCS address HOST:PORT (its nodes need "
                   "qa's dependencies and the same model; not ray://, which Ray Data does not support)")
    p.add_argument("--ray-workers", type=int, metavar="N",
                   help="Ray embedding workers, one CPU and one model copy each (default: the cluster's CPUs)")

    p = commands.add_parser("ask", help="answer one question", description="Answer one question from the index.")
    p.add_argument("question", help="the question, in quotes")
    p.add_argument("--index", type=Path, help="index folder [QA_INDEX, default index/]")
    p.add_argument("--model", help="embedding model [QA_MODEL]")
    p.add_argument("--top-k", type=int, help="passages to retrieve, 1–20 [QA_TOP_K, default 5]")
    p.add_argument("--json", action="store_true", help="print the same JSON as the /ask API")

    p = commands.add_parser("serve", help="run the web chat and the JSON API",
                            description="Serve the chat page and the /ask API; builds the index first when missing.")
    p.add_argument("--host", help="listen address [QA_HOST, default 127.0.0.1]")
    p.add_argument("--port", type=int, help="port [QA_PORT, default 8000]")
    p.add_argument("--index", type=Path, help="index folder [QA_INDEX, default index/]")
    p.add_argument("--corpus", type=Path, help="corpus folder: the index is built from it, or updated when it "
                   "exists (only what changed is embedded) [QA_CORPUS, default: the bundled sample article, "
                   "used only when there is no index yet]")
    p.add_argument("--model", help="embedding model [QA_MODEL]")

    p = commands.add_parser("eval", help="measure the assistant on a SQuAD-format dataset (v1.1 or v2.0)",
                            description="Index the dataset's articles (one per SQuAD article) with the normal "
                            "pipeline, ask its questions and report retrieval recall, quoted-sentence hits, "
                            "EM/F1, abstention and latency.")
    p.add_argument("dataset", type=Path, help="SQuAD JSON file (dev-v1.1.json, dev-v2.0.json, ...)")
    p.add_argument("--limit", type=int, help="ask a random sample of N questions instead of all")
    p.add_argument("--seed", type=int, default=0, help="random seed of the sample (default 0)")
    p.add_argument("--articles", metavar="START-END",
                   help="only these articles, 1-based and inclusive, in file order (e.g. 1-24)")
    p.add_argument("--top-k", type=int, help="passages retrieved per question, 1–20 [QA_TOP_K, default 5]")
    p.add_argument("--workdir", type=Path, help="keep the corpus and index here (a second run reuses the "
                   "embeddings); default: a temporary folder")
    p.add_argument("--json", type=Path, metavar="FILE", help="write metrics, config and per-question records")
    p.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report with plots")
    p.add_argument("--model", help="embedding model [QA_MODEL]")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress")

    p = commands.add_parser("feedback", help="export what users said about answers",
                            description="Export the feedback stored in qa.sqlite3 (QA_DATA_DIR, default the index "
                            "folder).")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    e = actions.add_parser("export", help="write the feedback as SQuAD (for qa eval) or JSON lines",
                           description="squad: a SQuAD v2.0 file qa eval reads: a helpful answer's first quoted "
                           "sentence is the gold answer; a not-helpful one becomes a question whose answer is its "
                           "comment where the comment is found verbatim in a cited article, else unanswerable.")
    e.add_argument("--format", choices=("squad", "jsonl"), default="jsonl")
    e.add_argument("--verdict", choices=("up", "down"), help="only this verdict (default: both)")
    e.add_argument("--out", type=Path, help="write here (default: standard output)")
    e.add_argument("--index", type=Path, help="index folder [QA_INDEX, default index/]")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env(
            corpus=getattr(args, "corpus", None), index=getattr(args, "index", None),
            model=getattr(args, "model", None), host=getattr(args, "host", None),
            port=getattr(args, "port", None), top_k=getattr(args, "top_k", None),
        )
    except SettingsError as error:
        print(f"qa: {error}", file=sys.stderr)
        return 2
    from qa.pipeline import CorpusError, IndexProblem, ModelNotFound, ReaderUnavailable, RebuildRunning

    try:
        return {"index": cmd_index, "ask": cmd_ask, "serve": cmd_serve, "eval": cmd_eval,
                "feedback": cmd_feedback}[args.command](settings, args)
    except (CorpusError, IndexProblem, RebuildRunning, ModelNotFound, ReaderUnavailable) as error:
        print(f"qa: {error}", file=sys.stderr)
        return 1 if isinstance(error, RebuildRunning) else 2
    except KeyboardInterrupt:
        return 130


def _status(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_index(settings: Settings, args) -> int:
    from qa.pipeline import DistributedError, build_index, make_ray_embedder  # ray is imported only when used

    if args.ray_workers is not None and (args.ray is None or args.ray_workers < 1):
        print("qa: --ray-workers needs --ray and a number of at least 1", file=sys.stderr)
        return 2
    embedder = None
    try:
        if args.ray is not None:
            embedder = make_ray_embedder(settings, address=args.ray, workers=args.ray_workers)
            embedder.preflight()
        report = build_index(settings, embedder, full=args.full, progress=not args.quiet and sys.stderr.isatty(),
                             wait=args.wait, on_stage=_status if not args.quiet else (lambda m: None))
    except DistributedError as error:
        print(f"qa: {error}", file=sys.stderr)
        return 2
    finally:
        if embedder is not None:
            embedder.close()  # stops a cluster it started; nothing was started if nothing needed embedding
    print(report.summary())
    return 0


def cmd_ask(settings: Settings, args) -> int:
    from qa.pipeline import Assistant

    question = args.question.strip()
    if not question or len(question) > 1000:
        print("qa: the question must be 1–1000 characters", file=sys.stderr)
        return 2
    reply = Assistant.load(settings).ask(question, top_k=settings.top_k)
    if args.json:
        print(json.dumps(reply.to_dict(), ensure_ascii=False, indent=2))
        return 0
    if reply.short_answer:
        print(f"Short answer: {reply.short_answer.text}\n")
    print(reply.answer)
    if reply.answerable:
        print()
        for c in reply.citations:
            print(f"[{c.id}] {c.title} ({c.source}, characters {c.start}–{c.end})")
        print(f"\nconfidence {reply.confidence:.2f}")
    elif reply.passages:
        print("\nClosest passages:")
        for p in reply.passages[:3]:
            snippet = " ".join(p.text.split())
            print(f"- {p.title}: {snippet[:160]}{'…' if len(snippet) > 160 else ''}")
    return 0


def cmd_serve(settings: Settings, args) -> int:
    from qa.pipeline import build_index, index_exists

    corpus_given = args.corpus is not None or bool(os.environ.get("QA_CORPUS"))
    if not index_exists(settings):
        _status(f"No index in {settings.index}/ yet: building it from {settings.corpus}/ …")
    elif corpus_given:
        # Incremental: only what changed in the corpus is embedded; nothing changed, nothing is written.
        _status(f"Updating the index in {settings.index}/ from {settings.corpus}/ …")
    if not index_exists(settings) or corpus_given:
        report = build_index(settings, progress=sys.stderr.isatty(), on_stage=_status)
        _status(report.summary())
    if not corpus_given:
        what = "the sample article bundled with qa" if settings.corpus == SAMPLE_CORPUS else str(settings.corpus)
        _status(f"Answering from the index in {settings.index}/ ({what}). To use your own articles: "
                "qa serve --corpus ~/articles (a folder of .txt, .md, .html, .jsonl, .pdf or .docx files; the index goes "
                "into ./index unless --index)")
    import uvicorn

    from qa.app import create_app
    from qa.pipeline import Assistant

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app = create_app(settings, Assistant.load(settings))
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    _status(f"qa is ready: open http://{host}:{settings.port}/  (API docs: http://{host}:{settings.port}/docs)")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0


def cmd_eval(settings: Settings, args) -> int:
    from qa.evaluate import EvalError, format_table, parse_article_range, run_eval, write_html, write_json

    if args.limit is not None and args.limit < 1:
        print("qa: --limit must be at least 1", file=sys.stderr)
        return 2
    try:
        articles = parse_article_range(args.articles)
    except EvalError as error:
        print(f"qa: --articles: {error}", file=sys.stderr)
        return 2
    for option, path in (("--json", args.json), ("--html", args.html)):
        if path is not None and not path.resolve().parent.is_dir():
            print(f"qa: {option}: the folder of {str(path)!r} does not exist", file=sys.stderr)
            return 2
    quiet = args.quiet
    try:
        results = run_eval(args.dataset, limit=args.limit, seed=args.seed, articles=articles, top_k=settings.top_k,
                           workdir=args.workdir, settings=settings, progress=not quiet,
                           on_stage=_status if not quiet else (lambda m: None))
    except EvalError as error:
        print(f"qa: {error}", file=sys.stderr)
        return 2
    try:
        if args.json:
            write_json(results, args.json)
        if args.html:
            write_html(results, args.html)
    except OSError as error:
        print(f"qa: cannot write the report: {error}", file=sys.stderr)
        return 2
    print(format_table(results))
    for kind, path in (("JSON", args.json), ("HTML", args.html)):
        if path:
            print(f"{kind} report: {path}")
    return 0


def cmd_feedback(settings: Settings, args) -> int:
    from qa.pipeline import export_feedback

    text = export_feedback(settings, args.format, args.verdict)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"qa: wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
