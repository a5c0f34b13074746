"""A business expert's day in the studio, in Debian chromium: create a guideline with a relationship, publish,
read the diff, roll back, and find that the lint blocks publishing a journey with no initial state. (Building a
journey by dragging in the graph editor is tests/browser/test_journey_graph_browser.py.)"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.browser.conftest import LiveApp

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _demo_agent_id(live_app: LiveApp) -> int:
    output = live_app.manage(
        "shell", "-c", "from agents.models import Agent; print(Agent.objects.get(name='Skyway Support').pk)"
    )
    return int(output.strip().splitlines()[-1])


def _publish(page: Any, agent_id: int, note: str) -> None:
    page.goto(f"/studio/agents/{agent_id}/versions/")
    page.fill("#publish-form textarea[name=note], #publish-form input[name=note]", note)
    button = page.locator("#publish-form button[type=submit]")
    assert re.match(r"Publish \d+ changes?", button.inner_text())
    button.click()
    page.wait_for_load_state()
    assert "Customers and the API now use it" in page.content()


def test_an_editor_authors_publishes_compares_and_rolls_back(page: Any, log_in: Any, live_app: LiveApp) -> None:
    agent_id = _demo_agent_id(live_app)
    log_in("editor")
    assert page.url.endswith("/studio/")

    # A new guideline, created inline from the list.
    page.goto(f"/studio/agents/{agent_id}/guidelines/")
    page.get_by_role("link", name="New guideline").click()
    form = page.locator("#guideline-new form")
    form.locator("input[name=key]").fill("pet-travel")
    form.locator("textarea[name=condition]").fill("The customer asks about travelling with a pet")
    form.locator("textarea[name=action]").fill("Explain the pet policy and offer to add the pet to the booking")
    form.locator("button[type=submit]").click()
    page.locator("#guideline-results", has_text="pet-travel").wait_for()

    # Its relationship: it overrides another guideline, found by typing.
    page.get_by_role("link", name="pet-travel").first.click()
    panel = page.locator(".relationship-add")
    panel.locator("select[name$=kind]").select_option("overrides")
    panel.locator("select[name$=other_type]").select_option("guideline")
    panel.locator("input[name$=other]").fill("greet")
    panel.locator("button[type=submit]").click()
    page.locator(".relationship-list", has_text="Overrides").first.wait_for()
    page.reload()
    assert page.locator(".relationship-list").first.inner_text().strip()

    # Publish: the button counts the changes; the history shows the new version.
    _publish(page, agent_id, "Pet travel policy")
    page.goto(f"/studio/agents/{agent_id}/versions/")
    page.locator("#version-table", has_text="Pet travel policy").wait_for()
    newest = int(page.locator("#version-table tbody tr").first.get_attribute("id").split("-")[1])

    # The diff between the previous version and the new one shows the guideline as added.
    page.goto(f"/studio/agents/{agent_id}/versions/diff/?base={newest - 1}&other={newest}")
    assert "pet-travel" in page.locator("main").inner_text()

    # Roll back to the previous version: a new version with the old content.
    page.goto(f"/studio/agents/{agent_id}/versions/{newest - 1}/rollback/")
    page.locator("input[name=confirm]").check()
    page.get_by_role("button", name="Roll back and publish").click()
    page.wait_for_load_state()
    page.goto(f"/studio/agents/{agent_id}/versions/")
    assert page.locator(f"#version-{newest + 1}").count() == 1
    page.goto(f"/studio/agents/{agent_id}/guidelines/?q=pet-travel")
    assert "No guideline matches" in page.locator("#guideline-results").inner_text()


def test_the_lint_blocks_publishing_a_journey_with_no_initial_state(page: Any, log_in: Any, live_app: LiveApp) -> None:
    agent_id = _demo_agent_id(live_app)
    log_in("editor")
    page.goto(f"/studio/agents/{agent_id}/journeys/")
    page.get_by_role("link", name="New journey").click()
    page.locator(".studio-main form input[name=key]").fill("lost-passport")
    page.locator(".studio-main form input[name=title]").fill("Lost passport")
    page.get_by_role("button", name="Create journey").click()
    page.wait_for_load_state()
    journey_url = urlparse(page.url).path
    assert re.match(rf"^/studio/agents/{agent_id}/journeys/\d+/$", journey_url)

    # One state, deliberately not the initial one (the plain forms of the page).
    page.goto(journey_url + "?view=forms")
    new_state = page.locator("#state-new")
    new_state.locator("input[name$=key]").fill("ask-details")
    new_state.locator("textarea[name$=action]").fill("Ask where and when the passport was lost")
    new_state.locator("input[name$=initial]").uncheck()
    new_state.locator("button[type=submit]").click()
    page.wait_for_load_state()

    page.goto(f"/studio/agents/{agent_id}/versions/")
    blocking = page.locator(".publish-lint")
    assert "exactly one initial state" in blocking.inner_text()
    assert page.locator("#publish-form button[type=submit]").is_disabled()


def test_try_in_sandbox_opens_a_draft_chat_beside_the_studio_page(page: Any, log_in: Any, live_app: LiveApp) -> None:
    agent_id = _demo_agent_id(live_app)
    log_in("editor")
    page.goto(f"/studio/agents/{agent_id}/guidelines/")
    page.get_by_role("button", name="Try in sandbox").click()
    panel = page.locator("#try-panel")
    panel.wait_for()
    frame = page.frame_locator("#try-panel iframe")
    frame.locator("#composer-text").wait_for()
    assert "/studio/agents/" in page.url  # the studio page stays where it was
    assert frame.locator("body.in-panel").count() == 1
    frame.locator("#connection[data-state=live]").wait_for()
    page.keyboard.press("Escape")
    assert panel.is_hidden()
