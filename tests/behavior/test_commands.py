"""Management commands: export_agent, import_agent, seed_demo and create_api_key, called as an operator would."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

from agents.models import Agent, ApiKey
from agents.services import api_key_authenticate
from behavior.models import BehaviorVersion, Guideline
from behavior.services import agent_export_document, agent_import_document, document_dump
from behavior.services.audit import SYSTEM
from tests.factories import make_agent, make_guideline, make_user

pytestmark = pytest.mark.django_db


def run(*args: Any) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(*args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_export_agent_writes_yaml_to_stdout_by_name_or_id(demo_document: dict[str, Any]) -> None:
    agent = agent_import_document(demo_document, actor=SYSTEM)

    by_name, _ = run("export_agent", "Skyway Support")
    by_id, _ = run("export_agent", str(agent.pk))

    assert yaml.safe_load(by_name) == demo_document
    assert by_id == by_name


def test_export_agent_writes_json_to_a_file(demo_document: dict[str, Any], tmp_path: Path) -> None:
    agent_import_document(demo_document, actor=SYSTEM)
    target = tmp_path / "skyway.json"

    _, stderr = run("export_agent", "Skyway Support", "--output", str(target))

    assert json.loads(target.read_text()) == demo_document
    assert "skyway.json (json)" in stderr


def test_export_agent_names_an_unknown_agent() -> None:
    with pytest.raises(CommandError, match="No agent named or numbered 'Nobody'"):
        run("export_agent", "Nobody")


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_import_agent_creates_an_agent_from_a_file(demo_document: dict[str, Any], tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"skyway{suffix}"
    path.write_text(document_dump(demo_document, "json" if suffix == ".json" else "yaml"))

    stdout, _ = run("import_agent", str(path))

    agent = Agent.objects.get(name="Skyway Support")
    assert stdout == f'Imported agent "Skyway Support" (id {agent.pk}).\n'
    assert agent_export_document(agent) == demo_document


def test_import_agent_replaces_the_draft_of_a_named_agent(demo_document: dict[str, Any], tmp_path: Path) -> None:
    agent = make_agent("Old Skyway")
    make_guideline(agent, "obsolete")
    path = tmp_path / "skyway.yaml"
    path.write_text(document_dump(demo_document, "yaml"))

    stdout, _ = run("import_agent", str(path), "--replace", "Old Skyway")

    agent.refresh_from_db()
    assert stdout.startswith('Replaced the draft of agent "Skyway Support"')
    assert agent.name == "Skyway Support"
    assert not Guideline.objects.filter(agent=agent, key="obsolete").exists()


def test_import_agent_lists_every_error_with_its_path_and_writes_nothing(
    demo_document: dict[str, Any], tmp_path: Path
) -> None:
    demo_document["journeys"][1]["transitions"][0]["target"] = "payment"
    demo_document["guidelines"][0]["tags"] = ["nope"]
    path = tmp_path / "broken.yaml"
    path.write_text(document_dump(demo_document, "yaml"))

    with pytest.raises(CommandError) as raised:
        run("import_agent", str(path))

    message = str(raised.value)
    assert '  journeys[1].transitions[0].target: unknown state "payment"' in message
    assert '  guidelines[0].tags[0]: unknown tag "nope"' in message
    assert not Agent.objects.exists()


def test_import_agent_reports_a_parse_error_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"format": "decorum.behavior",\n "agent": }')

    with pytest.raises(CommandError, match="line 2, column 11"):
        run("import_agent", str(path))


def test_import_agent_refuses_an_unknown_extension_and_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Unknown document format"):
        run("import_agent", str(tmp_path / "agent.txt"))
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_agent", str(tmp_path / "missing.yaml"))


def test_import_agent_prints_warnings_but_imports(demo_document: dict[str, Any], tmp_path: Path) -> None:
    demo_document["tags"].append({"name": "spare"})
    path = tmp_path / "skyway.yaml"
    path.write_text(document_dump(demo_document, "yaml"))

    _, stderr = run("import_agent", str(path))

    assert 'warning: tags[6]: tag "spare" is not used by any entity' in stderr
    assert Agent.objects.filter(name="Skyway Support").exists()


def test_import_agent_with_a_taken_name_is_refused(demo_document: dict[str, Any], tmp_path: Path) -> None:
    make_agent("Skyway Support")
    path = tmp_path / "skyway.yaml"
    path.write_text(document_dump(demo_document, "yaml"))

    with pytest.raises(CommandError, match='An agent named "Skyway Support" already exists'):
        run("import_agent", str(path))


def test_seed_demo_is_idempotent() -> None:
    first, _ = run("seed_demo")
    second, _ = run("seed_demo")

    agent = Agent.objects.get(name="Skyway Support")
    assert first == f'Demo agent "Skyway Support" loaded (id {agent.pk}); published version 1.\n'
    assert "already exists; nothing to do" in second
    assert Agent.objects.count() == 1
    assert BehaviorVersion.objects.filter(agent=agent).count() == 1
    assert agent.published_version is not None


def test_seed_demo_force_reloads_and_publishes_again() -> None:
    run("seed_demo")

    stdout, _ = run("seed_demo", "--force")

    assert stdout.endswith("published version 2.\n")
    assert Agent.objects.count() == 1


def test_create_api_key_prints_a_working_key_once() -> None:
    user = make_user("ci-owner", "editor")

    stdout, stderr = run("create_api_key", "--name", "CI pipeline", "--role", "editor", "--user", "ci-owner")

    raw = stdout.strip()
    key = ApiKey.objects.get()
    assert raw.startswith(f"dec_{key.prefix}_")
    assert api_key_authenticate(raw) == key
    assert (key.name, key.role, key.user, key.created_by) == ("CI pipeline", "editor", user, user)
    assert raw not in stderr and raw not in key.key_hash


def test_create_api_key_refuses_an_unknown_role_or_user() -> None:
    with pytest.raises(CommandError):
        run("create_api_key", "--name", "x", "--role", "superhero")
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        run("create_api_key", "--name", "x", "--role", "tester", "--user", "ghost")
    with pytest.raises(CommandError, match="--user"):
        run("create_api_key", "--name", "x", "--role", "tester")
    make_user("only-tester", "tester")
    with pytest.raises(CommandError, match="does not hold the editor role"):
        run("create_api_key", "--name", "x", "--role", "editor", "--user", "only-tester")

    assert not ApiKey.objects.exists()
