"""Embeddings cached by (model id, sha256 of the text): a bounded in-memory LRU in front of an optional
persistent store, so a guideline's vector is computed once, ever, per model."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Protocol

from behavior.engine.ports import Embedder

logger = logging.getLogger(__name__)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


class EmbeddingStore(Protocol):
    async def embeddings_get(self, model_id: str, *, content_hashes: Sequence[str]) -> dict[str, list[float]]:
        """The stored vectors among `content_hashes` (missing ones are simply absent)."""
        ...

    async def embeddings_put(self, model_id: str, *, vectors: Mapping[str, list[float]]) -> None:
        """Store vectors by content hash; existing entries are left as they are."""
        ...


class _LRU:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()  # the embedder is shared by turns running in several threads

    def get(self, key: str) -> list[float] | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: list[float]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class CachingEmbedder:
    """The `Embedder` port wrapping another one. A failing store only costs recomputation (logged):
    the cache must never be the reason a customer gets no answer."""

    def __init__(self, inner: Embedder, *, store: EmbeddingStore | None = None, memory_capacity: int = 20_000) -> None:
        if memory_capacity < 1:
            raise ValueError("memory_capacity must be at least 1")
        self.inner = inner
        self.store = store
        self.model_id = inner.model_id
        self.dimensions = inner.dimensions
        self._memory = _LRU(memory_capacity)
        self.computed = 0  # texts sent to the inner embedder, for tests and benches

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        hashes = [content_hash(text) for text in texts]
        found: dict[str, list[float]] = {}
        for digest in hashes:
            vector = self._memory.get(digest)
            if vector is not None:
                found[digest] = vector

        missing = list(dict.fromkeys(digest for digest in hashes if digest not in found))
        if missing and self.store is not None:
            try:
                stored = await self.store.embeddings_get(self.model_id, content_hashes=missing)
            except Exception:
                logger.warning("embedding store lookup failed; computing instead", exc_info=True)
                stored = {}
            for digest, vector in stored.items():
                if len(vector) == self.dimensions:  # a row from a differently-sized model is ignored
                    found[digest] = vector
                    self._memory.put(digest, vector)

        texts_by_hash = {digest: text for digest, text in zip(hashes, texts, strict=True)}
        to_compute = [digest for digest in missing if digest not in found]
        if to_compute:
            vectors = await self.inner.embed([texts_by_hash[digest] for digest in to_compute])
            if len(vectors) != len(to_compute):
                raise RuntimeError(f"{self.inner.model_id} returned {len(vectors)} vectors for {len(to_compute)} texts")
            self.computed += len(to_compute)
            computed = dict(zip(to_compute, vectors, strict=True))
            for digest, vector in computed.items():
                found[digest] = vector
                self._memory.put(digest, vector)
            if self.store is not None:
                try:
                    await self.store.embeddings_put(self.model_id, vectors=computed)
                except Exception:
                    logger.warning("embedding store write failed; vectors stay in memory only", exc_info=True)
        return [found[digest] for digest in hashes]
