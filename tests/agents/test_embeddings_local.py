"""The local MiniLM embedder: correctness against an independent numpy forward pass, semantic sanity,
the lazily built ONNX file, and candidate recall at 1,000 guidelines."""

from __future__ import annotations

import itertools
import json
import math
import random
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from agents.embeddings import local as local_module
from agents.embeddings.local import LocalMiniLMEmbedder, minilm_model_dir, minilm_onnx_ensure


@pytest.fixture(scope="module")
def embedder() -> LocalMiniLMEmbedder:
    # The default location (settings.DATA_DIR/models): built once, reused by later runs.
    return LocalMiniLMEmbedder()


def cosine(first: list[float], second: list[float]) -> float:
    return float(np.dot(first, second))


# ------------------------------------------------------------------ an independent reference


def reference_weights(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    body = raw[8 + length :]
    tensors = {}
    for name, entry in header.items():
        if name != "__metadata__" and entry["dtype"] == "F32":
            start, end = entry["data_offsets"]
            tensors[name] = np.frombuffer(body[start:end], dtype="<f4").reshape(entry["shape"]).astype(np.float64)
    return tensors


def reference_embedding(text: str, weights: dict[str, np.ndarray], tokenizer: Tokenizer) -> np.ndarray:
    """BERT + mean pooling + L2 norm in float64 numpy, for one unpadded text."""
    ids = tokenizer.encode(text).ids
    erf = np.frompyfunc(math.erf, 1, 1)

    def layer_norm(x: np.ndarray, prefix: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        variance = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(variance + 1e-12) * weights[f"{prefix}.weight"] + weights[f"{prefix}.bias"]

    def linear(x: np.ndarray, prefix: str) -> np.ndarray:
        return x @ weights[f"{prefix}.weight"].T + weights[f"{prefix}.bias"]

    h = (
        weights["embeddings.word_embeddings.weight"][ids]
        + weights["embeddings.position_embeddings.weight"][: len(ids)]
        + weights["embeddings.token_type_embeddings.weight"][0]
    )
    h = layer_norm(h, "embeddings.LayerNorm")
    heads, size = 12, 32
    for layer in range(6):
        p = f"encoder.layer.{layer}"
        q, k, v = (
            linear(h, f"{p}.attention.self.{name}").reshape(len(ids), heads, size).transpose(1, 0, 2)
            for name in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(size)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attention = (scores / scores.sum(-1, keepdims=True)) @ v
        attention = attention.transpose(1, 0, 2).reshape(len(ids), heads * size)
        h = layer_norm(linear(attention, f"{p}.attention.output.dense") + h, f"{p}.attention.output.LayerNorm")
        inner = linear(h, f"{p}.intermediate.dense")
        inner = 0.5 * inner * (1.0 + erf(inner / math.sqrt(2.0)).astype(np.float64))
        h = layer_norm(linear(inner, f"{p}.output.dense") + h, f"{p}.output.LayerNorm")
    pooled = h.mean(0)
    return pooled / np.linalg.norm(pooled)


def test_it_matches_an_independent_numpy_forward_pass(embedder: LocalMiniLMEmbedder) -> None:
    model_dir = minilm_model_dir()
    weights = reference_weights(model_dir / "model.safetensors")
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=256)
    # Different lengths in one batch: padding and the attention mask are exercised too.
    texts = [
        "Hi",
        "The customer asks for a refund of their unused ticket.",
        "Café prices rose 12% in Zürich; the customer wants a discount code!",
        "",
    ]
    actual = embedder.embed_sync(texts)
    expected = np.stack([reference_embedding(text, weights, tokenizer) for text in texts])
    assert actual.shape == (4, 384)
    assert np.max(np.abs(actual - expected)) < 1e-4


async def test_it_returns_unit_vectors_in_input_order(embedder: LocalMiniLMEmbedder) -> None:
    texts = ["baggage allowance", "I want my money back", "baggage allowance"]
    vectors = await embedder.embed(texts)
    assert len(vectors) == 3 and all(len(vector) == 384 for vector in vectors)
    assert all(abs(np.linalg.norm(vector) - 1.0) < 1e-5 for vector in vectors)
    assert cosine(vectors[0], vectors[2]) > 0.9999
    assert cosine(vectors[0], vectors[1]) < 0.5
    assert await embedder.embed([]) == []


async def test_it_places_a_paraphrase_closer_than_an_unrelated_request(embedder: LocalMiniLMEmbedder) -> None:
    message, refund, baggage = await embedder.embed(
        ["I want my money back", "The customer asks for a refund", "The customer asks about baggage allowance"]
    )
    assert cosine(message, refund) > cosine(message, baggage) + 0.2


async def test_a_text_gets_the_same_vector_alone_or_in_a_padded_batch(embedder: LocalMiniLMEmbedder) -> None:
    alone = await embedder.embed(["Where is my order?"])
    batched = await embedder.embed(["Where is my order?", "a much longer sentence " * 20, "ok"])
    assert np.max(np.abs(np.array(alone[0]) - np.array(batched[0]))) < 1e-5


async def test_it_truncates_texts_to_256_tokens(embedder: LocalMiniLMEmbedder) -> None:
    long_text = " ".join(f"word{index}" for index in range(400))
    truncated, extended, short = await embedder.embed([long_text, long_text + " and then a refund", "word1 word2"])
    assert cosine(truncated, extended) > 0.99999
    assert cosine(truncated, short) < 0.99


def test_it_builds_the_onnx_file_once_and_reuses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[Path] = []
    real_build = local_module.minilm_onnx_build

    def counting_build(*, model_dir: Path, target: Path) -> float:
        builds.append(target)
        time.sleep(0.2)  # widen the race window
        return real_build(model_dir=model_dir, target=target)

    monkeypatch.setattr(local_module, "minilm_onnx_build", counting_build)
    target = tmp_path / "models" / "minilm.onnx"
    threads = [
        threading.Thread(target=minilm_onnx_ensure, kwargs={"model_dir": minilm_model_dir(), "target": target})
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builds == [target]
    modified = target.stat().st_mtime_ns
    minilm_onnx_ensure(model_dir=minilm_model_dir(), target=target)
    assert target.stat().st_mtime_ns == modified
    assert sorted(path.name for path in target.parent.iterdir()) == ["minilm.onnx", "minilm.onnx.lock"]

    vectors = LocalMiniLMEmbedder(onnx_path=target).embed_sync(["hello there"])
    assert vectors.shape == (1, 384)


def test_it_rebuilds_a_corrupt_onnx_file(tmp_path: Path) -> None:
    target = tmp_path / "minilm.onnx"
    target.write_bytes(b"not a model")
    minilm_onnx_ensure(model_dir=minilm_model_dir(), target=target)
    assert target.stat().st_size > 80_000_000
    assert LocalMiniLMEmbedder(onnx_path=target).embed_sync(["x"]).shape == (1, 384)


# ------------------------------------------------------------------ candidate recall at 1,000 guidelines

DOMAINS = {
    "flight": ["book a flight", "change their flight", "cancel their flight", "upgrade their seat", "check in online"],
    "baggage": ["add a checked bag", "report a lost bag", "ask about baggage allowance", "ship sports equipment"],
    "banking": [
        "open a savings account",
        "dispute a card transaction",
        "raise their credit limit",
        "close their bank account",
    ],
    "card": ["report a stolen card", "activate a new debit card", "change their card PIN", "freeze their card"],
    "telecom": [
        "port their phone number",
        "report a network outage",
        "add international roaming",
        "upgrade their phone",
    ],
    "retail": ["return a damaged item", "track an order", "change the delivery address", "apply a discount code"],
    "insurance": ["file a car insurance claim", "add a driver to the policy", "ask about home insurance coverage"],
    "health": [
        "book a doctor's appointment",
        "refill a prescription",
        "ask about lab results",
        "update insurance details",
    ],
    "software": ["reset their password", "enable two-factor authentication", "export their data", "invite a teammate"],
    "billing": [
        "update their payment method",
        "ask why they were charged twice",
        "download an invoice",
        "change the billing address",
    ],
    "subscription": [
        "upgrade to the premium plan",
        "pause their membership for a month",
        "ask about annual pricing",
        "add a family member to the plan",
    ],
}
TEMPLATES = [
    "The customer wants to {task}",
    "The customer asks how to {task}",
    "The customer is frustrated because they could not {task}",
    "The customer mentions they tried to {task} yesterday",
    "A VIP customer wants to {task}",
    "The customer wants to {task} but is not logged in",
    "The customer asks whether they can {task} on the mobile app",
    "The customer wants to {task} for someone else",
    "The customer asks if there is a fee to {task}",
    "The customer wants to {task} urgently",
]
EXTRAS = [
    "The customer greets the agent",
    "The customer says goodbye",
    "The customer uses offensive language",
    "The customer asks to speak to a human",
    "The customer writes in Spanish",
    "The customer asks about opening hours",
    "The customer thanks the agent",
    "The customer provides their booking reference",
]
QUALIFIERS = ["", " during a promotion", " after a price change", " while travelling abroad", " on a weekend"]


def guideline_conditions(count: int) -> list[str]:
    tasks = [task for tasks in DOMAINS.values() for task in tasks]
    candidates = [
        template.format(task=task) + qualifier
        for template, task, qualifier in itertools.product(TEMPLATES, tasks, QUALIFIERS)
    ]
    random.Random(7).shuffle(candidates)
    return EXTRAS + candidates[: count - len(EXTRAS)]


@pytest.mark.slow
async def test_a_paraphrased_condition_ranks_in_the_top_30_of_1000_guidelines(
    embedder: LocalMiniLMEmbedder, capsys: pytest.CaptureFixture[str]
) -> None:
    target = "The customer wants to cancel their subscription"
    conditions = [*guideline_conditions(999), target]
    assert len(set(conditions)) == 1000
    started = time.perf_counter()
    vectors = np.array(await embedder.embed(conditions))
    elapsed = time.perf_counter() - started
    (query,) = await embedder.embed(["how do I stop paying for my plan every month?"])
    scores = vectors @ np.array(query)
    rank = int((scores > scores[-1]).sum()) + 1
    with capsys.disabled():
        print(f"\n1,000 guidelines embedded in {elapsed:.2f}s ({1000 / elapsed:.0f} texts/s); target rank {rank}")
    assert rank <= 30
