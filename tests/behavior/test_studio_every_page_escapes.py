"""Every studio page (each GET-able URL of the resolver's studio namespace, as a page and as an htmx fragment,
for an editor and a tester) shows the hostile texts stored in every text field as text, never as markup; the
JSON endpoints answer application/json and downloads are not HTML. Recipes are in tests/behavior/studio_sweep_world.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client, override_settings
from django.utils.html import escape

from tests.behavior.studio_sweep_world import EDITORS, READERS, RECIPES, World, build_world, swept_patterns, url_of
from tests.engine.fakes import FakeEmbedder
from tests.support.studio import HOSTILE_TEXTS, HX, assert_shown_as_text

pytestmark = pytest.mark.django_db  # each test in a savepoint inside the module's world

PATTERNS = swept_patterns()
HOSTILE = " ".join(HOSTILE_TEXTS)
# Pages that show no stored text of the agent (a form to fill in, a redirect's target...): raw markup must still
# be absent, but the escaped text need not be there.
SHOW_NO_STORED_TEXT = {
    "studio:agent-create",
    "studio:agent-import-new",
    "studio:admin-user-create",
    "studio:admin-key-create",
}


def hostile(plain: str) -> str:
    return f"{plain} {HOSTILE}"


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr("behavior.services.lint._embedder", lambda: FakeEmbedder())
        cache.clear()
        with transaction.atomic():
            yield build_world(hostile)
            transaction.set_rollback(True)
        cache.clear()


@pytest.fixture(autouse=True)
def _lint_without_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("behavior.services.lint._embedder", lambda: FakeEmbedder())


def page_cases() -> list[Any]:
    params = []
    for name in sorted(PATTERNS):
        recipe = RECIPES.get(name)
        if recipe is None or recipe.get not in (READERS, EDITORS):
            continue  # test_every_url_authorizes.py fails for a pattern without a recipe
        roles = ["admin"] if recipe.area == "admin" else ["editor"] if recipe.get == EDITORS else ["editor", "tester"]
        for role in roles:
            for query in recipe.query:
                for fragment in (False, True):
                    label = f"{name}{query} {role}{' HX' if fragment else ''}"
                    params.append(pytest.param(name, query, role, fragment, id=label))
    return params


def test_the_world_stores_the_hostile_texts(world: World) -> None:
    world.agent.refresh_from_db()
    assert HOSTILE in world.agent.name and HOSTILE in world.agent.description


@pytest.mark.parametrize(("name", "query", "role", "fragment"), page_cases())
def test_every_page_shows_stored_text_as_text(world: World, name: str, query: str, role: str, fragment: bool) -> None:
    client = Client()
    client.force_login(world.users[role])
    url = url_of(name, PATTERNS[name], world.ids) + query.format(**world.ids)
    response = client.get(url, **(HX if fragment else {}))
    assert response.status_code == 200, response.status_code
    content_type = response["Content-Type"]
    body = response.content.decode()
    if "attachment" in response.get("Content-Disposition", ""):  # a download (YAML or JSON), never a page
        assert not content_type.startswith("text/html")
        return
    if RECIPES[name].json_get or content_type.startswith("application/json"):
        assert content_type == "application/json"
        json.loads(body)
        return
    assert content_type.startswith("text/html")
    for text in HOSTILE_TEXTS:
        assert text not in body, f"{text!r} reached {url} unescaped"
    if fragment and "<html" not in body:
        return  # a fragment may show only what changed
    if name not in SHOW_NO_STORED_TEXT:
        for text in HOSTILE_TEXTS:
            assert_shown_as_text(body, text)


def test_the_graph_editors_json_carries_the_texts_as_json_strings(world: World) -> None:
    client = Client()
    client.force_login(world.users["editor"])
    url = url_of("studio:journey-graph", PATTERNS["studio:journey-graph"], world.ids)
    graph = client.get(url).json()
    assert HOSTILE in graph["journey"]["title"]
    assert any(HOSTILE in state["action"] for state in graph["states"])
    assert any(HOSTILE in (transition["condition"] or "") for transition in graph["transitions"])


FIELD_PAGES = [
    # (page, query, who looks, the plain start of the stored text)
    ("studio:agent-detail", "", "tester", "You help travellers"),
    ("studio:agent-update", "", "editor", "You help travellers"),
    ("studio:agent-list", "", "tester", "Skyway Support"),
    ("studio:guideline-list", "", "tester", "Lost bag"),
    ("studio:guideline-detail", "", "tester", "Lost bag"),
    ("studio:guideline-detail", "", "tester", "The customer lost a bag"),
    ("studio:guideline-detail", "", "tester", "Apologise and help"),
    ("studio:guideline-detail", "", "tester", "Why we apologise"),
    ("studio:guideline-detail", "", "editor", "The customer lost a bag"),
    ("studio:guideline-detail", "", "editor", "meta"),
    ("studio:journey-update", "", "editor", "The customer wants another flight"),
    ("studio:journey-list", "", "tester", "Rebooking"),
    ("studio:journey-detail", "?view=forms", "tester", "Rebook a flight"),
    ("studio:journey-detail", "?view=forms", "tester", "Ask for the booking"),
    ("studio:journey-detail", "?view=forms", "tester", "The booking is found"),
    ("studio:journey-detail", "?view=forms", "editor", "Ask for the booking"),
    ("studio:journey-update", "", "editor", "Rebook a flight"),
    ("studio:glossary-list", "", "tester", "Bag"),
    ("studio:glossary-detail", "", "tester", "A suitcase"),
    ("studio:glossary-detail", "", "tester", "luggage"),
    ("studio:canned-response-list", "", "tester", "Hello there"),
    ("studio:canned-response-detail", "", "tester", "Hello there"),
    ("studio:variable-list", "", "tester", "The tier"),
    ("studio:variable-detail", "", "tester", "The tier"),
    ("studio:variable-detail", "", "tester", "gold"),
    ("studio:tool-list", "", "tester", "Looks up an order"),
    ("studio:tool-detail", "", "tester", "Looks up an order"),
    ("studio:version-list", "", "tester", "Version 1"),
    ("studio:version-detail", "", "tester", "Version 1"),
    ("studio:lint-run-detail", "", "tester", "These two contradict"),
    ("studio:audit-list", "", "tester", "Bag"),
    ("studio:audit-detail", "", "tester", "<ins>"),  # the description's change, word by word
    ("studio:admin-key-list", "", "admin", "CI key"),
    ("studio:admin-user-list", "", "admin", "Sam"),
]


@pytest.mark.parametrize(
    ("name", "query", "role", "prefix"),
    [pytest.param(*case, id=f"{case[0]}{case[1]} {case[2]}: {case[3]}") for case in FIELD_PAGES],
)
def test_each_text_field_shows_on_its_page_as_text(world: World, name: str, query: str, role: str, prefix: str) -> None:
    """The stored value (found by its plain start) is on its page, escaped: for a tester in the read-only
    rendering, for an editor in the form (a change in the history is shown word by word)."""
    client = Client()
    client.force_login(world.users[role])
    body = client.get(url_of(name, PATTERNS[name], world.ids) + query).content.decode()
    shown = f"<ins>{escape(HOSTILE_TEXTS[0])}</ins>" if prefix == "<ins>" else escape(f"{prefix} {HOSTILE_TEXTS[0]}")
    assert shown in body, f"{prefix!r} is not on {name}"
    for text in HOSTILE_TEXTS:
        assert text not in body
