"""Embedding texts with the engine's embedder from synchronous code, and the most similar pairs among them."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)
EMBED_BATCH = 256


async def _embed_all(embedder: Any, texts: Sequence[str]) -> list[list[float]]:
    vectors: list[list[float]] = []
    for start in range(0, len(texts), EMBED_BATCH):
        vectors.extend(await embedder.embed(list(texts[start : start + EMBED_BATCH])))
    return vectors


def embed_sync(embedder: Any, texts: Sequence[str]) -> np.ndarray | None:
    """Unit vectors for `texts` (one row each), or None without an embedder or when it fails (the checks that
    need it are then skipped: a missing model must not break linting). Works inside a running event loop too."""
    if embedder is None or not texts:
        return None
    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            vectors = asyncio.run(_embed_all(embedder, texts))
        else:
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                vectors = pool.submit(asyncio.run, _embed_all(embedder, texts)).result()
    except Exception:
        logger.warning("Lint: embedding %d texts failed; similarity checks skipped", len(texts), exc_info=True)
        return None
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != len(texts):
        return None
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms  # type: ignore[no-any-return]


def similar_pairs(vectors: np.ndarray, *, threshold: float, top_k: int) -> list[tuple[int, int, float]]:
    """Pairs (i < j, similarity) with similarity ≥ threshold, each row keeping its top_k neighbours, most
    similar first. Rows are compared in blocks so thousands of guidelines stay within memory."""
    count = vectors.shape[0]
    found: dict[tuple[int, int], float] = {}
    block = 512
    for start in range(0, count, block):
        scores = vectors[start : start + block] @ vectors.T
        for offset, row in enumerate(scores):
            i = start + offset
            row[i] = -np.inf
            k = min(top_k, count - 1)
            if k <= 0:
                continue
            candidates = np.argpartition(-row, k - 1)[:k]
            for j in candidates:
                score = float(row[j])
                if score >= threshold:
                    pair = (min(i, int(j)), max(i, int(j)))
                    found[pair] = max(score, found.get(pair, -1.0))
    return sorted(((i, j, score) for (i, j), score in found.items()), key=lambda item: (-item[2], item[0], item[1]))
