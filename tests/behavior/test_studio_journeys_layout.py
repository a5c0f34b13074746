"""The automatic layered layout of journeys that were never placed (imports, API)."""

from __future__ import annotations

from behavior.services.journey_layout import LAYER_GAP, LayoutState, layered_positions


def columns(positions: dict[int, tuple[float, float]]) -> dict[int, int]:
    left = min(x for x, _y in positions.values())
    return {state: round((x - left) / LAYER_GAP) for state, (x, _y) in positions.items()}


def test_a_chain_is_laid_out_left_to_right_from_the_initial_state() -> None:
    states = [LayoutState(id=3), LayoutState(id=1, initial=True), LayoutState(id=2)]
    positions = layered_positions(states, [(1, 2), (2, 3)])
    assert columns(positions) == {1: 0, 2: 1, 3: 2}


def test_a_state_sits_one_layer_right_of_its_furthest_predecessor() -> None:
    states = [LayoutState(id=1, initial=True), LayoutState(id=2), LayoutState(id=3), LayoutState(id=4)]
    positions = layered_positions(states, [(1, 2), (2, 3), (1, 4), (3, 4)])
    assert columns(positions)[4] == 3


def test_a_cycle_back_to_the_start_does_not_push_states_right() -> None:
    states = [LayoutState(id=1, initial=True), LayoutState(id=2), LayoutState(id=3)]
    positions = layered_positions(states, [(1, 2), (2, 3), (3, 1), (2, 2)])
    assert columns(positions) == {1: 0, 2: 1, 3: 2}


def test_states_of_one_layer_get_different_rows_ordered_by_barycenter() -> None:
    # 1 -> (2, 3); 2 -> 5, 3 -> 4: in layer 2, 5 (child of the upper 2) goes above 4.
    states = [LayoutState(id=n, initial=n == 1) for n in (1, 2, 3, 4, 5)]
    positions = layered_positions(states, [(1, 2), (1, 3), (2, 5), (3, 4)])
    assert positions[2][0] == positions[3][0] and positions[2][1] < positions[3][1]
    assert positions[5][1] < positions[4][1]
    assert len(set(positions.values())) == 5


def test_unreachable_states_and_a_journey_without_initial_state_still_get_positions() -> None:
    states = [LayoutState(id=1), LayoutState(id=2), LayoutState(id=3)]
    positions = layered_positions(states, [(1, 2)])
    assert set(positions) == {1, 2, 3}
    assert len(set(positions.values())) == 3


def test_placed_states_keep_their_place_and_new_ones_go_below_them() -> None:
    states = [LayoutState(id=1, initial=True, x=100.0, y=300.0), LayoutState(id=2)]
    positions = layered_positions(states, [(1, 2)])
    assert set(positions) == {2}
    assert positions[2][1] > 300.0


def test_a_journey_whose_states_are_all_placed_needs_no_layout() -> None:
    assert layered_positions([LayoutState(id=1, x=0.0, y=0.0)], []) == {}
    assert layered_positions([], []) == {}


def test_a_long_chain_does_not_hit_the_recursion_limit() -> None:
    states = [LayoutState(id=n, initial=n == 0) for n in range(3000)]
    positions = layered_positions(states, [(n, n + 1) for n in range(2999)])
    assert columns(positions)[2999] == 2999
