"""The same model on ONNX Runtime with int8 weights (``QA_BACKEND=onnx-int8``, the default)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np

from qa.config import DEFAULT_MODEL
from qa.embed.base import BackendUnavailable, ModelNotFound, quiet_offline_env, token_vectors_of
from qa.embed.export import export_once, export_quantized, onnx_cache_root, quantization_config
from qa.embed.torch_backend import SentenceTransformerEmbedder
from qa.tokens import TokenVectors


class OnnxInt8Embedder(SentenceTransformerEmbedder):
    """The same model run by ONNX Runtime with dynamically quantised int8 weights (``QA_BACKEND=onnx-int8``).

    The model is exported from its local weights once (torch, then onnxruntime's quantiser) into
    ``onnx_cache_root()``; nothing is downloaded. Tokenising (``tokenizer.json``), pooling (the model's
    ``Pooling`` config) and normalising happen here, like sentence-transformers does them. The backend
    is part of ``name``, so an index built with one backend is refused when served with the other.
    """

    backend = "onnx-int8"
    _needs = ("onnxruntime", "onnx")

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, cache_dir: str | Path | None = None,
                 threads: int = 0):
        """``threads``: ONNX Runtime's threads per encode (0: its default, every core); as for torch."""
        super().__init__(model, batch_size=batch_size, device="cpu", threads=threads)
        import importlib.util

        missing = [name for name in self._needs if importlib.util.find_spec(name) is None]
        if missing:
            raise BackendUnavailable(
                f"QA_BACKEND=onnx-int8 needs {' and '.join(missing)}, which are not installed: "
                "pip install onnxruntime onnx (or set QA_BACKEND=torch)"
            )
        self.base_name = self.name
        self.name = f"{self.base_name}+{self.backend}"
        self.cache_dir = Path(cache_dir) if cache_dir is not None else onnx_cache_root()
        self.export_seconds: float | None = None  # set when this instance had to export (not a cache hit)
        self._layout_read: dict | None = None

    # -- what the model folder says -------------------------------------------------------------------------------

    @property
    def _layout(self) -> dict:
        # Read on first use, as torch loads late: a server without an index says so before the model matters.
        if self._layout_read is None:
            self._layout_read = self._read_layout()
        return self._layout_read

    def _model_folder(self) -> Path:
        folder = Path(self._load_from)
        if folder.is_dir():
            return folder
        try:  # a hub name already in the local cache, as sentence-transformers would load it offline
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(self._load_from, local_files_only=True))
        except Exception:
            raise ModelNotFound(
                f"QA_BACKEND=onnx-int8 needs a local model folder; {self.base_name!r} is neither a folder nor in "
                "the local Hugging Face cache (set QA_MODEL to a model folder, or QA_BACKEND=torch)"
            ) from None

    def _read_layout(self) -> dict:
        folder = self._model_folder()
        modules_file = folder / "modules.json"
        modules = json.loads(modules_file.read_text(encoding="utf-8")) if modules_file.exists() else [
            {"type": "sentence_transformers.models.Transformer", "path": ""}]
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
            raise ModelNotFound(
                f"QA_BACKEND=onnx-int8 supports Transformer + Pooling (+ Normalize) models, not {' + '.join(kinds)}: "
                "use QA_BACKEND=torch"
            )
        transformer = folder / modules[0].get("path", "")
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
        modes = [m for m in ("cls_token", "mean_tokens", "max_tokens") if pooling.get(f"pooling_mode_{m}")]
        others = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v
                  and k[len("pooling_mode_"):] not in ("cls_token", "mean_tokens", "max_tokens")]
        if len(modes) != 1 or others:
            raise ModelNotFound("QA_BACKEND=onnx-int8 supports one of cls, mean or max pooling: use QA_BACKEND=torch")
        st_config = {}
        for name in ("sentence_bert_config.json",):
            if (transformer / name).exists():
                st_config = json.loads((transformer / name).read_text(encoding="utf-8"))
        tokenizer_file = transformer / "tokenizer.json"
        if not tokenizer_file.exists():
            raise ModelNotFound(f"QA_BACKEND=onnx-int8 needs {tokenizer_file}: use QA_BACKEND=torch")
        tokenizer_config = {}
        if (transformer / "tokenizer_config.json").exists():
            tokenizer_config = json.loads((transformer / "tokenizer_config.json").read_text(encoding="utf-8"))
        max_tokens = int(st_config.get("max_seq_length") or tokenizer_config.get("model_max_length") or 512)
        return {"transformer": transformer, "pooling": modes[0], "dimension": int(pooling["word_embedding_dimension"]),
                "max_tokens": min(max_tokens, 100_000), "lower": bool(st_config.get("do_lower_case")),
                "tokenizer": tokenizer_file}

    @property
    def dimension(self) -> int:
        return self._layout["dimension"]

    @property
    def max_tokens(self) -> int:
        return self._layout["max_tokens"]

    def count_tokens(self, text: str) -> int:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self._layout["tokenizer"]))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._tokenizer = lambda t: len(tokenizer.encode(t).ids)
        return self._tokenizer(text)

    # -- export once, then load --------------------------------------------------------------------------------

    def cache_path(self) -> Path:
        """The folder holding this model's quantised ONNX file (its name changes when the weights do)."""
        transformer = self._layout["transformer"]
        weights = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in transformer.iterdir()
                         if p.suffix in (".safetensors", ".bin") and p.is_file())
        key = json.dumps({"model": str(transformer.resolve()), "weights": weights,
                          "quantization": quantization_config()}, sort_keys=True)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(self.base_name).name)[:60] or "model"
        return self.cache_dir / f"{slug}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"

    def _load(self):
        quiet_offline_env()
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = self.cache_path()
        onnx_file = folder / "model_qint8.onnx"
        self.export_seconds = export_once(f"{self.base_name} with ONNX Runtime", self.cache_dir, folder,
                                          onnx_file.name, self._export)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # One thread per run: a text is too short for ONNX Runtime's intra-op threads to pay (one question
        # while serving); a build runs texts on every core at once instead (1.23x its own threading here).
        options.intra_op_num_threads = self.threads or 1
        options.inter_op_num_threads = 1
        workers = 1 if self.threads else len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        if self.threads:
            from threadpoolctl import threadpool_limits

            threadpool_limits(self.threads, user_api="blas")  # as for torch: see SentenceTransformerEmbedder._load
        session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(self._layout["tokenizer"]))
        tokenizer.enable_truncation(max_length=self.max_tokens)
        tokenizer.no_padding()
        return _OnnxModel(session, tokenizer, self._layout["pooling"], self._layout["lower"], self.dimension,
                          workers=workers)

    def _export(self, work: Path) -> None:
        """Export the local weights to ONNX and quantise them, into ``work``."""
        export_quantized(self._layout["transformer"], work, self._layout["tokenizer"])
        (work / "model.onnx").unlink()
        (work / "meta.json").write_text(json.dumps(
            {"model": self.base_name, "source": str(self._layout["transformer"]), "backend": self.backend,
             "quantization": quantization_config()}, indent=2), encoding="utf-8")

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self.model
        with self._encode_lock:
            return model.encode(texts)

    def _forward_tokens(self, texts: list[str], skip: list[int]) -> tuple[np.ndarray, list[TokenVectors]]:
        return self.model.encode_with_tokens(texts, skip)


class _OnnxModel:
    """An ONNX Runtime session with the model's tokenizer and pooling: texts -> unit vectors."""

    def __init__(self, session, tokenizer, pooling: str, lower: bool, dimension: int, workers: int = 1):
        """``workers``: texts run on this many threads at once (a session is safe to share; each run
        releases the GIL), each text alone as always, so the vectors do not change."""
        self.session = session
        self.dimension = dimension
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.lower = lower
        self.inputs = [i.name for i in session.get_inputs()]
        self.workers = max(1, workers)
        self._threads = None

    def encode(self, texts: list[str]) -> np.ndarray:
        """One text per run, never padded batches: dynamic quantisation scales the activations of a whole
        batch at once, so batch neighbours would change a text's vector (cosine 0.989 between a sentence
        alone and in a batch of 32). Alone, a text always gets the same vector, and at the same speed
        (measured at batch sizes 1, 4, 8 and 32)."""
        return self._run(texts, None, with_tokens=False)[0]

    def encode_with_tokens(self, texts: list[str],
                           skip: list[int] | None = None) -> tuple[np.ndarray, list[TokenVectors]]:
        """Vectors, and each text's token vectors (special tokens and those before ``skip[i]`` left out)."""
        return self._run(texts, skip, with_tokens=True)

    def _run(self, texts: list[str], skip: list[int] | None,
             with_tokens: bool) -> tuple[np.ndarray, list[TokenVectors]]:
        if self.workers == 1 or len(texts) < 2:
            return self._run_here(texts, skip, with_tokens)
        if self._threads is None:
            from concurrent.futures import ThreadPoolExecutor

            self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="qa-onnx")
        parts = [slice(i, len(texts), self.workers) for i in range(min(self.workers, len(texts)))]
        done = list(self._threads.map(lambda part: self._run_here(texts[part], skip[part] if skip else None,
                                                               with_tokens), parts))
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        tokens: list = [None] * len(texts) if with_tokens else []
        for part, (part_vectors, part_tokens) in zip(parts, done):
            vectors[part] = part_vectors
            if with_tokens:
                tokens[part] = part_tokens
        return vectors, tokens

    def _run_here(self, texts: list[str], skip: list[int] | None,
                  with_tokens: bool) -> tuple[np.ndarray, list[TokenVectors]]:
        texts = [t.lower() for t in texts] if self.lower else texts
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        tokens = []
        for row, encoded in enumerate(self.tokenizer.encode_batch(texts)):
            feed = {"input_ids": np.array([encoded.ids], dtype=np.int64),
                    "attention_mask": np.array([encoded.attention_mask], dtype=np.int64),
                    "token_type_ids": np.array([encoded.type_ids], dtype=np.int64)}
            hidden = self.session.run(None, {n: feed[n] for n in self.inputs})[0]
            out[row] = self._pool(hidden, feed["attention_mask"])[0]
            if not with_tokens:
                continue
            keep = np.array(encoded.attention_mask, bool) & ~np.array(encoded.special_tokens_mask, bool)
            tokens.append(token_vectors_of(hidden[0], np.array(encoded.ids), np.array([o[0] for o in encoded.offsets]),
                                         keep, skip[row] if skip else 0))
        return out, tokens

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.pooling == "cls_token":
            vectors = hidden[:, 0]
        elif self.pooling == "max_tokens":
            vectors = np.where(mask[..., None] > 0, hidden, -1e9).max(axis=1)
        else:
            weights = mask[..., None].astype(np.float32)
            vectors = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.clip(norms, 1e-12, None), dtype=np.float32)


