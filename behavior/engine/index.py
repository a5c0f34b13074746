"""Per-snapshot precomputed structures: the embedding matrices (numpy) and the relationship graph,
cached by the snapshot's content hash and the embedder's model id so a turn does no per-guideline work."""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from behavior.engine.ports import Embedder
from behavior.engine.types import JOURNEY_TAG_PREFIX, EntityRef, Guideline, Snapshot

INDEX_CACHE_SIZE = 8
EMBED_BATCH = 256
_CACHE: OrderedDict[tuple[str, str, int], SnapshotIndex] = OrderedDict()
_CACHE_LOCK = threading.Lock()  # turns run in several threads (one event loop each) in the embedded default


def trigger_key(journey_key: str, index: int) -> str:
    """Key of the synthetic observation for a journey's free-text trigger condition (":" never occurs
    in document keys, so it cannot clash)."""
    return f"journey:{journey_key}:{index}"


@dataclass(frozen=True)
class OverrideRule:
    """One overrides relationship between guidelines, each side expanded once (a tag: its guidelines),
    never multiplied out into source x target pairs."""

    sources: tuple[str, ...]
    targets: tuple[str, ...]


@dataclass
class SnapshotIndex:
    snapshot: Snapshot
    matchables: dict[str, Guideline] = field(default_factory=dict)  # enabled guidelines + journey triggers
    keys: list[str] = field(default_factory=list)  # matrix row order
    rows: dict[str, int] = field(default_factory=dict)
    tagged: dict[str, list[str]] = field(default_factory=dict)
    scope_journeys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    journey_scoped: dict[str, list[str]] = field(default_factory=dict)
    triggers: dict[str, list[str]] = field(default_factory=dict)  # guideline key -> journeys it starts
    journey_trigger_keys: dict[str, list[str]] = field(default_factory=dict)
    neighbours: dict[str, set[str]] = field(default_factory=dict)
    reevaluate_after: dict[str, set[str]] = field(default_factory=dict)  # tool -> guideline keys
    tool_overlaps: dict[str, set[str]] = field(default_factory=dict)
    high_criticality: list[str] = field(default_factory=list)
    canned_for_guideline: dict[str, list[str]] = field(default_factory=dict)
    # relationship tables, with tag/journey sources expanded to guideline keys
    entails: dict[str, list[EntityRef]] = field(default_factory=dict)
    journey_entails: dict[str, list[EntityRef]] = field(default_factory=dict)
    depends_all: dict[str, list[EntityRef]] = field(default_factory=dict)
    depends_any: dict[str, list[EntityRef]] = field(default_factory=dict)
    override_rules: list[OverrideRule] = field(default_factory=list)  # in relationship order
    # guideline key -> (rule number, position on that side of the rule), one entry per occurrence
    override_sources: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    override_targets: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    priority: dict[str, int] = field(default_factory=dict)  # matchable key -> priority
    journey_overrides: dict[str, list[str]] = field(default_factory=dict)
    disambiguates: dict[str, list[str]] = field(default_factory=dict)
    canned_for_state: dict[str, list[str]] = field(default_factory=dict)
    guideline_matrix: np.ndarray | None = None
    term_names: list[str] = field(default_factory=list)
    term_matrix: np.ndarray | None = None
    canned_owner: list[str] = field(default_factory=list)  # canned key per row (template + signals)
    canned_matrix: np.ndarray | None = None

    def expand(self, ref: EntityRef) -> list[str]:
        """The guideline keys an entity reference stands for (a tag: its guidelines; a journey: its
        scoped guidelines)."""
        if ref.type == "guideline":
            return [ref.ref] if ref.ref in self.matchables else []
        if ref.type == "tag":
            return list(self.tagged.get(ref.ref, []))
        if ref.type == "journey":
            return list(self.journey_scoped.get(ref.ref, []))
        return []

    def override_pairs(self, keys: Iterable[str]) -> list[tuple[str, str]]:
        """The (source, target) override pairs with both sides among `keys`, in the order the rules'
        pairs would have if expanded (rule by rule, source-major). Works from the keys' memberships, so
        a tag-to-tag override costs nothing per pair that is not among `keys`."""
        source_hits: dict[int, list[tuple[int, str]]] = {}
        target_hits: dict[int, list[tuple[int, str]]] = {}
        for key in dict.fromkeys(keys):
            for rule_number, position in self.override_sources.get(key, ()):
                source_hits.setdefault(rule_number, []).append((position, key))
            for rule_number, position in self.override_targets.get(key, ()):
                target_hits.setdefault(rule_number, []).append((position, key))
        pairs: list[tuple[str, str]] = []
        for rule_number in sorted(source_hits.keys() & target_hits.keys()):
            targets = [target for _, target in sorted(target_hits[rule_number])]
            for _, source in sorted(source_hits[rule_number]):
                pairs.extend((source, target) for target in targets if target != source)
        return pairs

    def in_scope(self, key: str, active_journeys: Container[str]) -> bool:
        journeys = self.scope_journeys.get(key, ())
        return not journeys or any(j in active_journeys for j in journeys)


def index_build(snapshot: Snapshot) -> SnapshotIndex:
    """Everything derivable without embeddings."""
    index = SnapshotIndex(snapshot=snapshot)
    for guideline in snapshot.guidelines:
        if not guideline.enabled:
            continue
        index.matchables[guideline.key] = guideline
        for tag in guideline.tags:
            index.tagged.setdefault(tag, []).append(guideline.key)
        journeys = tuple(t[len(JOURNEY_TAG_PREFIX) :] for t in guideline.tags if t.startswith(JOURNEY_TAG_PREFIX))
        if journeys:
            index.scope_journeys[guideline.key] = journeys
            for journey_key in journeys:
                index.journey_scoped.setdefault(journey_key, []).append(guideline.key)
        if guideline.criticality == "high":
            index.high_criticality.append(guideline.key)
    for journey in snapshot.journeys:
        keys = []
        for trigger in journey.triggers:
            if trigger in index.matchables:
                index.triggers.setdefault(trigger, []).append(journey.key)
                keys.append(trigger)
        for i, condition in enumerate(journey.conditions):
            key = trigger_key(journey.key, i)
            index.matchables[key] = Guideline(
                key=key, condition=condition, title=f"Start: {journey.title}", track=False
            )
            index.triggers.setdefault(key, []).append(journey.key)
            keys.append(key)
        index.journey_trigger_keys[journey.key] = keys
        for state in journey.states:
            for canned_key in state.canned_responses:
                index.canned_for_state.setdefault(f"{journey.key}/{state.key}", []).append(canned_key)
    index.keys = list(index.matchables)
    index.priority = {key: guideline.priority for key, guideline in index.matchables.items()}
    index.rows = {key: row for row, key in enumerate(index.keys)}

    neighbours: dict[str, set[str]] = defaultdict(set)
    for rel in snapshot.relationships:
        if rel.kind == "reevaluate_after":
            tool, guideline_ref = (rel.target, rel.source) if rel.target.type == "tool" else (rel.source, rel.target)
            if tool.type == "tool":
                for key in index.expand(guideline_ref):
                    index.reevaluate_after.setdefault(tool.ref, set()).add(key)
            continue
        if rel.kind == "tools_overlap":
            if rel.source.type == "tool" and rel.target.type == "tool":
                index.tool_overlaps.setdefault(rel.source.ref, set()).add(rel.target.ref)
                index.tool_overlaps.setdefault(rel.target.ref, set()).add(rel.source.ref)
            continue
        sources, targets = index.expand(rel.source), index.expand(rel.target)
        if rel.kind in ("depends_on", "depends_on_any", "disambiguates"):
            for source in sources:
                neighbours[source].update(targets)
        elif rel.kind == "overrides":
            for target in targets:
                neighbours[target].update(sources)
        if rel.kind == "entails":
            if rel.source.type == "journey":
                index.journey_entails.setdefault(rel.source.ref, []).append(rel.target)
            else:
                for source in sources:
                    index.entails.setdefault(source, []).append(rel.target)
        elif rel.kind == "depends_on":
            for source in sources:
                index.depends_all.setdefault(source, []).append(rel.target)
        elif rel.kind == "depends_on_any":
            for source in sources:
                index.depends_any.setdefault(source, []).append(rel.target)
        elif rel.kind == "overrides":
            if rel.source.type == "journey":
                index.journey_overrides.setdefault(rel.source.ref, []).extend(targets)
            else:
                rule_number = len(index.override_rules)
                index.override_rules.append(OverrideRule(sources=tuple(sources), targets=tuple(targets)))
                for position, source in enumerate(sources):
                    index.override_sources.setdefault(source, []).append((rule_number, position))
                for position, target in enumerate(targets):
                    index.override_targets.setdefault(target, []).append((rule_number, position))
        elif rel.kind == "disambiguates":
            for source in sources:
                index.disambiguates.setdefault(source, []).extend(t for t in targets if t != source)
    index.neighbours = dict(neighbours)

    for canned in snapshot.canned_responses:
        for guideline_key in canned.guidelines:
            index.canned_for_guideline.setdefault(guideline_key, []).append(canned.key)
        for state_ref in canned.journey_states:
            index.canned_for_state.setdefault(state_ref, []).append(canned.key)
    return index


def guideline_text(guideline: Guideline) -> str:
    return " ".join(part for part in (guideline.title, guideline.condition) if part)


async def snapshot_index(snapshot: Snapshot, embedder: Embedder) -> tuple[SnapshotIndex, bool]:
    """The cached index for this snapshot content and embedder (built on first use). Returns (index, built)."""
    cache_key = (snapshot.content_key, str(embedder.model_id), int(embedder.dimensions))
    with _CACHE_LOCK:
        cached = _CACHE.get(cache_key)
        if cached is not None:
            _CACHE.move_to_end(cache_key)
            return cached, False
    index = index_build(snapshot)
    index.guideline_matrix = await _embed_matrix(embedder, [guideline_text(index.matchables[k]) for k in index.keys])
    index.term_names = [t.name for t in snapshot.glossary]
    index.term_matrix = await _embed_matrix(
        embedder, [" ".join([t.name, *t.synonyms, t.description]) for t in snapshot.glossary]
    )
    canned_texts: list[str] = []
    for canned in snapshot.canned_responses:
        for text in (canned.template, *canned.signals):
            index.canned_owner.append(canned.key)
            canned_texts.append(text)
    index.canned_matrix = await _embed_matrix(embedder, canned_texts)
    with _CACHE_LOCK:
        _CACHE[cache_key] = index
        while len(_CACHE) > INDEX_CACHE_SIZE:
            _CACHE.popitem(last=False)
    return index, True


async def _embed_matrix(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, max(1, int(embedder.dimensions))), dtype=np.float32)
    rows: list[list[float]] = []
    for start in range(0, len(texts), EMBED_BATCH):
        rows.extend(await embedder.embed(list(texts[start : start + EMBED_BATCH])))
    return normalise(np.asarray(rows, dtype=np.float32))


def similarities(matrix: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Per row of `matrix`, the best cosine similarity to any query (all unit vectors). einsum rather than
    BLAS: for one small matrix-vector product, waking OpenBLAS threads costs milliseconds on a busy host."""
    return np.einsum("ij,kj->ik", matrix, queries).max(axis=1)


def normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def index_cache_clear() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()
