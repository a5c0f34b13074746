"""Every studio page in Debian chromium, as its users would see it: the demo agent, an empty agent, 1,000
guidelines and very long or hostile texts, on a laptop and at phone width. A page must load without a script
error or an alert from stored text, and fit a 390 px wide screen without scrolling sideways. Screenshots land
in test-artifacts/studio/ for a person to look at."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.browser.conftest import LiveApp

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}
# Pages reached from an agent's side navigation, plus the first entity page of each list.
ENTITY_LINK = re.compile(r"^/studio/agents/\d+/[a-z-]+/\d+/$")
OVERFLOW = "() => document.scrollingElement.scrollWidth - window.innerWidth"


@pytest.fixture(scope="module")
def world(live_app: LiveApp) -> dict[str, int]:
    output = live_app.manage(
        "shell",
        "-c",
        "import json; from tests.browser.studio_world import studio_world_seed; print(json.dumps(studio_world_seed()))",
    )
    ids = json.loads(output.strip().splitlines()[-1])
    demo = live_app.manage(
        "shell", "-c", "from agents.models import Agent; print(Agent.objects.get(name='Skyway Support').pk)"
    )
    ids["Skyway Support"] = int(demo.strip().splitlines()[-1])
    return ids


def _agent_pages(page: Any, agent_id: int) -> list[str]:
    """The overview, every page of the side navigation and the first entity page each list links to."""
    page.goto(f"/studio/agents/{agent_id}/")
    family_pages = page.eval_on_selector_all(".studio-nav a", "links => links.map(link => link.getAttribute('href'))")
    pages = [f"/studio/agents/{agent_id}/"]
    for href in family_pages:
        path = urlparse(href).path
        if path.startswith(f"/studio/agents/{agent_id}/") and path not in pages:
            pages.append(path)
    for list_page in list(pages[1:]):
        page.goto(list_page)
        links = page.eval_on_selector_all(".studio-main a", "links => links.map(link => link.getAttribute('href'))")
        first = next((urlparse(href).path for href in links if href and ENTITY_LINK.match(urlparse(href).path)), None)
        if first and first not in pages:
            pages.append(first)
    return pages


def _visit(page: Any, path: str, shots: Path, name: str, dialogs: list[str]) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    assert not dialogs, f"{path} ran stored text as script: {dialogs}"


@pytest.mark.parametrize("viewport", ["laptop", "phone"])
def test_every_studio_page_loads_cleanly_and_fits_the_screen(
    page: Any, log_in: Any, world: dict[str, int], artifacts: Path, viewport: str
) -> None:
    shots = artifacts / "studio" / viewport
    shots.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    if viewport == "phone":
        page.set_viewport_size(PHONE)
    log_in("editor")
    overflowing = []
    _visit(page, "/studio/", shots, "agent-list", dialogs)
    for name, agent_id in world.items():
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower())[:30].strip("-")
        for path in _agent_pages(page, agent_id):
            shot = slug + "-" + (path.split(f"/agents/{agent_id}/", 1)[1].strip("/").replace("/", "-") or "overview")
            _visit(page, path, shots, shot, dialogs)
            if viewport == "phone" and page.evaluate(OVERFLOW) > 1:
                overflowing.append(path)
    assert not overflowing, f"these pages scroll sideways at 390 px: {overflowing}"


ADMIN_PAGES = (
    "/studio/admin/",
    "/studio/admin/users/",
    "/studio/admin/users/new/",
    "/studio/admin/keys/",
    "/studio/admin/keys/new/",
)


@pytest.mark.parametrize("viewport", ["laptop", "phone"])
def test_the_admin_area_loads_cleanly_and_fits_the_screen(
    page: Any, log_in: Any, live_app: LiveApp, artifacts: Path, viewport: str
) -> None:
    shots = artifacts / "studio" / viewport
    shots.mkdir(parents=True, exist_ok=True)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    if viewport == "phone":
        page.set_viewport_size(PHONE)
    log_in("admin")
    overflowing = []
    for path in ADMIN_PAGES:
        _visit(page, path, shots, "admin-" + (path.strip("/").replace("/", "-")), dialogs)
        if viewport == "phone" and page.evaluate(OVERFLOW) > 1:
            overflowing.append(path)
    assert not overflowing, f"these pages scroll sideways at 390 px: {overflowing}"
