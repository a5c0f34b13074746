"""Embedders behind the engine's `Embedder` port: local MiniLM on onnxruntime, OpenAI-compatible
endpoints, feature hashing, and a cache by content hash and model id."""

from __future__ import annotations

from agents.embeddings.caching import CachingEmbedder, EmbeddingStore, content_hash
from agents.embeddings.factory import embedder_build, embedder_from_settings, embedder_reset
from agents.embeddings.hashing import HashingEmbedder
from agents.embeddings.local import EmbedderUnavailable, LocalMiniLMEmbedder, minilm_model_dir, minilm_onnx_ensure
from agents.embeddings.openai_embedder import EmbeddingServiceError, OpenAIEmbedder
from agents.embeddings.store import DatabaseEmbeddingStore

__all__ = [
    "CachingEmbedder",
    "DatabaseEmbeddingStore",
    "EmbedderUnavailable",
    "EmbeddingServiceError",
    "EmbeddingStore",
    "HashingEmbedder",
    "LocalMiniLMEmbedder",
    "OpenAIEmbedder",
    "content_hash",
    "embedder_build",
    "embedder_from_settings",
    "embedder_reset",
    "minilm_model_dir",
    "minilm_onnx_ensure",
]
