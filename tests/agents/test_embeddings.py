"""Hashing and OpenAI-compatible embedders, the content-hash cache (memory and database), and the
settings-driven factory."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest
from channels.db import database_sync_to_async

from agents.embeddings import (
    CachingEmbedder,
    DatabaseEmbeddingStore,
    EmbeddingServiceError,
    HashingEmbedder,
    LocalMiniLMEmbedder,
    OpenAIEmbedder,
    content_hash,
    embedder_from_settings,
    embedder_reset,
)
from agents.models import EmbeddingRecord

# ------------------------------------------------------------------ hashing


async def test_hashing_vectors_are_unit_length_and_deterministic() -> None:
    embedder = HashingEmbedder(dimensions=256)
    first = await embedder.embed(["The customer asks for a refund", "", "!!!"])
    second = await HashingEmbedder(dimensions=256).embed(["The customer asks for a refund", "", "!!!"])
    assert first == second
    assert all(len(vector) == 256 and abs(math.fsum(x * x for x in vector) - 1.0) < 1e-9 for vector in first)
    assert embedder.model_id == "hashing-v1-256"


async def test_hashing_stems_words_so_inflections_overlap() -> None:
    embedder = HashingEmbedder()
    refunds, refunded, baggage = await embedder.embed(
        ["customer requesting refunds", "customer requested a refund", "checked baggage allowance"]
    )
    assert np.dot(refunds, refunded) > 0.6
    assert abs(np.dot(refunds, baggage)) < 0.3


def test_hashing_rejects_absurd_dimensions() -> None:
    with pytest.raises(ValueError, match="dimensions"):
        HashingEmbedder(dimensions=4)


# ------------------------------------------------------------------ OpenAI-compatible endpoint


class FakeEmbeddingsServer:
    """A loopback `/v1/embeddings` endpoint: vectors derived from the text, deliberately not unit length,
    returned in reverse order (clients must sort by index)."""

    def __init__(self, dimensions: int = 8) -> None:
        self.dimensions = dimensions
        self.requests: list[dict[str, Any]] = []
        self.fail_with: int | None = None
        self.wrong_dimensions = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                if server.fail_with:
                    self._send(server.fail_with, {"error": {"message": "boom", "type": "server_error"}})
                    return
                size = server.dimensions + (1 if server.wrong_dimensions else 0)
                data = [
                    {
                        "object": "embedding",
                        "index": index,
                        "embedding": [float(len(text) + 1 + d) for d in range(size)],
                    }
                    for index, text in enumerate(body["input"])
                ]
                self._send(
                    200,
                    {
                        "object": "list",
                        "data": data[::-1],
                        "model": body["model"],
                        "usage": {"prompt_tokens": 1, "total_tokens": 1},
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=lambda: self.httpd.serve_forever(poll_interval=0.05), daemon=True)

    def __enter__(self) -> FakeEmbeddingsServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def embeddings_server() -> Iterator[FakeEmbeddingsServer]:
    with FakeEmbeddingsServer() as server:
        yield server


def openai_embedder(server: FakeEmbeddingsServer, **kwargs: Any) -> OpenAIEmbedder:
    return OpenAIEmbedder(
        model="local-embed",
        dimensions=server.dimensions,
        api_key="sk-test",
        base_url=server.base_url,
        max_retries=0,
        **kwargs,
    )


async def test_openai_embedder_returns_unit_vectors_in_input_order(embeddings_server: FakeEmbeddingsServer) -> None:
    vectors = await openai_embedder(embeddings_server).embed(["a", "abc"])
    expected = [np.arange(8) + 2.0, np.arange(8) + 4.0]
    for vector, raw in zip(vectors, expected, strict=True):
        assert np.allclose(vector, raw / np.linalg.norm(raw))
    (request,) = embeddings_server.requests
    assert request["path"] == "/v1/embeddings"
    assert request["body"]["model"] == "local-embed" and request["body"]["input"] == ["a", "abc"]
    assert request["body"]["encoding_format"] == "float"
    assert "dimensions" not in request["body"]  # only text-embedding-3 models accept it
    assert request["auth"] == "Bearer sk-test"


async def test_openai_embedder_splits_large_inputs_into_batches(embeddings_server: FakeEmbeddingsServer) -> None:
    texts = [f"text {index}" for index in range(300)]
    vectors = await openai_embedder(embeddings_server).embed(texts)
    assert len(vectors) == 300
    assert [len(request["body"]["input"]) for request in embeddings_server.requests] == [256, 44]


async def test_openai_embedder_sends_dimensions_for_text_embedding_3(embeddings_server: FakeEmbeddingsServer) -> None:
    embedder = OpenAIEmbedder(
        model="text-embedding-3-small", dimensions=8, base_url=embeddings_server.base_url, max_retries=0
    )
    await embedder.embed(["x"])
    assert embeddings_server.requests[0]["body"]["dimensions"] == 8
    assert embedder.model_id == "openai:text-embedding-3-small:8"


async def test_openai_embedder_rejects_vectors_of_the_wrong_size(embeddings_server: FakeEmbeddingsServer) -> None:
    embeddings_server.wrong_dimensions = True
    with pytest.raises(EmbeddingServiceError, match="9 dimensions"):
        await openai_embedder(embeddings_server).embed(["x"])


async def test_openai_embedder_reports_server_errors(embeddings_server: FakeEmbeddingsServer) -> None:
    embeddings_server.fail_with = 500
    with pytest.raises(EmbeddingServiceError, match="embedding request failed"):
        await openai_embedder(embeddings_server).embed(["x"])


# ------------------------------------------------------------------ cache


class CountingEmbedder:
    model_id = "counting-v1"
    dimensions = 4

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [[float(len(text)), 1.0, 0.0, 0.0] for text in texts]


async def test_cache_computes_each_distinct_text_once() -> None:
    inner = CountingEmbedder()
    cache = CachingEmbedder(inner)
    first = await cache.embed(["a", "bb", "a"])
    second = await cache.embed(["bb", "ccc", "a"])
    assert inner.calls == [["a", "bb"], ["ccc"]]
    assert first == [[1.0, 1.0, 0.0, 0.0], [2.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]
    assert second[0] == first[1] and second[2] == first[0]
    assert (cache.model_id, cache.dimensions, cache.computed) == ("counting-v1", 4, 3)


async def test_cache_memory_is_bounded_and_evicts_least_recently_used() -> None:
    inner = CountingEmbedder()
    cache = CachingEmbedder(inner, memory_capacity=2)
    await cache.embed(["a", "b"])
    await cache.embed(["a"])  # "a" is now the most recent
    await cache.embed(["c"])  # evicts "b"
    await cache.embed(["a", "b"])
    assert inner.calls == [["a", "b"], ["c"], ["b"]]


class BrokenStore:
    async def embeddings_get(self, model_id: str, *, content_hashes: Sequence[str]) -> dict[str, list[float]]:
        raise ConnectionError("database down")

    async def embeddings_put(self, model_id: str, *, vectors: Any) -> None:
        raise ConnectionError("database down")


async def test_cache_still_answers_when_the_store_fails(caplog: pytest.LogCaptureFixture) -> None:
    cache = CachingEmbedder(CountingEmbedder(), store=BrokenStore())
    assert await cache.embed(["a"]) == [[1.0, 1.0, 0.0, 0.0]]
    assert "embedding store lookup failed" in caplog.text and "embedding store write failed" in caplog.text


@pytest.mark.django_db(transaction=True)
async def test_database_cache_survives_a_new_process() -> None:
    first_inner = CountingEmbedder()
    await CachingEmbedder(first_inner, store=DatabaseEmbeddingStore()).embed(["refund", "baggage", "refund"])
    rows = await database_sync_to_async(
        lambda: sorted(
            EmbeddingRecord.objects.filter(model_id="counting-v1").values_list("model_id", "content_hash", "dimensions")
        )
    )()
    assert rows == sorted([("counting-v1", content_hash("refund"), 4), ("counting-v1", content_hash("baggage"), 4)])

    # A fresh cache (empty memory, as after a restart) reads the vectors back instead of computing them.
    second_inner = CountingEmbedder()
    vectors = await CachingEmbedder(second_inner, store=DatabaseEmbeddingStore()).embed(["baggage", "refund", "new"])
    assert second_inner.calls == [["new"]]
    assert vectors[:2] == [[7.0, 1.0, 0.0, 0.0], [6.0, 1.0, 0.0, 0.0]]
    assert await database_sync_to_async(EmbeddingRecord.objects.count)() == 3


@pytest.mark.django_db(transaction=True)
async def test_database_cache_ignores_corrupt_rows_and_other_models() -> None:
    await database_sync_to_async(EmbeddingRecord.objects.create)(
        model_id="counting-v1", content_hash=content_hash("x"), dimensions=4, vector=b"\x00\x01"
    )
    await database_sync_to_async(EmbeddingRecord.objects.create)(
        model_id="another-model",
        content_hash=content_hash("y"),
        dimensions=4,
        vector=EmbeddingRecord.pack([9, 9, 9, 9]),
    )
    inner = CountingEmbedder()
    vectors = await CachingEmbedder(inner, store=DatabaseEmbeddingStore()).embed(["x", "y"])
    assert inner.calls == [["x", "y"]]
    assert vectors == [[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]


@pytest.mark.django_db(transaction=True)
async def test_database_store_handles_more_rows_than_one_query_chunk() -> None:
    store = DatabaseEmbeddingStore()
    vectors = {content_hash(str(index)): [float(index), 0.0] for index in range(1200)}
    await store.embeddings_put("bulk", vectors=vectors)
    await store.embeddings_put("bulk", vectors=vectors)  # a second writer: conflicts ignored
    found = await store.embeddings_get("bulk", content_hashes=list(vectors))
    assert found == vectors


# ------------------------------------------------------------------ factory


@pytest.fixture
def fresh_embedder() -> Iterator[None]:
    embedder_reset()
    yield
    embedder_reset()


def test_factory_builds_the_configured_embedder_once(settings: Any, fresh_embedder: None) -> None:
    settings.EMBEDDER = "hashing"
    embedder = embedder_from_settings()
    assert isinstance(embedder, HashingEmbedder)
    assert embedder_from_settings() is embedder


def test_factory_caches_the_local_model_in_the_database(settings: Any, fresh_embedder: None) -> None:
    settings.EMBEDDER = "local"
    embedder = embedder_from_settings()
    assert isinstance(embedder, CachingEmbedder)
    assert isinstance(embedder.inner, LocalMiniLMEmbedder) and isinstance(embedder.store, DatabaseEmbeddingStore)
    assert (embedder.model_id, embedder.dimensions) == ("all-MiniLM-L6-v2", 384)


def test_factory_points_openai_embeddings_at_the_configured_server(settings: Any, fresh_embedder: None) -> None:
    settings.EMBEDDER = "openai"
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"
    embedder = embedder_from_settings()
    assert isinstance(embedder, CachingEmbedder) and isinstance(embedder.inner, OpenAIEmbedder)
    assert str(embedder.inner._client.base_url) == "http://127.0.0.1:9/v1/"
    assert embedder.model_id == "openai:text-embedding-3-small:1536"
