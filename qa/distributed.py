"""Embedding on a Ray cluster with Ray Data (``qa index --ray``). The only module that imports ray, lazily.

``RayEmbedder`` is an ``Embedder`` (see ``qa.embed``): name, dimension, token limit and token counts come
from a local embedder of the same configuration (the tokenizer only; the model is not loaded here), while
``encode`` sends the texts through a Ray Data pipeline: a table of (row, text) in blocks, ``map_batches``
over a fixed pool of actors that each load the model once (one CPU, one torch thread each), and the
vectors put back in input order. Every actor builds the embedder exactly as the local path does (same
model, same backend, normalised float32), and reports the model identity it used, which must match.

Without an address a private local cluster is started, bound to loopback only, and stopped by
``close()``. Ray keeps every listener on 127.0.0.1 only when its node address is the loopback one, and
``ray.init(_node_ip_address="127.0.0.1")`` is not enough: Ray replaces a loopback address by the
machine's reachable one (``services.resolve_ip_for_localhost``), and its gRPC servers then listen on
all interfaces. What works is Ray's single-machine mode, ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` (read
when ray is imported), in which the node address is 127.0.0.1 and the GCS, raylet, object manager,
core workers, runtime-env agent (and the dashboard agent, where installed) listen there;
``include_dashboard=False`` starts no dashboard server either. The node address is checked after start.

The workers import this very ``qa``: on a local cluster its folder goes on their ``PYTHONPATH`` (so an
uninstalled checkout works too); a cluster joined by address gets the package as a runtime-env
``py_modules`` upload, and needs qa's dependencies and the model on its nodes. Ray Data needs its driver
inside the cluster, so ``ray://`` (Ray Client) is refused; a cluster with token authentication (the
default of ``ray start`` in recent Ray) needs Ray's own ``RAY_AUTH_MODE=token`` in the environment.
"""

from __future__ import annotations

import logging
import math
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from qa.embed import Embedder

LOCAL = "local"
"""The ``--ray`` value (and ``address=None``) that starts a private cluster on this machine."""

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


class DistributedError(RuntimeError):
    """Ray is missing, cannot be reached, or the embedding on it failed."""


class _EmbedBatches:
    """The Ray Data actor: loads the model once (in ``__init__``), then embeds batch after batch."""

    def __init__(self, model: str, batch_size: int, backend: str):
        from qa.embed import make_sentence_embedder

        # One thread: the actor holds one CPU, and parallelism comes from the actors.
        self.embedder = make_sentence_embedder(model, batch_size=batch_size, backend=backend, threads=1)
        self.embedder.model  # load now, not inside the first batch

    def __call__(self, batch: dict) -> dict:
        texts = [str(text) for text in batch["text"]]
        vectors = np.ascontiguousarray(self.embedder.encode(texts), dtype=np.float32)
        return {"row": np.asarray(batch["row"], dtype=np.int64), "vector": vectors,
                "model": np.array([self.embedder.name] * len(texts), dtype=object)}


def _import_ray(local: bool):
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # offline: no usage report, no notice about it
    if local:
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # single-machine mode: node address 127.0.0.1
    try:
        import ray
        import ray.data  # noqa: F401 (ray without the data extra fails here)
    except ImportError as error:
        raise DistributedError(f"--ray needs Ray Data ({error}): pip install 'qa[ray]'") from None
    if local and "ray._private.ray_constants" in sys.modules:
        # ray was imported before the variable was set: make the same choice on the loaded module.
        sys.modules["ray._private.ray_constants"].ENABLE_RAY_CLUSTER = False
    return ray


def _package_root() -> str:
    """The folder that holds the ``qa`` package this process runs."""
    return str(Path(__file__).resolve().parent.parent)


class RayEmbedder:
    """An ``Embedder`` whose ``encode`` runs on a Ray cluster (Ray Data, one model per actor).

    ``local``: an embedder of the same configuration, used for ``name``, ``dimension``, ``max_tokens``
    and ``count_tokens`` only. ``model``, ``backend``, ``batch_size``: how each actor builds its embedder
    (``qa.pipeline.make_ray_embedder`` makes one from the settings). ``address``: None or ``"local"`` starts a private cluster on
    127.0.0.1; ``"auto"`` or ``"HOST:PORT"`` (the GCS address) joins a running one, from a machine of that
    cluster (not ``ray://``: Ray Data does not run over Ray Client). A ray already initialised in this
    process is used as it is. ``workers``: actors (default: the cluster's CPUs, at least 1). ``num_cpus``:
    CPUs of a local cluster (default: ``workers``, else this machine's). The cluster is started on the
    first ``encode`` with texts; one started here is stopped by ``close()`` (or leaving a ``with`` block).
    """

    def __init__(self, local: Embedder, *, model: str, backend: str = "onnx-int8", batch_size: int = 32,
                 address: str | None = None, workers: int | None = None, num_cpus: int | None = None):
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if address and address.startswith("ray://"):
            # Ray Data needs a driver inside the cluster: over Ray Client it fails deep inside (ray #48682).
            raise DistributedError(f"{address}: Ray Data does not run over Ray Client (ray://); run qa index on a "
                                   "node of the cluster with --ray auto, or --ray HOST:PORT (the GCS address)")
        self.local = local
        self.name = local.name
        self.model = model
        self.backend = backend
        self.batch_size = batch_size
        self.address = None if address in (None, "", LOCAL) else address
        self.workers = workers
        self.num_cpus = num_cpus
        self._ray = None
        self._started = False  # True when close() must stop the cluster
        self._dimension = 0

    # -- the Embedder protocol: metadata from the local embedder ---------------------------------------------

    @property
    def dimension(self) -> int:
        # Known once the workers returned vectors; before that the local embedder says (it may load the model).
        return self._dimension or self.local.dimension

    @property
    def max_tokens(self) -> int:
        return self.local.max_tokens

    def count_tokens(self, text: str) -> int:
        return self.local.count_tokens(text)

    def encode(self, texts: Sequence[str], *, progress: bool = False, desc: str = "Embedding") -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        ray = self.start()
        import pyarrow as pa

        workers = self.actors()
        rows_per_block = _rows_per_block(len(texts), workers, self.batch_size)
        blocks = [pa.table({"row": np.arange(i, min(i + rows_per_block, len(texts)), dtype=np.int64),
                            "text": pa.array(texts[i : i + rows_per_block], type=pa.string())})
                  for i in range(0, len(texts), rows_per_block)]
        workers = min(workers, len(blocks))  # an actor with no block would load the model for nothing
        dataset = ray.data.from_arrow(blocks).map_batches(
            _EmbedBatches,
            fn_constructor_kwargs={"model": self.model, "batch_size": self.batch_size, "backend": self.backend},
            batch_size=self.batch_size, batch_format="numpy", num_cpus=1, **_actor_pool(ray, workers),
        )
        out: np.ndarray | None = None
        seen = np.zeros(len(texts), dtype=bool)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(texts), desc=f"{desc} on Ray ({workers} workers)", unit="text", file=sys.stderr,
                       dynamic_ncols=True)
        try:
            for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                rows, vectors = np.asarray(batch["row"], dtype=np.int64), np.asarray(batch["vector"], np.float32)
                names = set(batch["model"].tolist())
                if names != {self.name}:
                    raise DistributedError(f"the Ray workers embedded with {sorted(names)!r}, not {self.name!r}: "
                                           "the cluster must have the same model and backend as this machine")
                if out is None:
                    out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
                out[rows] = vectors
                seen[rows] = True
                if bar is not None:
                    bar.update(len(rows))
        except DistributedError:
            raise
        except Exception as error:  # a worker's failure arrives as a long RayTaskError: keep its gist
            raise DistributedError(f"embedding on Ray failed: {_gist(error)}") from error
        finally:
            if bar is not None:
                bar.close()
        if out is None or not seen.all():
            raise DistributedError(f"Ray returned {int(seen.sum())} of {len(texts)} vectors")
        self._dimension = out.shape[1]
        return out

    # -- the cluster -----------------------------------------------------------------------------------------

    def preflight(self) -> None:
        """Fail now, not after reading the corpus, when ray is missing or a HOST:PORT address answers nothing.
        Starts nothing: a local cluster is only started when there is something to embed."""
        _import_ray(self.address is None)
        if self.address is not None:
            _check_reachable(self.address)

    def start(self):
        """Start or join the cluster (once); returns the ray module."""
        if self._ray is not None:
            return self._ray
        local = self.address is None
        ray = _import_ray(local)
        _quiet_ray_data(ray)
        if ray.is_initialized():
            self._ray = ray
            return ray
        options = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
        try:
            if local:
                root = _package_root()
                path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
                ray.init(address=LOCAL, num_cpus=self.num_cpus or self.workers or os.cpu_count() or 1,
                         # the workers import this very qa, installed or not
                         runtime_env={"env_vars": {"PYTHONPATH": path}}, **options)
            else:
                _check_reachable(self.address)
                # the workers run this machine's qa code; its dependencies and the model must be on the cluster
                ray.init(address=self.address, runtime_env={"py_modules": [str(Path(__file__).resolve().parent)]},
                         **options)
        except DistributedError:
            raise
        except Exception as error:
            if ray.is_initialized():
                ray.shutdown()  # whatever part of it came up
            raise DistributedError(f"cannot start or join Ray at {self.address or 'a local cluster'}: "
                                   f"{_gist(error)}") from error
        self._ray, self._started = ray, True
        if local:
            node_ip = ray.util.get_node_ip_address()
            if node_ip not in _LOOPBACK:
                self.close()
                raise DistributedError(f"the local Ray cluster took the address {node_ip}, not 127.0.0.1: "
                                       "refusing to run it on a reachable address")
        return ray

    def actors(self) -> int:
        """Embedding actors: ``workers``, else the cluster's CPUs (at least 1)."""
        if self.workers:
            return self.workers
        ray = self.start()
        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def close(self) -> None:
        """Stop the cluster if it was started here (a cluster joined or found running is left alone)."""
        if self._ray is not None and self._started:
            self._ray.shutdown()
        self._ray, self._started = None, False

    def __enter__(self) -> RayEmbedder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _actor_pool(ray, size: int) -> dict:
    """A fixed pool of ``size`` actors, said the way this Ray version does not log a deprecation for:
    ``concurrency=`` from 2.9 to 2.50, ``compute=ActorPoolStrategy(size=)`` from 2.51."""
    version = tuple(int(part) for part in re.findall(r"\d+", ray.__version__)[:2])
    if version < (2, 51):
        return {"concurrency": size}
    return {"compute": ray.data.ActorPoolStrategy(size=size)}


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Fail fast on a HOST:PORT that nothing answers (ray.init would retry for minutes)."""
    import socket

    host, _, port = address.rstrip("/").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and other forms: ray resolves them (and fails quickly if there is no cluster)
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as error:
        raise DistributedError(f"cannot reach Ray at {address}: {error}") from None


def _rows_per_block(texts: int, workers: int, batch_size: int) -> int:
    """Rows of one input block: about four blocks a worker (so they all get work, and a slow one gets less),
    at least a batch unless that leaves a worker idle, at most 16 batches (the progress bar moves)."""
    target = math.ceil(texts / (workers * 4))
    return max(1, min(max(target, min(batch_size, math.ceil(texts / workers))), batch_size * 16))


def _quiet_ray_data(ray) -> None:
    """No Ray Data progress bars or execution banners: ``encode(progress=True)`` draws its own bar."""
    context = ray.data.DataContext.get_current()
    for name, value in (("enable_progress_bars", False), ("print_on_execution_start", False),
                        ("enable_auto_log_stats", False)):
        if hasattr(context, name):
            setattr(context, name, value)
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _gist(error: BaseException) -> str:
    """The last line of an exception's message that says something (Ray wraps worker tracebacks)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
