"""Index-build embedding throughput: plain sentence-transformers vs the project's torch and ONNX int8 paths.

    python bench/embed_throughput.py [--sample 2000] [--rounds 2] [--limit 2000] [--torch-variants]
                                     [--workdir /tmp/qa-bench-embed]

The texts are exactly what ``qa index`` embeds for the SQuAD v1.1 dev corpus (48 Markdown articles):
the project's chunker with the model's tokenizer, passages then sentences, each distinct text once.
``--sample N`` times a seeded random sample of them (0: all). Every method is warmed up first, then
timed in interleaved rounds (plain, torch, onnx, plain, ...) so a change of load on a shared machine
hits all of them; the figures are the median round and the median of the speed-ups within a round. The ONNX export + quantisation is timed on its own,
into a fresh cache folder. Then ``qa eval --limit N`` runs once per backend (separate workdirs) for
answer-recall@5. ONNX Runtime is a default dependency (QA_BACKEND=onnx-int8 is the default).
Target (issue 6): ONNX int8 ≥ 2× plain encode, recall@5 lower by at most 0.5 points.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SQUAD, append_results, require, write_markdown_corpus  # noqa: E402

sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}/{five:.2f}/{fifteen:.2f}"


def index_texts(corpus: Path) -> tuple[list[str], int, int]:
    """The distinct passage and sentence texts ``build_index`` embeds, in its order."""
    from qa.chunk import Chunker, content_hash
    from qa.embed import SentenceTransformerEmbedder
    from qa.ingest import Ingestor

    tokenizer = SentenceTransformerEmbedder()  # count_tokens/max_tokens read tokenizer.json: no torch model load
    chunker = Chunker(max_tokens=tokenizer.max_tokens, count_tokens=tokenizer.count_tokens)
    passages, sentences = [], []
    for article in Ingestor().read(corpus).articles:
        spans = chunker.split_sentences(article)
        passages.extend(p.text for p in chunker.chunk(article, spans))
        sentences.extend(article.text[s.start : s.end] for s in spans)
    seen, texts = set(), []
    for text in passages + sentences:
        if content_hash(text) not in seen:
            seen.add(content_hash(text))
            texts.append(text)
    return texts, len(passages), len(sentences)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=2000, help="texts timed, a seeded sample (0: all)")
    parser.add_argument("--rounds", type=int, default=2, help="timed passes of each method (median reported)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--torch-variants", action="store_true",
                        help="also time the cheap torch-side changes: batch size 128, one torch thread")
    parser.add_argument("--limit", type=int, default=2000, help="questions per recall run (0: skip the recall runs)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/qa-bench-embed"))
    args = parser.parse_args()

    import numpy as np

    from qa.config import Settings
    from qa.embed import BackendUnavailable, OnnxInt8Embedder, resolve_model
    from qa.pipeline import make_embedder

    dataset = require(SQUAD / "dev-v1.1.json")
    corpus = args.workdir / "corpus"
    write_markdown_corpus(corpus, dataset)
    texts, n_passages, n_sentences = index_texts(corpus)
    timed = random.Random(0).sample(texts, args.sample) if 0 < args.sample < len(texts) else texts
    words = sum(len(t.split()) for t in timed) / len(timed)
    print(f"{len(texts)} distinct texts ({n_passages} passages, {n_sentences} sentences); timing {len(timed)}, "
          f"{words:.0f} words on average", file=sys.stderr)

    from sentence_transformers import SentenceTransformer

    plain = SentenceTransformer(resolve_model("all-MiniLM-L6-v2")[1], device="cpu")
    torch_path = make_embedder(Settings(batch_size=args.batch_size, backend="torch"))
    cache = args.workdir / "onnx-cache"
    shutil.rmtree(cache, ignore_errors=True)
    try:
        onnx_path = OnnxInt8Embedder(batch_size=args.batch_size, cache_dir=cache)
    except BackendUnavailable as error:
        sys.exit(str(error))
    load_before = load()
    started = time.perf_counter()
    onnx_path.encode(["warm"])
    export_s, first_load_s = onnx_path.export_seconds, time.perf_counter() - started

    methods = {
        f"plain `SentenceTransformer.encode(batch_size={args.batch_size})`":
            lambda batch: plain.encode(batch, batch_size=args.batch_size),
        "qa torch path (`QA_BACKEND=torch`)": torch_path.encode,
        "qa ONNX int8 path (`QA_BACKEND=onnx-int8`)": onnx_path.encode,
    }
    if args.torch_variants:
        import torch

        def one_thread(batch):
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return plain.encode(batch, batch_size=args.batch_size)
            finally:
                torch.set_num_threads(threads)

        methods["plain, `batch_size=128`"] = lambda batch: plain.encode(batch, batch_size=128)
        methods[f"plain, `torch.set_num_threads(1)` (default {torch.get_num_threads()})"] = one_thread
    outputs = {}
    for name, encode in methods.items():  # warm-up
        encode(timed[:64])
    seconds: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(args.rounds):
        for name, encode in methods.items():
            started = time.perf_counter()
            outputs[name] = np.asarray(encode(timed), dtype=np.float32)
            seconds[name].append(time.perf_counter() - started)
            print(f"  {name}: {len(timed) / seconds[name][-1]:.1f} texts/s (load {load()})", file=sys.stderr)
    load_after = load()
    names = list(methods)
    reference = outputs[names[0]] / np.linalg.norm(outputs[names[0]], axis=1, keepdims=True)
    base = statistics.median(seconds[names[0]])
    lines = [
        f"SQuAD v1.1 dev corpus: {len(texts)} distinct texts to embed ({n_passages} passages, {n_sentences} "
        f"sentences); timed on a seeded sample of {len(timed)} ({words:.0f} words on average), batch size "
        f"{args.batch_size}, {args.rounds} interleaved rounds after a warm-up, median round. "
        f"Load average (1/5/15 min) {load_before} before, {load_after} after, on 2 shared cores.",
        "",
        "| path | texts/s | speed-up vs plain | speed-up within each round: median (min–max) | rounds, texts/s "
        "| cosine to plain: mean / min |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in names:
        median = statistics.median(seconds[name])
        vectors = outputs[name] / np.linalg.norm(outputs[name], axis=1, keepdims=True)
        cosine = (vectors * reference).sum(axis=1)
        # Same-round ratios: the load on a shared machine changes between rounds more than within one.
        ratios = [p / s for p, s in zip(seconds[names[0]], seconds[name])]
        lines.append(f"| {name} | {len(timed) / median:.1f} | **{base / median:.2f}×** | "
                     f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f}) | "
                     f"{', '.join(f'{len(timed) / s:.1f}' for s in seconds[name])} | "
                     f"{cosine.mean():.4f} / {cosine.min():.4f} |")
    lines += ["", f"ONNX export + int8 quantisation, once per model (cached): {export_s:.1f} s; first load "
              f"including it {first_load_s:.1f} s; later loads read the cached file."]

    if args.limit:
        lines += ["", f"Answer-recall@5 (`qa eval dev-v1.1.json --limit {args.limit}`, same seeded questions):", "",
                  "| QA_BACKEND | recall@5 | recall@1 | MRR@10 | EM | F1 | index build s | load avg after |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        recall = {}
        for backend in ("torch", "onnx-int8"):
            workdir = args.workdir / f"eval-{backend}"
            shutil.rmtree(workdir / "index", ignore_errors=True)  # build from scratch: the build time is comparable
            report = args.workdir / f"eval-{backend}.json"
            xdg = args.workdir / "xdg-cache"
            shutil.copytree(cache, xdg / "qa" / "onnx", dirs_exist_ok=True)  # exported above: not in the build time
            env = {**os.environ, "QA_BACKEND": backend, "XDG_CACHE_HOME": str(xdg)}
            command = [sys.executable, "-m", "qa", "eval", str(dataset), "--limit", str(args.limit),
                       "--workdir", str(workdir), "--json", str(report), "-q"]
            print("  " + " ".join(command), f"(QA_BACKEND={backend})", file=sys.stderr)
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"qa eval failed with QA_BACKEND={backend}:\n{done.stderr[-2000:]}")
            results = json.loads(report.read_text(encoding="utf-8"))
            m = results["metrics"]
            recall[backend] = m["recall@5"]
            lines.append(f"| {backend} | {m['recall@5']:.2%} | {m['recall@1']:.2%} | {m['mrr@10']:.3f} | "
                         f"{m['exact_match']:.2%} | {m['f1']:.2%} | {results['build']['seconds']:.0f} | {load()} |")
        difference = (recall["onnx-int8"] - recall["torch"]) * 100
        lines += ["", f"recall@5 difference (onnx-int8 − torch): **{difference:+.2f} points** (target ≥ −0.5)."]
    append_results("Index-build embedding throughput (bench/embed_throughput.py)", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
