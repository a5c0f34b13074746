"""Where the graph editor draws a journey's states that were never placed (imported journeys, states made
through the API): a layered layout, left to right. Pure Python: states and transitions come in as ids.

Layers are longest paths from the initial state over the graph without its back edges (a cycle does not push
states further right forever); states the initial state cannot reach get layers from their own sources. Within
a layer, states are ordered by the barycenter of their neighbours in the layer before (and then after).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

LAYER_GAP = 260.0  # horizontal distance between layers (a node is 180 wide)
ROW_GAP = 110.0  # vertical distance between states of one layer (a node is 64 high)
MARGIN = 40.0
SWEEPS = 2


@dataclass(frozen=True)
class LayoutState:
    id: int
    initial: bool = False
    x: float | None = None
    y: float | None = None

    @property
    def placed(self) -> bool:
        return self.x is not None and self.y is not None


def _forward_edges(
    order: Sequence[int], edges: Sequence[tuple[int, int]], roots: Sequence[int]
) -> list[tuple[int, int]]:
    """The edges that do not close a cycle: a depth-first search from the roots (then from every state not yet
    visited, in order) drops each edge into a state still on the search path, and self loops."""
    following: dict[int, list[int]] = {state: [] for state in order}
    for source, target in edges:
        if source in following and target in following and source != target:
            following[source].append(target)
    kept: list[tuple[int, int]] = []
    visited: set[int] = set()
    on_path: set[int] = set()
    for start in [*roots, *order]:
        if start in visited:
            continue
        # Iterative DFS so that a long chain does not hit the recursion limit.
        stack: list[tuple[int, int]] = [(start, 0)]
        visited.add(start)
        on_path.add(start)
        while stack:
            node, index = stack[-1]
            if index < len(following[node]):
                stack[-1] = (node, index + 1)
                target = following[node][index]
                if target in on_path:
                    continue  # a back edge
                kept.append((node, target))
                if target not in visited:
                    visited.add(target)
                    on_path.add(target)
                    stack.append((target, 0))
            else:
                on_path.discard(node)
                stack.pop()
    return kept


def _layers(order: Sequence[int], forward: Sequence[tuple[int, int]]) -> dict[int, int]:
    """Longest-path layering of an acyclic graph: a state sits one layer right of its furthest predecessor."""
    incoming: dict[int, list[int]] = {state: [] for state in order}
    outgoing: dict[int, list[int]] = {state: [] for state in order}
    for source, target in forward:
        incoming[target].append(source)
        outgoing[source].append(target)
    layer = dict.fromkeys(order, 0)
    remaining = {state: len(incoming[state]) for state in order}
    ready = [state for state in order if remaining[state] == 0]
    while ready:
        state = ready.pop(0)
        for target in outgoing[state]:
            layer[target] = max(layer[target], layer[state] + 1)
            remaining[target] -= 1
            if remaining[target] == 0:
                ready.append(target)
    return layer


def _ordered(layer_of: Mapping[int, int], order: Sequence[int], forward: Sequence[tuple[int, int]]) -> list[list[int]]:
    """States per layer, ordered by barycenter sweeps (down using predecessors, then up using successors)."""
    count = max(layer_of.values(), default=-1) + 1
    layers: list[list[int]] = [[] for _ in range(count)]
    for state in order:
        layers[layer_of[state]].append(state)
    neighbours_before: dict[int, list[int]] = {state: [] for state in order}
    neighbours_after: dict[int, list[int]] = {state: [] for state in order}
    for source, target in forward:
        neighbours_before[target].append(source)
        neighbours_after[source].append(target)
    original = {state: index for index, state in enumerate(order)}

    def sweep(indexes: range, neighbours: Mapping[int, list[int]], reference_step: int) -> None:
        for index in indexes:
            reference = layers[index + reference_step] if 0 <= index + reference_step < count else []
            rank = {state: position for position, state in enumerate(reference)}
            current = {state: position for position, state in enumerate(layers[index])}
            keys: dict[int, tuple[float, int]] = {}
            for state in layers[index]:
                ranks = [rank[other] for other in neighbours[state] if other in rank]
                # No neighbour in the reference layer: the state keeps its place.
                keys[state] = (sum(ranks) / len(ranks) if ranks else float(current[state]), original[state])
            layers[index].sort(key=keys.__getitem__)

    for _ in range(SWEEPS):
        sweep(range(1, count), neighbours_before, -1)
        sweep(range(count - 2, -1, -1), neighbours_after, +1)
    return layers


def layered_positions(
    states: Sequence[LayoutState], transitions: Sequence[tuple[int, int]]
) -> dict[int, tuple[float, float]]:
    """Positions {state id: (x, y)} for the states that have none, in the order given (the journey's order).
    When some states are already placed, the new ones go below them, so nothing lands on a placed state."""
    if all(state.placed for state in states):
        return {}
    order = [state.id for state in states]
    roots = [state.id for state in states if state.initial]
    forward = _forward_edges(order, transitions, roots)
    layer_of = _layers(order, forward)
    if roots:  # the initial state starts the first layer even when an edge leads back into it
        shift = layer_of[roots[0]]
        layer_of = {state: max(0, layer - shift) if state in layer_of else layer for state, layer in layer_of.items()}
    layers = _ordered(layer_of, order, forward)
    placed = [state for state in states if state.placed]
    top = MARGIN
    left = MARGIN
    if placed:
        top = max(float(state.y) for state in placed if state.y is not None) + ROW_GAP + MARGIN
        left = min(float(state.x) for state in placed if state.x is not None)
    unplaced = {state.id for state in states if not state.placed}
    positions: dict[int, tuple[float, float]] = {}
    for column, members in enumerate(layers):
        row = 0
        for state in members:
            if state in unplaced:
                positions[state] = (left + column * LAYER_GAP, top + row * ROW_GAP)
                row += 1
    return positions
