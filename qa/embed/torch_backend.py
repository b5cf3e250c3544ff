"""sentence-transformers on torch (``QA_BACKEND=torch``). The only module that imports sentence_transformers."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from qa.config import DEFAULT_MODEL
from qa.embed.base import ModelNotFound, progress_bar, quiet_offline_env, resolve_model, token_vectors_of
from qa.tokens import TokenVectors


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
        quiet_offline_env()
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
        return vectors, [token_vectors_of(hidden[k], ids[k], offsets[k, :, 0], mask[k] & ~special[k], skip[k])
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


