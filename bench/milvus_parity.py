"""The same questions on both index backends: embedded FAISS + BM25, and Milvus.

    python bench/milvus_parity.py [--limit N] [--workdir DIR] [--uri MILVUS_URI]

On SQuAD v1.1 dev (all 48 articles), ``qa eval`` is run against the same corpus and vectors
three times: a FAISS warm-up (embedding the corpus if the workdir has no index yet), then Milvus
(a fresh collection filled from the vectors just computed), then FAISS again (written from the
Milvus version's vectors). The last two builds embed nothing, so their time is the ingest of each
backend: chunk bookkeeping, then FAISS + bm25s files or Milvus upserts (BM25 computed by Milvus).
Prints answer-recall@5, sentence hit@1 and per-question latency for both; appends to RESULTS.md.
The default Milvus is Milvus Lite (a file in the workdir); pass ``--uri http://host:19530`` for a
server.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SQUAD, append_results, require  # noqa: E402

sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=SQUAD / "dev-v1.1.json")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out" / "parity")
    parser.add_argument("--uri", help="Milvus to use (default: a Milvus Lite file in the workdir)")
    parser.add_argument("--limit", type=int, help="a seeded sample of questions (default: all)")
    args = parser.parse_args()
    require(args.dataset)

    from qa.config import Settings
    from qa.evaluate import run_eval
    from qa.stores.milvus import MilvusTarget, disconnect
    from qa.pipeline import make_embedder

    args.workdir.mkdir(parents=True, exist_ok=True)
    uri = args.uri or str(args.workdir / "milvus.db")
    if args.uri is None:
        Path(uri).unlink(missing_ok=True)  # a fresh collection: the ingest is measured whole
    base = Settings.from_env(milvus_uri=uri, milvus_collection="qa_parity")
    embedder = make_embedder(base)
    print("== warm-up: the FAISS index (embeds the corpus unless the workdir has it) ==", flush=True)
    warm = run_eval(args.dataset, limit=1, workdir=args.workdir, embedder=embedder, settings=replace(base, store="faiss"))
    print(f"   {warm['build']}", flush=True)
    runs = []
    for store in ("milvus", "faiss"):
        print(f"== {store} ==", flush=True)
        result = run_eval(args.dataset, limit=args.limit, workdir=args.workdir, embedder=embedder,
                          settings=replace(base, store=store), progress=sys.stderr.isatty())
        runs.append((store, result))
    disconnect(MilvusTarget.from_settings(base))

    lines = ["| backend | passages | build s (embedded) | ingest passages/s | answer-recall@5 | sentence hit@1 "
             "| latency p50 ms | p95 ms |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for label, r in runs:
        m, b, c = r["metrics"], r["build"], r["counts"]
        rate = f"{c['passages'] / b['seconds']:,.0f}" if b["seconds"] else "—"
        lines.append(f"| {label} | {c['passages']:,} | {b['seconds']:.1f} ({b['embedded']:,}) | {rate} | "
                     f"{m['recall@5']:.3f} | {m['sentence_hit@1']:.3f} | {m['latency_p50_ms']:.1f} | "
                     f"{m['latency_p95_ms']:.1f} |")
    milvus_m, faiss_m = runs[0][1]["metrics"], runs[1][1]["metrics"]
    lines += ["", f"Questions: {runs[0][1]['counts']['questions']:,}. Milvus − FAISS: answer-recall@5 "
              f"{100 * (milvus_m['recall@5'] - faiss_m['recall@5']):+.2f} points, sentence hit@1 "
              f"{100 * (milvus_m['sentence_hit@1'] - faiss_m['sentence_hit@1']):+.2f} points. Milvus: {uri}"]
    append_results("Milvus parity (bench/milvus_parity.py)", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
