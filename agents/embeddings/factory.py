"""The process-wide embedder chosen by `settings.EMBEDDER` (local | openai | hashing)."""

from __future__ import annotations

import threading

from django.conf import settings

from agents.embeddings.caching import CachingEmbedder
from agents.embeddings.hashing import HashingEmbedder
from agents.embeddings.local import LocalMiniLMEmbedder
from agents.embeddings.openai_embedder import OpenAIEmbedder
from agents.embeddings.store import DatabaseEmbeddingStore
from behavior.engine.ports import Embedder

_lock = threading.Lock()
_embedder: Embedder | None = None


def embedder_build(kind: str) -> Embedder:
    """A new embedder of `kind`. Model embedders are cached in memory and in the database; hashing
    is cheaper to recompute than to look up, so it is not cached."""
    if kind == "hashing":
        return HashingEmbedder()
    if kind == "local":
        return CachingEmbedder(LocalMiniLMEmbedder(), store=DatabaseEmbeddingStore())
    if kind == "openai":
        inner = OpenAIEmbedder(
            # Optional settings: the defaults match OpenAI's small embedding model.
            model=getattr(settings, "OPENAI_EMBEDDING_MODEL", "") or "text-embedding-3-small",
            dimensions=int(getattr(settings, "OPENAI_EMBEDDING_DIMENSIONS", 0) or 1536),
            api_key=settings.OPENAI_API_KEY or None,
            base_url=settings.OPENAI_BASE_URL or None,
            timeout_seconds=settings.OPENAI_TIMEOUT_SECONDS,
            max_retries=settings.OPENAI_MAX_RETRIES,
        )
        return CachingEmbedder(inner, store=DatabaseEmbeddingStore())
    raise ValueError(f"unknown embedder {kind!r} (use local, openai or hashing)")


def embedder_from_settings() -> Embedder:
    """The shared embedder (one per process: the local model loads once)."""
    global _embedder
    with _lock:
        if _embedder is None:
            _embedder = embedder_build(settings.EMBEDDER)
        return _embedder


def embedder_reset() -> None:
    """Forget the shared embedder (tests that change settings.EMBEDDER)."""
    global _embedder
    with _lock:
        _embedder = None
