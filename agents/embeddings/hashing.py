"""A deterministic, dependency-light embedder for benches and tests: feature hashing of lightly
stemmed word unigrams and bigrams, unit-normalised. Lexical only, but stable across processes."""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections.abc import Sequence

_WORD = re.compile(r"[a-z0-9]+")
# Longest first, so "ies" wins over "s"; a stem keeps at least three letters.
_SUFFIXES = (
    "ations",
    "ation",
    "ments",
    "ment",
    "ness",
    "ings",
    "ing",
    "ies",
    "ied",
    "ers",
    "ed",
    "er",
    "es",
    "ly",
    "s",
)
_STOPWORDS = frozenset(
    "a an the of to in on at for and or is are was were be been it its this that with as by from do does i my me "
    "you your we our they their he she his her".split()
)
_MAX_TEXT_CHARS = 20_000


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def hashing_features(text: str) -> list[str]:
    """The features of `text`: stemmed content words and bigrams of adjacent content words."""
    words = [_stem(word) for word in _WORD.findall(text[:_MAX_TEXT_CHARS].lower()) if word not in _STOPWORDS]
    return words + [f"{first} {second}" for first, second in itertools.pairwise(words)]


class HashingEmbedder:
    """The `Embedder` port by feature hashing (signed, so collisions cancel rather than pile up)."""

    def __init__(self, *, dimensions: int = 512) -> None:
        if not 16 <= dimensions <= 65_536:
            raise ValueError("dimensions must be between 16 and 65536")
        self.dimensions = dimensions
        self.model_id = f"hashing-v1-{dimensions}"

    def embed_one(self, text: str) -> list[float]:
        weights: dict[int, float] = {}
        # An empty text still gets a unit vector (the port promises unit length).
        for feature in hashing_features(text) or ["<empty>"]:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            value = int.from_bytes(digest, "little")
            weight = 0.5 if " " in feature else 1.0  # bigrams refine, unigrams carry the topic
            index = value % self.dimensions
            weights[index] = weights.get(index, 0.0) + (weight if (value >> 63) & 1 else -weight)
        norm = math.sqrt(sum(component * component for component in weights.values()))
        vector = [0.0] * self.dimensions
        if norm == 0.0:  # every feature cancelled out: fall back to a fixed unit vector
            vector[0] = 1.0
            return vector
        for index, component in weights.items():
            vector[index] = component / norm
        return vector

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.embed_one(text) for text in texts]
