"""Question + windows of article text -> the answer span in each window, and how sure the reader is there is one.

The reader is all-MiniLM-L6-v2 fine-tuned on SQuAD v1.1 train as a span reader with "no answer"
(``python -m qa.reader_training``; weights and model card in ``qa/models/reader``). It runs on ONNX
Runtime with int8 weights, exported from the shipped weights once per machine into
``onnx_cache_root()``, as the embedder does. Windows are short (a candidate sentence and its
neighbours), so reading the few best candidates costs a few milliseconds, not a paragraph each.
Spans map back to the article through the tokenizer's character offsets: every span is a slice of
the article text, never rebuilt from tokens.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.config import PACKAGE_DIR
from qa.types import ScoredSentence, Span

READER_DIR = PACKAGE_DIR / "models" / "reader"
"""The reader shipped in the package (fp16 safetensors, its tokenizer, training record and model card)."""


class ReaderUnavailable(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Window:
    """Text the reader reads: ``text`` is ``article.text[start:start + len(text)]``.

    ``units`` are the sentences inside it (article offsets): the reader gives the best span of each, so
    sentences read together in one window still compete one by one. Empty: the whole window is one unit.
    ``context`` is read before the text but never answers (for a table row: the table's header row).
    """

    article_id: str
    start: int
    text: str
    units: tuple[tuple[int, int], ...] = ()
    context: str = ""

    @property
    def unit_spans(self) -> tuple[tuple[int, int], ...]:
        """The units, or the whole window as one."""
        return self.units or ((self.start, self.start + len(self.text)),)


@dataclass(frozen=True, slots=True)
class Reading:
    """The best span of one unit of a window (a sentence), in article offsets, with its logits.

    ``span_score`` is the start plus end logit of the span, ``null_score`` that of "no answer"
    (the [CLS] token): ``margin`` above 0 means the reader would rather answer from this window.
    """

    window: int
    article_id: str
    start: int
    end: int
    span_score: float
    null_score: float

    @property
    def margin(self) -> float:
        return self.span_score - self.null_score


def best_spans(start_logits: np.ndarray, end_logits: np.ndarray, allowed: np.ndarray,
               max_answer_tokens: int = 30) -> tuple[int, int, float]:
    """The best (start token, end token, start + end logit) among ``allowed`` tokens, end >= start,
    at most ``max_answer_tokens`` long; (-1, -1, -inf) when no token is allowed."""
    n = len(start_logits)
    if not allowed.any():
        return -1, -1, float("-inf")
    start = np.where(allowed, start_logits, -np.inf)
    end = np.where(allowed, end_logits, -np.inf)
    scores = start[:, None] + end[None, :]
    offsets = np.arange(n)
    band = (offsets[None, :] >= offsets[:, None]) & (offsets[None, :] < offsets[:, None] + max_answer_tokens)
    scores = np.where(band, scores, -np.inf)
    flat = int(np.argmax(scores))
    first, last = divmod(flat, n)
    return first, last, float(scores[first, last])


def windows_around(sentences: Sequence[ScoredSentence], count: int = 3, neighbours: int = 1,
                   context: Callable[[str, int], str] | None = None,
                   already_read: Sequence[Window] = ()) -> list[Window]:
    """Windows for the ``count`` best sentences: each with ``neighbours`` sentences either side in its
    passage ("He died in 1546." needs the sentence naming him), overlapping windows merged.
    ``context(article_id, start)`` gives what the reader reads before a window (``Window.context``).
    Sentences read as units of ``already_read`` windows are not read again: neither as a candidate (its
    span is known) nor as a neighbour (the window stops short of it)."""
    done = {(w.article_id, unit) for w in already_read for unit in w.unit_spans}
    spans: dict[str, list[tuple[int, int, ScoredSentence, int]]] = {}
    for rank, sentence in enumerate(sentences[:count]):
        if (sentence.article_id, (sentence.start, sentence.end)) in done:
            continue
        passage = sentence.hit.passage
        position = next((i for i, s in enumerate(passage.sentences) if s.start == sentence.start), None)
        if position is None:
            lo, hi = sentence.start, sentence.end
        else:
            first = last = position
            while first > max(0, position - neighbours) and not _was_read(done, sentence, passage.sentences[first - 1]):
                first -= 1
            while (last < min(len(passage.sentences) - 1, position + neighbours)
                   and not _was_read(done, sentence, passage.sentences[last + 1])):
                last += 1
            lo, hi = passage.sentences[first].start, passage.sentences[last].end
        spans.setdefault(passage.id, []).append((lo, hi, sentence, rank))
    ranked_windows = []
    for parts in spans.values():
        parts.sort(key=lambda part: part[0])
        merged: list[list] = []
        for lo, hi, sentence, rank in parts:
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
                merged[-1][3] = min(merged[-1][3], rank)
            else:
                merged.append([lo, hi, sentence, rank])
        for lo, hi, sentence, rank in merged:
            passage = sentence.hit.passage
            units = tuple((s.start, s.end) for s in passage.sentences if lo <= s.start and s.end <= hi) or ((lo, hi),)
            text = passage.text[lo - passage.start : hi - passage.start]
            ranked_windows.append((rank, Window(sentence.article_id, lo, text, units,
                                                context(sentence.article_id, lo) if context else "")))
    # best first, as the reader may stop after a window: one that only opens the passage before the best
    # sentence's must not stop it before the best sentence is read
    return [window for _, window in sorted(ranked_windows, key=lambda pair: pair[0])]


def _was_read(done: set, sentence: ScoredSentence, neighbour: Span) -> bool:
    """Whether ``neighbour``, a sentence of ``sentence``'s passage, is among the ``done`` units."""
    return (sentence.article_id, (neighbour.start, neighbour.end)) in done


class SpanReader:
    """Reads windows for a question with the trained reader on ONNX Runtime (int8). Thread-safe."""

    def __init__(self, folder: str | Path = READER_DIR, threads: int = 1, cache_dir: str | Path | None = None,
                 max_tokens: int = 256, max_answer_tokens: int = 30):
        self.folder = Path(folder)
        if not (self.folder / "model.safetensors").exists() or not (self.folder / "reader_head.safetensors").exists():
            raise ReaderUnavailable(f"no reader weights in {self.folder} (model.safetensors and "
                                    "reader_head.safetensors); retrain with `python -m qa.reader_training --out "
                                    f"{self.folder}` or set QA_READER=off")
        from qa.embed.export import onnx_cache_root

        self.cache_dir = Path(cache_dir) if cache_dir else onnx_cache_root()
        self.threads = max(1, threads)
        self.max_tokens = max_tokens
        self.max_answer_tokens = max_answer_tokens
        self.export_seconds: float | None = None
        self._lock = threading.Lock()
        self._session = None
        self._tokenizer = None

    @cached_property
    def identity(self) -> dict:
        """What names these weights: recorded in the index manifest and shown by /health."""
        digest = hashlib.sha256()
        for name in ("model.safetensors", "reader_head.safetensors"):
            with open(self.folder / name, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        record = {}
        if (self.folder / "training.json").exists():
            record = json.loads((self.folder / "training.json").read_text(encoding="utf-8"))
        return {"name": "qa-reader", "sha256": digest.hexdigest()[:16], "step": record.get("step"),
                "base_model": record.get("base_model"), "backend": "onnx-int8"}

    def cache_path(self) -> Path:
        from qa.embed.export import quantization_config

        key = json.dumps({"weights": self.identity["sha256"], "quantization": quantization_config()}, sort_keys=True)
        return self.cache_dir / f"qa-reader-{hashlib.sha256(key.encode()).hexdigest()[:12]}"

    def load(self) -> None:
        """Export (once per machine) and open the model; ``read`` calls it when needed."""
        with self._lock:
            if self._session is None:
                self._session, self._tokenizer = self._open()

    def read(self, question: str, windows: Sequence[Window],
             enough: Callable[[Sequence[Reading]], bool] | None = None) -> list[Reading]:
        """The best span of each unit of each window (windows in order, units in order); with ``enough``,
        the windows after the one whose readings it finds enough are not read.

        Each window runs on its own rather than padded into one batch: padding to the longest window cost a
        quarter of the tokens in the slowest questions, and since int8 activations are quantized per tensor
        at run time, a window's spans would otherwise depend on the windows read beside it.
        """
        if not windows:
            return []
        if self._session is None:
            self.load()
        readings = []
        for row, window in enumerate(windows):
            readings += self._read_window(question, row, window)
            if enough is not None and enough(readings):
                break
        return readings

    def _read_window(self, question: str, row: int, window: Window) -> list[Reading]:
        # The context goes first, on a line of its own; its tokens fall before the window's start, so no
        # span can begin there.
        prefix = window.context + "\n" if window.context else ""
        encoding = self._tokenizer.encode(question, prefix + window.text)
        feeds = {name: np.array([values], np.int64) for name, values in
                 (("input_ids", encoding.ids), ("attention_mask", encoding.attention_mask),
                  ("token_type_ids", encoding.type_ids))}
        start_logits, end_logits = (logits[0] for logits in self._session.run(None, feeds))
        context = np.array([s == 1 for s in encoding.sequence_ids])
        shift = window.start - len(prefix)
        token_start = np.array([o[0] for o in encoding.offsets]) + shift
        token_end = np.array([o[1] for o in encoding.offsets]) + shift
        null = float(start_logits[0] + end_logits[0])
        readings = []
        for lo, hi in window.unit_spans:
            allowed = context & (token_start >= lo) & (token_end <= hi)
            first, last, score = best_spans(start_logits, end_logits, allowed, self.max_answer_tokens)
            if first < 0:  # the unit was cut off by the token limit
                readings.append(Reading(row, window.article_id, lo, lo, float("-inf"), null))
                continue
            readings.append(Reading(row, window.article_id, int(token_start[first]), int(token_end[last]), score, null))
        return readings

    # -- export once, then load ---------------------------------------------------------------------------------

    def _open(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from qa.embed.export import export_once

        folder = self.cache_path()
        onnx_file = folder / "reader_qint8.onnx"
        self.export_seconds = export_once("the reader", self.cache_dir, folder, onnx_file.name, self._export)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        # Idle threads sleep instead of spinning: concurrent questions each run their own session call.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=self.max_tokens, strategy="only_second")
        tokenizer.no_padding()
        return session, tokenizer

    def _export(self, work: Path) -> None:
        _export_reader(self.folder, work)
        (work / "meta.json").write_text(json.dumps(self.identity, indent=2), encoding="utf-8")


def _export_reader(weights: Path, work: Path) -> None:
    """``work/reader_qint8.onnx``: the encoder and its start/end head, int8 MatMul weights."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    from qa.embed.export import quantize_int8

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    encoder = AutoModel.from_pretrained(str(weights), attn_implementation="eager").float().eval()
    head = torch.nn.Linear(encoder.config.hidden_size, 2)
    head.load_state_dict({k: v.float() for k, v in load_file(str(weights / "reader_head.safetensors")).items()})

    class SpanLogits(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.head = encoder, head

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            start, end = self.head(hidden).unbind(-1)
            padding = attention_mask == 0
            return start.masked_fill(padding, -1e4), end.masked_fill(padding, -1e4)

    sample = torch.ones((2, 12), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "start_logits", "end_logits"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(SpanLogits().eval(), (sample, sample, torch.zeros_like(sample)), str(work / "reader.onnx"),
                          input_names=names, output_names=["start_logits", "end_logits"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)
    quantize_int8(work / "reader.onnx", work / "reader_qint8.onnx")
    (work / "reader.onnx").unlink()


