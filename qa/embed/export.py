"""Exporting a model to ONNX once, and quantising it to int8: for the embedder and the reader."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path


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


def export_quantized(transformer: Path, work: Path, tokenizer_file: Path) -> None:
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


