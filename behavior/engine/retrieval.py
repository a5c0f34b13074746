"""Stage 3, retrieval without an LLM: candidate guidelines, glossary terms and canned responses.

Candidates: every in-scope guideline when there are at most `all_candidates_threshold`; otherwise the
top-K by cosine similarity to the recent conversation (the best of: the last customer message alone,
and the last four messages together) plus an always-included set, added in this order until
`always_included_cap`: the active journeys' scoped guidelines, guidelines applied earlier in the session
(most recent first), high-criticality guidelines, then relationship neighbours of the candidates
(dependencies, disambiguation targets, overriding guidelines). Every candidate keeps its score and reasons."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from behavior.engine.index import normalise, similarities
from behavior.engine.runtime import TurnRuntime
from behavior.engine.types import CannedResponse, GlossaryTerm

_NON_WORD = re.compile(r"[^0-9a-z]+")


@dataclass
class Candidate:
    key: str
    score: float | None
    reasons: list[str] = field(default_factory=list)


@dataclass
class Retrieval:
    strategy: str  # "all" | "top_k"
    candidates: dict[str, Candidate]
    terms: list[tuple[GlossaryTerm, float, str]]
    canned: list[tuple[CannedResponse, float]]
    scores: dict[str, float]  # similarity of every in-scope guideline (when computed)

    def score(self, key: str) -> float | None:
        return self.scores.get(key)


async def retrieve(runtime: TurnRuntime, *, journeys: Mapping[str, str]) -> Retrieval:
    index, config, history = runtime.index, runtime.config, runtime.history
    assert index is not None and history is not None
    snapshot = runtime.snapshot
    active_trigger_keys = {k for j in journeys for k in index.journey_trigger_keys.get(j, []) if ":" in k}
    in_scope = [k for k in index.keys if index.in_scope(k, journeys) and k not in active_trigger_keys]
    use_all = len(in_scope) <= config.all_candidates_threshold
    need_query = not use_all or bool(snapshot.glossary) or bool(snapshot.canned_responses)

    query: np.ndarray | None = None
    if need_query:
        texts = [t for t in dict.fromkeys([history.last_customer_text, history.recent_text(4)]) if t.strip()]
        if texts:
            start = time.perf_counter()
            vectors = await runtime.ports.embedder.embed(texts)
            runtime.embed_waits.add(start, time.perf_counter())
            query = normalise(np.asarray(vectors, dtype=np.float32))

    scores: dict[str, float] = {}
    ranked: list[str] = []
    if query is not None and index.guideline_matrix is not None and index.guideline_matrix.shape[0]:
        every = similarities(index.guideline_matrix, query)
        if len(in_scope) == len(index.keys):
            sims = every
        else:
            sims = every[np.fromiter((index.rows[k] for k in in_scope), dtype=np.int64, count=len(in_scope))]
        scores = dict(zip(in_scope, np.round(sims, 4).tolist(), strict=True))
        if not use_all and len(in_scope):
            top = min(config.top_k, len(in_scope))
            part = np.argpartition(-sims, top - 1)[:top]
            ranked = [in_scope[i] for i in part[np.argsort(-sims[part])]]

    candidates: dict[str, Candidate] = {}
    if use_all:
        for key in in_scope:
            candidates[key] = Candidate(key=key, score=scores.get(key), reasons=["all"])
        strategy = "all"
    else:  # without any text to compare (no message yet), only the always-included set remains
        for key in ranked:
            candidates[key] = Candidate(key=key, score=scores.get(key), reasons=["top_k"])
        strategy = "top_k"
    always_counts, dropped = _always_included(
        runtime, candidates, in_scope=set(in_scope), scores=scores, journeys=journeys
    )

    terms = _terms(runtime, query)
    canned = _canned(runtime, query)
    runtime.trace.retrieval = {
        "strategy": strategy,
        "in_scope": len(in_scope),
        "limits": {
            "all_candidates_threshold": config.all_candidates_threshold,
            "top_k": config.top_k,
            "always_included_cap": config.always_included_cap,
        },
        "candidates": [{"key": c.key, "score": c.score, "reasons": c.reasons} for c in candidates.values()],
        "always_included": always_counts,
        "dropped_by_cap": dropped,
        "canned": [{"key": c.key, "score": round(s, 4)} for c, s in canned],
    }
    runtime.trace.glossary = [{"name": t.name, "score": round(s, 4), "reason": why} for t, s, why in terms]
    return Retrieval(strategy=strategy, candidates=candidates, terms=terms, canned=canned, scores=scores)


def _always_included(
    runtime: TurnRuntime,
    candidates: dict[str, Candidate],
    *,
    in_scope: set[str],
    scores: Mapping[str, float],
    journeys: Mapping[str, str],
) -> tuple[dict[str, int], int]:
    index, config = runtime.index, runtime.config
    assert index is not None
    counts: dict[str, int] = {}
    added = 0
    dropped = 0

    def include(key: str, reason: str) -> None:
        nonlocal added, dropped
        if key not in in_scope:
            return
        if key in candidates:
            if reason not in candidates[key].reasons:
                candidates[key].reasons.append(reason)
            return
        if added >= config.always_included_cap:
            dropped += 1
            return
        candidates[key] = Candidate(key=key, score=scores.get(key), reasons=[reason])
        counts[reason.split(" of ")[0]] = counts.get(reason.split(" of ")[0], 0) + 1
        added += 1

    for journey_key in journeys:
        for key in index.journey_scoped.get(journey_key, []):
            include(key, "active journey")
    for applied in sorted(runtime.state.applied, key=lambda a: -a.offset):
        include(applied.key, "applied earlier")
    for key in index.high_criticality:
        include(key, "high criticality")
    for key in list(candidates):
        for neighbour in sorted(index.neighbours.get(key, ())):
            include(neighbour, f"relationship neighbour of {key}")
    return counts, dropped


def _terms(runtime: TurnRuntime, query: np.ndarray | None) -> list[tuple[GlossaryTerm, float, str]]:
    snapshot, config, index, history = runtime.snapshot, runtime.config, runtime.index, runtime.history
    if not snapshot.glossary or index is None or history is None:
        return []
    text = f" {_NON_WORD.sub(' ', history.recent_text(6).lower())} "
    chosen: dict[str, tuple[GlossaryTerm, float, str]] = {}
    for term in snapshot.glossary:
        names = (term.name, *term.synonyms)
        if any(f" {_NON_WORD.sub(' ', n.lower()).strip()} " in text for n in names if n.strip()):
            chosen[term.name] = (term, 1.0, "mentioned")
    if query is not None and index.term_matrix is not None and index.term_matrix.shape[0]:
        sims = similarities(index.term_matrix, query)
        for i in np.argsort(-sims)[: config.glossary_top_k]:
            term = snapshot.glossary[int(i)]
            if float(sims[i]) >= config.glossary_min_score and term.name not in chosen:
                chosen[term.name] = (term, float(sims[i]), "similar")
    return list(chosen.values())[: config.glossary_top_k * 2]


def _canned(runtime: TurnRuntime, query: np.ndarray | None) -> list[tuple[CannedResponse, float]]:
    snapshot, config, index = runtime.snapshot, runtime.config, runtime.index
    if query is None or index is None or index.canned_matrix is None or not index.canned_matrix.shape[0]:
        return []
    sims = similarities(index.canned_matrix, query)
    best: dict[str, float] = {}
    for owner, score in zip(index.canned_owner, sims.tolist(), strict=True):
        best[owner] = max(best.get(owner, -1.0), score)
    ranked = sorted(best.items(), key=lambda item: -item[1])
    return [(snapshot.canned_by_key[k], s) for k, s in ranked[: config.canned_top_k] if s >= config.canned_min_score]
