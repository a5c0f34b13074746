"""Every studio URL (walked from the resolver, plus "Try in sandbox") authorizes: anonymous visitors go to the
login page (the graph editor's JSON says 401), outsiders are refused, testers and operators read but change
nothing, editors meet a 404 for another agent's object under their agent's URL, and the admin area is for
admins only. Each URL and each way to call it is its own test; recipes are in tests/behavior/studio_sweep_world.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client, override_settings
from django.test.client import MULTIPART_CONTENT

from tests.behavior.studio_sweep_world import (
    AGENT_OBJECT_IDS,
    EDITORS,
    NONE,
    READERS,
    RECIPES,
    REDIRECT,
    Recipe,
    World,
    Write,
    build_world,
    database_fingerprint,
    studio_patterns,
    swept_patterns,
    url_of,
)
from tests.engine.fakes import FakeEmbedder
from tests.support.studio import HX

pytestmark = pytest.mark.django_db  # each test in a savepoint inside the module's world

PATTERNS = swept_patterns()
NAMES = sorted(PATTERNS)
WITH_RECIPE = [name for name in NAMES if name in RECIPES]


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    """One world for the whole module, rolled back at its end (each test runs in a savepoint inside it)."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr("behavior.services.lint._embedder", lambda: FakeEmbedder())
        cache.clear()
        with transaction.atomic():
            yield build_world()
            transaction.set_rollback(True)
        cache.clear()


@pytest.fixture(autouse=True)
def _lint_without_a_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("behavior.services.lint._embedder", lambda: FakeEmbedder())


def client_as(world: World, role: str | None) -> Client:
    client = Client()
    if role is not None:
        client.force_login(world.users[role])
    return client


def send(client: Client, url: str, write: Write, ids: dict[str, Any], **headers: Any) -> Any:
    body = write.body(ids)
    if write.json:
        return client.generic(write.method, url, json.dumps(body), content_type="application/json", **headers)
    return client.generic(
        write.method, url, client._encode_data(body, MULTIPART_CONTENT), content_type=MULTIPART_CONTENT, **headers
    )


def cases(*, only: Any = None) -> list[Any]:
    """(name, write index or None for the GET) for every recipe, with a readable test id."""
    params = []
    for name in WITH_RECIPE:
        recipe = RECIPES[name]
        if only is not None and not only(recipe):
            continue
        params.append(pytest.param(name, None, id=f"{name} GET"))
        for index, write in enumerate(recipe.writes):
            kind = " json" if write.json else ""
            params.append(pytest.param(name, index, id=f"{name} {write.method}{kind} #{index}"))
    return params


def is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# ---------------------------------------------------------------------------------------------- recipes


def test_every_studio_url_has_a_recipe() -> None:
    missing = sorted(set(studio_patterns()) - set(RECIPES))
    assert not missing, f"Add a recipe to tests/behavior/studio_sweep_world.py RECIPES for: {', '.join(missing)}"
    assert len(studio_patterns()) > 60, "the resolver walk found too few studio URLs"


def test_every_recipe_names_a_url_that_still_exists() -> None:
    assert not sorted(set(RECIPES) - set(PATTERNS))


# ---------------------------------------------------------------------------------------------- anonymous


@pytest.mark.parametrize(("name", "index"), cases())
def test_an_anonymous_visitor_is_sent_to_log_in(world: World, name: str, index: int | None) -> None:
    recipe: Recipe = RECIPES[name]
    url = url_of(name, PATTERNS[name], world.ids)
    client = client_as(world, None)
    before = database_fingerprint()
    if index is None:
        response = client.get(url)
        if recipe.get == NONE:
            assert response.status_code == 405
        elif recipe.json_get:
            assert response.status_code == 401
            assert response["Content-Type"] == "application/json"
        else:
            assert is_login_redirect(response), (response.status_code, response.get("Location"))
        return
    write = recipe.writes[index]
    response = send(client, url, write, world.ids)
    if write.json:
        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"
    else:
        assert is_login_redirect(response), (response.status_code, response.get("Location"))
    assert database_fingerprint() == before


# ---------------------------------------------------------------------------------------------- outsiders


@pytest.mark.parametrize(("name", "index"), cases())
def test_an_outsider_without_a_role_is_refused(world: World, name: str, index: int | None) -> None:
    recipe = RECIPES[name]
    url = url_of(name, PATTERNS[name], world.ids)
    client = client_as(world, "outsider")
    before = database_fingerprint()
    if index is None:
        response = client.get(url)
        assert response.status_code == (405 if recipe.get == NONE else 403)
        if recipe.get != NONE and not recipe.json_get:
            assert "You may not open" in response.content.decode()
        return
    response = send(client, url, recipe.writes[index], world.ids)
    assert response.status_code == 403
    assert database_fingerprint() == before


# ---------------------------------------------------------------------------------------------- readers


def _reader_get_status(recipe: Recipe) -> int:
    return {READERS: 200, EDITORS: 403, REDIRECT: 302, NONE: 405}[recipe.get]


@pytest.mark.parametrize("role", ["tester", "operator"])
@pytest.mark.parametrize(("name", "index"), cases(only=lambda recipe: recipe.area == "studio"))
def test_testers_and_operators_read_but_change_nothing(world: World, role: str, name: str, index: int | None) -> None:
    recipe = RECIPES[name]
    url = url_of(name, PATTERNS[name], world.ids)
    client = client_as(world, role)
    before = database_fingerprint()
    if index is None:
        for query in recipe.query:
            for headers in ({}, HX):
                response = client.get(url + query.format(**world.ids), **headers)
                assert response.status_code == _reader_get_status(recipe), (query, headers)
        assert database_fingerprint() == before
        return
    write = recipe.writes[index]
    response = send(client, url, write, world.ids)
    assert response.status_code == (200 if write.harmless else 403)
    if write.json:
        assert response["Content-Type"] == "application/json"
    assert database_fingerprint() == before


@pytest.mark.parametrize(("name", "index"), cases(only=lambda recipe: recipe.area == "sandbox"))
def test_a_tester_tries_an_agent_in_the_sandbox_but_an_operator_may_not(
    world: World, name: str, index: int | None
) -> None:
    url = url_of(name, PATTERNS[name], world.ids)
    if index is None:
        assert client_as(world, "tester").get(url).status_code == 405
        return
    write = RECIPES[name].writes[index]
    before = database_fingerprint()
    assert send(client_as(world, "operator"), url, write, world.ids).status_code == 403
    assert database_fingerprint() == before
    response = send(client_as(world, "tester"), url, write, world.ids)
    assert response.status_code == 302 and response["Location"].startswith("/sandbox/")


@pytest.mark.parametrize(("name", "index"), cases(only=lambda recipe: recipe.area == "evaluations"))
def test_testers_open_the_evaluation_pages_but_operators_may_not(world: World, name: str, index: int | None) -> None:
    """Test cases and runs replay conversations like the sandbox: testers (and editors) read and change them,
    operators are refused and change nothing."""
    recipe = RECIPES[name]
    url = url_of(name, PATTERNS[name], world.ids)
    before = database_fingerprint()
    if index is None:
        for query in recipe.query:
            for headers in ({}, HX):
                full = url + query.format(**world.ids)
                expected = 405 if recipe.get == NONE else 200
                assert client_as(world, "tester").get(full, **headers).status_code == expected, (query, headers)
                refused = client_as(world, "operator").get(full, **headers)
                assert refused.status_code == (405 if recipe.get == NONE else 403), (query, headers)
        assert database_fingerprint() == before
        return
    write = recipe.writes[index]
    assert send(client_as(world, "operator"), url, write, world.ids).status_code == 403
    assert database_fingerprint() == before
    response = send(client_as(world, "tester"), url, write, world.ids)
    assert response.status_code not in (401, 403, 404, 405) and response.status_code < 500, response.status_code


# ---------------------------------------------------------------------------------------------- other agents


def cross_cases() -> list[Any]:
    """(name, the id to take from other_agent, write index or None) for every URL with an agent's object id
    (in its path, or in a write's body)."""
    params = []
    for name in WITH_RECIPE:
        recipe = RECIPES[name]
        if recipe.area == "admin":
            continue
        own = [kwarg for kwarg in PATTERNS[name] if kwarg in AGENT_OBJECT_IDS and kwarg not in recipe.global_ids]
        for swapped in own:
            if recipe.get in (READERS, EDITORS):
                params.append(pytest.param(name, swapped, None, id=f"{name} {swapped} GET"))
        for index, write in enumerate(recipe.writes):
            kind = " json" if write.json else ""
            for swapped in [*own, *write.body_ids]:
                where = " in the body" if swapped in write.body_ids else ""
                params.append(
                    pytest.param(name, swapped, index, id=f"{name} {swapped}{where} {write.method}{kind} #{index}")
                )
    return params


@pytest.mark.parametrize(("name", "swapped", "index"), cross_cases())
def test_an_object_of_another_agent_under_this_agents_url_is_not_found(
    world: World, name: str, swapped: str, index: int | None
) -> None:
    recipe = RECIPES[name]
    ids = {**world.ids, swapped: world.other_ids[swapped]}
    assert ids[swapped] != world.ids[swapped], f"{swapped} is the same object for both agents"
    url = url_of(name, PATTERNS[name], ids)
    client = client_as(world, "admin" if recipe.admin_only_writes else "editor")
    before = database_fingerprint()
    if index is None:
        assert client.get(url).status_code == 404
        return
    write = recipe.writes[index]
    response = send(client, url, write, ids)
    assert response.status_code == 404, response.content[:300]
    if write.json:
        assert response["Content-Type"] == "application/json"
    assert database_fingerprint() == before


def test_the_version_number_of_another_agent_is_a_version_this_agent_does_not_have(world: World) -> None:
    """Version numbers count per agent: other_agent has v2, agent has only v1 (so the sweep above means it)."""
    assert world.other_ids["number"] == 2 and world.ids["number"] == 1


# ---------------------------------------------------------------------------------------------- the admin area


@pytest.mark.parametrize("role", ["editor", "tester", "operator"])
@pytest.mark.parametrize(("name", "index"), cases(only=lambda recipe: recipe.area == "admin"))
def test_the_admin_area_is_for_admins_only(world: World, role: str, name: str, index: int | None) -> None:
    recipe = RECIPES[name]
    url = url_of(name, PATTERNS[name], world.ids)
    client = client_as(world, role)
    before = database_fingerprint()
    if index is None:
        assert client.get(url).status_code == (405 if recipe.get == NONE else 403)
        return
    assert send(client, url, recipe.writes[index], world.ids).status_code == 403
    assert database_fingerprint() == before


@pytest.mark.parametrize(
    "name", [name for name in WITH_RECIPE if RECIPES[name].area == "admin" and RECIPES[name].get != NONE]
)
def test_an_admin_opens_every_admin_page(world: World, name: str) -> None:
    url = url_of(name, PATTERNS[name], world.ids)
    for query in RECIPES[name].query:
        assert client_as(world, "admin").get(url + query.format(**world.ids)).status_code == 200


def test_deleting_an_agent_needs_the_admin_role_even_for_an_editor(world: World) -> None:
    url = url_of("studio:agent-delete", PATTERNS["studio:agent-delete"], world.ids)
    before = database_fingerprint()
    assert client_as(world, "editor").post(url).status_code == 403
    assert database_fingerprint() == before


def test_a_bulk_action_ignores_the_guidelines_of_another_agent(world: World) -> None:
    url = url_of("studio:guideline-bulk", PATTERNS["studio:guideline-bulk"], world.ids)
    before = database_fingerprint()
    data = {"operation": "delete", "selected": [world.other_ids["guideline_id"]]}
    response = client_as(world, "editor").post(url, data)
    assert response.status_code == 302
    assert database_fingerprint() == before


# ---------------------------------------------------------------------------------------------- the sweep's own checks


@pytest.mark.parametrize(("name", "index"), [case for case in cases() if case.values[1] is not None])
def test_an_editor_is_not_refused_what_testers_are(world: World, name: str, index: int) -> None:
    """The recipes' writes are ones an editor (an admin for admin-only URLs) may send: the refusals above are
    about the role, not a malformed request."""
    recipe = RECIPES[name]
    role = "admin" if recipe.area == "admin" or recipe.admin_only_writes else "editor"
    if recipe.area == "sandbox":
        role = "tester"
    response = send(client_as(world, role), url_of(name, PATTERNS[name], world.ids), recipe.writes[index], world.ids)
    assert response.status_code not in (401, 403, 404, 405) and response.status_code < 500, response.status_code


def test_the_fingerprint_notices_a_change(world: World) -> None:
    before = database_fingerprint()
    url = url_of("studio:guideline-toggle", PATTERNS["studio:guideline-toggle"], world.ids)
    assert client_as(world, "editor").post(url).status_code == 302
    assert database_fingerprint() != before
