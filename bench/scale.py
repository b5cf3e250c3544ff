"""The index at scale: synthetic, deterministic collections of 100k and 1M passages (no model needed).

    python bench/scale.py [--sizes 100000 1000000] [--types auto flat pq hnsw ivf] [--queries 200]

Vectors are random unit vectors (seeded); queries are noisy copies of stored vectors (cosine about
0.7 to their source, like a question to its passage). For each size and index type, a child
process builds the index (time, peak RSS) and another loads it and searches one query at a time
(p50/p99 ms, peak RSS while serving, recall@10 against exact search). BM25 is built and queried
over generated text of the same size. Figures are appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, append_results  # noqa: E402

sys.path.insert(0, str(ROOT))
DIM = 384


def vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        block = rng.standard_normal((min(100_000, n - start), DIM), dtype=np.float32)
        out[start : start + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def queries(base: np.ndarray, count: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    q = base[rng.integers(0, len(base), count)] + rng.standard_normal((count, DIM), dtype=np.float32) / np.sqrt(DIM)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def child_build(n: int, kind: str, folder: Path, count: int) -> dict:
    from qa.stores import VectorIndexSpec, VectorSearch

    base = vectors(n)
    q = queries(base, count)
    truth = []  # exact search, the oracle
    for row in q:
        scores = base @ row
        top = np.argpartition(-scores, 10)[:10]
        truth.append(top[np.argsort(-scores[top])])
    truth = np.vstack(truth)
    np.save(folder / "queries.npy", q)
    np.save(folder / "truth.npy", truth)
    started = time.perf_counter()
    search = VectorSearch.build(base, VectorIndexSpec(kind=kind))
    seconds = time.perf_counter() - started
    search.write(folder / "index.faiss")
    (folder / "params.json").write_text(json.dumps(search.params))
    return {"build_s": seconds, "params": search.params}


def child_search(folder: Path) -> dict:
    from qa.stores import VectorSearch

    search = VectorSearch.read(folder / "index.faiss", json.loads((folder / "params.json").read_text()))
    q, truth = np.load(folder / "queries.npy"), np.load(folder / "truth.npy")
    timings, hits = [], 0
    for row, expected in zip(q, truth):
        started = time.perf_counter()
        found = search.search(row.reshape(1, -1), 10)[0]
        timings.append((time.perf_counter() - started) * 1000)
        hits += len({r for r, _ in found} & set(expected.tolist()))
    return {"p50_ms": float(np.median(timings)), "p99_ms": float(np.percentile(timings, 99)),
            "recall10": hits / (10 * len(q))}


def bm25_texts(n: int) -> list[str]:
    rng = np.random.default_rng(2)
    vocabulary = np.array([f"w{i}" for i in range(50_000)])
    ranks = np.arange(1, 50_001)
    p = (1 / ranks) / (1 / ranks).sum()  # Zipf-like word frequencies
    return [" ".join(vocabulary[rng.choice(50_000, 40, p=p)]) for _ in range(n)]


def child_bm25(n: int, folder: Path, count: int) -> dict:
    """Build and write the BM25 index, and the queries: the first six words of random passages."""
    from qa.stores import LexicalIndex

    texts = bm25_texts(n)
    started = time.perf_counter()
    lexical = LexicalIndex.build(texts)
    build = time.perf_counter() - started
    lexical.write(folder)
    rng = np.random.default_rng(3)
    (folder / "queries.json").write_text(json.dumps([" ".join(texts[i].split()[:6]) for i in rng.integers(0, n, count)]))
    return {"build_s": build}


def child_bm25_search(folder: Path) -> dict:
    """Load the written BM25 index (as serving does) and query it: latency and resident memory."""
    from qa.stores import LexicalIndex

    lexical = LexicalIndex.read(folder)
    timings = []
    for query in json.loads((folder / "queries.json").read_text()):
        started = time.perf_counter()
        scores = lexical.scores(query)
        np.argpartition(-scores, 100)[:100]
        timings.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": float(np.median(timings)), "p99_ms": float(np.percentile(timings, 99))}


def run_child(*args: str) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--types", nargs="*", default=["flat", "pq", "hnsw", "ivf"], help="none: BM25 only")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--skip-bm25", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        what = args.child[0]
        if what == "build":
            out = child_build(int(args.child[1]), args.child[2], Path(args.child[3]), int(args.child[4]))
        elif what == "search":
            out = child_search(Path(args.child[1]))
        elif what == "bm25":
            out = child_bm25(int(args.child[1]), Path(args.child[2]), int(args.child[3]))
        else:
            out = child_bm25_search(Path(args.child[1]))
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out))
        return 0

    lines = ["| passages | index | build s | build peak RSS MB | search p50 ms | p99 ms | serving peak RSS MB | recall@10 vs exact |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"] if args.types else []
    for n in args.sizes:
        for kind in args.types:
            with tempfile.TemporaryDirectory() as tmp:
                built = run_child("build", str(n), kind, tmp, str(args.queries))
                searched = run_child("search", tmp)
            line = (f"| {n:,} | {kind} {json.dumps(built['params'])} | {built['build_s']:.1f} | {built['peak_rss_mb']:.0f} | "
                    f"{searched['p50_ms']:.2f} | {searched['p99_ms']:.2f} | {searched['peak_rss_mb']:.0f} | "
                    f"{searched['recall10']:.3f} |")
            print(line, flush=True)
            lines.append(line)
    if not args.skip_bm25:
        lines += [""] * bool(lines) + ["| passages | BM25 build s | build peak RSS MB | query p50 ms | p99 ms | serving peak RSS MB |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for n in args.sizes:
            with tempfile.TemporaryDirectory() as tmp:
                bm = run_child("bm25", str(n), tmp, str(args.queries))
                served = run_child("bm25-search", tmp)
            line = (f"| {n:,} | {bm['build_s']:.1f} | {bm['peak_rss_mb']:.0f} | {served['p50_ms']:.2f} | "
                    f"{served['p99_ms']:.2f} | {served['peak_rss_mb']:.0f} |")
            print(line, flush=True)
            lines.append(line)
    append_results("Index at scale (bench/scale.py)", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
