"""The journey graph editor in Debian chromium: an editor builds a four-state journey by adding states,
dragging them into place and connecting them by dragging, marks the initial state, reloads and finds the
same states, transitions and positions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import LiveApp

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path("/work/notes/shots")
# Where each state is dragged, in pixels from the canvas's top left corner (away from its center, where
# "Add state" puts a new state).
TARGETS = {"greet": (40, 50), "ask-order": (300, 50), "check-order": (300, 420), "finish": (600, 170)}


def open_new_journey(page: Any, key: str) -> str:
    """Create journey `key` of the demo agent through the studio's form; the journey page's path."""
    page.goto("/studio/")
    agent_url = page.locator("#agent-table a", has_text="Skyway Support").first.get_attribute("href")
    page.goto(agent_url + "journeys/new/")
    page.fill("#id_key", key)
    page.fill("#id_title", "Check an order (browser)")
    page.click("text=Create journey")
    try:
        page.wait_for_url(re.compile(r"/journeys/\d+/$"))
    except Exception:
        page.screenshot(path="/tmp/jg-debug.png", full_page=True)
        Path("/tmp/jg-debug.html").write_text(page.content())
        raise
    page.wait_for_selector(".jg-canvas")
    return str(page.url)


def node(page: Any, key: str) -> Any:
    return page.locator(f'[data-state-id][aria-label^="State {key},"]')


def drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=5)
    page.mouse.move(*end, steps=5)
    page.mouse.up()


def center(box: dict[str, float]) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def add_state(page: Any, key: str, *, kind: str = "chat", action: str = "") -> None:
    count = page.locator("[data-state-id]").count()
    page.click("[data-action=add-state]")
    page.fill("#jg-field-key", key)
    page.select_option("#jg-field-kind", kind)
    page.fill("#jg-field-action", action)
    page.click("[data-new-state] button[type=submit]")
    page.wait_for_function(f"document.querySelectorAll('[data-state-id]').length === {count + 1}")
    canvas = page.locator(".jg-canvas").bounding_box()
    box = node(page, key).locator(".jg-node-box").bounding_box()
    target = TARGETS[key]
    # Grab the node left of its center (the right edge holds the connect handle).
    grab = (box["x"] + 50, box["y"] + box["height"] / 2)
    drag(page, grab, (canvas["x"] + target[0] + 50, canvas["y"] + target[1] + box["height"] / 2))


def connect(page: Any, source: str, target: str) -> None:
    count = page.locator("[data-transition-id]").count()
    port = node(page, source).locator(".jg-port").bounding_box()
    drop = node(page, target).locator(".jg-node-box").bounding_box()
    drag(page, center(port), (drop["x"] + 40, drop["y"] + drop["height"] / 2))
    page.wait_for_function(f"document.querySelectorAll('[data-transition-id]').length === {count + 1}")


def saved(page: Any) -> None:
    """Wait until every queued write (and the debounced layout save) has been answered."""
    page.wait_for_timeout(700)
    page.wait_for_function("document.querySelector('.jg-status').textContent !== 'Saving…'")


def positions(page: Any) -> dict[str, str]:
    return page.evaluate(
        """() => Object.fromEntries(Array.from(document.querySelectorAll('[data-state-id]')).map(
             (n) => [n.getAttribute('aria-label').split(',')[0], n.getAttribute('transform')]))"""
    )


def graph_of(page: Any) -> dict[str, Any]:
    graph_url = page.locator("[data-journey-graph]").get_attribute("data-graph-url")
    return page.request.get(graph_url).json()


def test_an_editor_builds_a_journey_on_the_graph_and_finds_it_again_after_reload(
    page: Any, log_in: Any, live_app: LiveApp, chromium: Any
) -> None:
    log_in("editor")
    journey_url = open_new_journey(page, "browser-check-order")
    page.wait_for_selector("[data-banner]", state="visible")  # an empty journey says how to start

    add_state(page, "greet", action="Greet the customer and ask how to help.")
    add_state(page, "ask-order", action="Ask for the order number.")
    add_state(page, "check-order", kind="fork")
    add_state(page, "finish", kind="end")
    connect(page, "greet", "ask-order")
    connect(page, "ask-order", "check-order")
    connect(page, "check-order", "finish")
    connect(page, "check-order", "ask-order")

    # The condition of the selected (last) transition, typed in the side panel, saves by itself.
    page.fill("#jg-field-condition", "The order number is unknown")
    saved(page)

    # The first state became initial; move the start to ask-order, then back.
    node(page, "ask-order").locator(".jg-node-box").click()
    page.click("[data-action=mark-initial]")
    page.wait_for_selector('[data-state-id].is-initial[aria-label^="State ask-order,"]')
    page.wait_for_selector('[data-state-id].is-unreachable[aria-label^="State greet,"]')
    node(page, "greet").locator(".jg-node-box").click()
    page.click("[data-action=mark-initial]")
    page.wait_for_selector('[data-state-id].is-initial[aria-label^="State greet,"]')
    saved(page)
    assert page.locator("[data-state-id].is-unreachable").count() == 0
    assert page.locator("[data-state-id].is-dead-end").count() == 0
    assert not page.locator("[data-banner]").is_visible()

    before = positions(page)
    transitions_before = sorted((t["source"], t["target"], t["condition"]) for t in graph_of(page)["transitions"])
    page.reload()
    page.wait_for_function("document.querySelectorAll('[data-state-id]').length === 4")
    assert positions(page) == before
    assert page.locator("[data-transition-id]").count() == 4
    graph = graph_of(page)
    assert sorted((t["source"], t["target"], t["condition"]) for t in graph["transitions"]) == transitions_before
    keys = {state["id"]: state["key"] for state in graph["states"]}
    assert {(keys[s], keys[t]) for s, t, _c in transitions_before} == {
        ("greet", "ask-order"),
        ("ask-order", "check-order"),
        ("check-order", "finish"),
        ("check-order", "ask-order"),
    }
    assert [state["key"] for state in graph["states"] if state["initial"]] == ["greet"]
    assert all(state["placed"] for state in graph["states"])
    for state in graph["states"]:
        target = TARGETS[state["key"]]
        assert abs(state["x"] - (target[0] - 40)) <= 2 and abs(state["y"] - (target[1] - 40)) <= 2, state

    # Keyboard: Delete removes the selected transition (not while typing in the panel).
    page.locator("[data-transition-id]").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#jg-field-condition")
    page.locator("#jg-field-condition").focus()
    page.keyboard.press("Delete")
    page.wait_for_timeout(300)
    assert page.locator("[data-transition-id]").count() == 4

    node(page, "ask-order").locator(".jg-node-box").click()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "journey-editor.png"), full_page=True)

    phone = chromium.new_context(viewport={"width": 390, "height": 844}, base_url=live_app.base_url)
    try:
        phone_page = phone.new_page()
        phone_page.goto("/accounts/login/")
        phone_page.fill("#id_username", "editor")
        phone_page.fill("#id_password", "decorum-demo")
        phone_page.click("form button[type=submit]")
        phone_page.wait_for_load_state()
        phone_page.goto(journey_url)
        phone_page.wait_for_function("document.querySelectorAll('[data-state-id]').length === 4")
        phone_page.locator('[data-state-id][aria-label^="State check-order,"]').focus()
        phone_page.keyboard.press("Enter")
        phone_page.wait_for_selector("#jg-field-key")
        panel, canvas = phone_page.locator(".jg-panel").bounding_box(), phone_page.locator(".jg-canvas").bounding_box()
        assert panel["y"] >= canvas["y"] + canvas["height"] - 1  # the panel stacks under the canvas
        phone_page.screenshot(path=str(SHOTS / "journey-editor-phone.png"), full_page=True)
    finally:
        phone.close()
