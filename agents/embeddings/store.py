"""The persistent embedding cache in the database (`agents.EmbeddingRecord`), read and written in bulk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from channels.db import database_sync_to_async

_CHUNK = 500  # keeps `IN (...)` and multi-row inserts well under every backend's parameter limit


def _embeddings_get_sync(model_id: str, content_hashes: Sequence[str]) -> dict[str, list[float]]:
    from agents.models import EmbeddingRecord

    found: dict[str, list[float]] = {}
    for start in range(0, len(content_hashes), _CHUNK):
        rows = EmbeddingRecord.objects.filter(
            model_id=model_id, content_hash__in=content_hashes[start : start + _CHUNK]
        ).values_list("content_hash", "dimensions", "vector")
        for digest, dimensions, blob in rows:
            raw = bytes(blob)
            if len(raw) != dimensions * 4:  # a corrupt row is recomputed, never served
                continue
            found[digest] = np.frombuffer(raw, dtype="<f4").tolist()
    return found


def _embeddings_put_sync(model_id: str, vectors: Mapping[str, list[float]]) -> None:
    from agents.models import EmbeddingRecord

    records = [
        EmbeddingRecord(
            model_id=model_id, content_hash=digest, dimensions=len(vector), vector=EmbeddingRecord.pack(vector)
        )
        for digest, vector in vectors.items()
    ]
    # Another process may have stored the same text meanwhile: the unique constraint keeps one row.
    EmbeddingRecord.objects.bulk_create(records, batch_size=_CHUNK, ignore_conflicts=True)


class DatabaseEmbeddingStore:
    """`EmbeddingStore` on the ORM. Queries run in a worker thread that closes stale connections around
    them (channels' `database_sync_to_async`), since turns also run outside request cycles."""

    async def embeddings_get(self, model_id: str, *, content_hashes: Sequence[str]) -> dict[str, list[float]]:
        if not content_hashes:
            return {}
        return await database_sync_to_async(_embeddings_get_sync)(model_id, list(content_hashes))

    async def embeddings_put(self, model_id: str, *, vectors: Mapping[str, list[float]]) -> None:
        if vectors:
            await database_sync_to_async(_embeddings_put_sync)(model_id, dict(vectors))
