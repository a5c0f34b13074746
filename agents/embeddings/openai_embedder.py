"""Embeddings from an OpenAI-compatible `/embeddings` endpoint (OpenAI, Azure, vLLM, Ollama, ...)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import openai

_BATCH_SIZE = 256  # well under the API's per-request input limit
_MAX_TEXT_CHARS = 20_000  # ~5k tokens: under every embedding model's input window


class EmbeddingServiceError(RuntimeError):
    """The embeddings endpoint failed or answered with something unusable."""


class OpenAIEmbedder:
    """The `Embedder` port over the `openai` client. Vectors are re-normalised here, since not every
    compatible server returns unit vectors."""

    def __init__(
        self,
        *,
        model: str = "text-embedding-3-small",
        dimensions: int = 1536,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout_seconds: float = 30.0,
        max_retries: int = 3,
        send_dimensions: bool | None = None,
        client: openai.AsyncOpenAI | None = None,
    ) -> None:
        if dimensions < 1:
            raise ValueError("dimensions must be positive")
        self.model = model
        self.dimensions = dimensions
        self.model_id = f"openai:{model}:{dimensions}"
        # Only text-embedding-3 models accept `dimensions`; other servers may reject the field.
        self._send_dimensions = model.startswith("text-embedding-3") if send_dimensions is None else send_dimensions
        self._client = client or openai.AsyncOpenAI(
            api_key=api_key or "not-needed",  # local compatible servers accept any key
            base_url=base_url or None,
            timeout=timeout_seconds,
            max_retries=max_retries,
        )

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), _BATCH_SIZE):
            batch = [str(text)[:_MAX_TEXT_CHARS] or " " for text in texts[start : start + _BATCH_SIZE]]
            try:
                if self._send_dimensions:
                    response = await self._client.embeddings.create(
                        model=self.model, input=batch, encoding_format="float", dimensions=self.dimensions
                    )
                else:
                    response = await self._client.embeddings.create(
                        model=self.model, input=batch, encoding_format="float"
                    )
            except openai.OpenAIError as error:
                raise EmbeddingServiceError(f"embedding request failed: {error}") from error
            by_index = sorted(response.data, key=lambda item: item.index)
            if [item.index for item in by_index] != list(range(len(batch))):
                raise EmbeddingServiceError(
                    f"expected {len(batch)} embeddings, got indices {[i.index for i in by_index]}"
                )
            for item in by_index:
                vectors.append(self._unit(item.embedding))
        return vectors

    def _unit(self, vector: Sequence[float]) -> list[float]:
        if len(vector) != self.dimensions:
            raise EmbeddingServiceError(
                f"model {self.model} returned {len(vector)} dimensions, configured for {self.dimensions}"
            )
        norm = math.sqrt(sum(float(component) ** 2 for component in vector))
        if not math.isfinite(norm) or norm == 0.0:
            raise EmbeddingServiceError("the embeddings endpoint returned a zero or non-finite vector")
        return [float(component) / norm for component in vector]
