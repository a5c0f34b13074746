"""The sweeping tests' world and URL recipes: every studio URL pattern (found by walking the resolver, so a page
added later is swept too) with how to call it, and a small world in which `agent` and `other_agent` each hold
one of every entity, built through the services (so the audit trail is real).

A new URL pattern without a recipe here fails `test_every_studio_url_has_a_recipe`: add one to RECIPES."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from agents.models import Agent, Tool, ToolService
from agents.services import agent_update, api_key_create, tool_update
from agents.widget_keys import widget_key_create
from behavior.evaluations.cases import case_create
from behavior.evaluations.metrics import run_coverage, run_summary
from behavior.evaluations.models import EvalResult, EvalRun, RunPurpose
from behavior.evaluations.observe import document_inventory, turn_observation
from behavior.evaluations.runs import result_attempt
from behavior.models import AuditEntry, LintRun, LintRunStatus
from behavior.services.audit import studio_actor
from behavior.services.canned_responses import canned_response_create
from behavior.services.exporting import agent_export_document
from behavior.services.glossary import glossary_term_create
from behavior.services.guidelines import guideline_create, guideline_update
from behavior.services.journeys import journey_create, journey_state_create, journey_transition_create
from behavior.services.relationships import relationship_create
from behavior.services.variables import context_value_create, context_variable_create
from behavior.services.versions import version_publish
from sessions.models import WebhookDelivery
from sessions.webhooks.services import endpoint_create
from tests.factories import make_agent, make_tag, make_user

# ---------------------------------------------------------------------------------------------- the patterns


def studio_patterns() -> dict[str, list[str]]:
    """Every URL name of the studio namespace ("studio:<name>") with its keyword arguments, from the resolver."""
    found: dict[str, list[str]] = {}

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, f"{prefix}{entry.namespace}:" if entry.namespace else prefix)
            elif isinstance(entry, URLPattern) and entry.name:
                found[f"{prefix}{entry.name}"] = list(entry.pattern.converters)

    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == "studio":
            walk(entry.url_patterns, "studio:")
    return found


# ---------------------------------------------------------------------------------------------- recipes

READERS = "readers"  # everyone with a studio role reads it (GET 200)
EDITORS = "editors"  # the GET is the form of a change: editors only (testers 403)
REDIRECT = "redirect"  # the GET redirects (302) for every reader
NONE = "none"  # no GET: POST (or PATCH/DELETE) only, GET is 405


@dataclass(frozen=True)
class Write:
    """One way to change through the URL: a method and a body (form data, or JSON when `json`)."""

    method: str = "POST"
    json: bool = False
    body: Callable[[dict[str, Any]], dict[str, Any]] = lambda ids: {}
    # A write that changes nothing (a preview): readers may send it.
    harmless: bool = False
    # Object ids the body names (swept with another agent's ids: a 404 too).
    body_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recipe:
    get: str = READERS
    query: tuple[str, ...] = ("",)  # query strings the GET is swept with (formatted with the ids)
    writes: tuple[Write, ...] = ()
    json_get: bool = False  # the GET answers JSON (401 JSON when anonymous)
    area: str = "studio"  # studio | admin | sandbox | evaluations (testers, editors and admins read and write)
    admin_only_writes: bool = False  # even editors are refused the writes
    global_ids: tuple[str, ...] = ()  # ids of objects every agent shares (no other agent's id to try)


FORM = Write()
DELETE = Write("DELETE", json=True)


def form(*, body_ids: tuple[str, ...] = (), **fields: Any) -> Write:
    return Write(
        body=lambda ids: {name: value(ids) if callable(value) else value for name, value in fields.items()},
        body_ids=body_ids,
    )


def json_write(method: str, **fields: Any) -> Write:
    return Write(
        method,
        json=True,
        body=lambda ids: {name: value(ids) if callable(value) else value for name, value in fields.items()},
    )


READ = Recipe()
CHANGE_FORM = Recipe(get=EDITORS, writes=(FORM,))
ACTION = Recipe(get=NONE, writes=(FORM,))

RECIPES: dict[str, Recipe] = {
    # agents
    "studio:agent-list": Recipe(query=("", "?q=sky")),
    "studio:agent-create": Recipe(get=EDITORS, writes=(form(name="New agent", description="Helps"),)),
    "studio:agent-detail": READ,
    "studio:agent-update": Recipe(get=EDITORS, writes=(form(name="Renamed", description="Helps", revision=1),)),
    "studio:agent-delete": Recipe(get=NONE, writes=(FORM,), admin_only_writes=True),
    # guidelines and relationships
    "studio:guideline-list": Recipe(query=("", "?q=help&sort=-key")),
    "studio:guideline-create": Recipe(get=EDITORS, writes=(form(key="new-one", condition="c", action="a"),)),
    "studio:guideline-bulk": Recipe(
        get=NONE, writes=(form(operation="delete", selected=lambda ids: [ids["guideline_id"]]),)
    ),
    "studio:guideline-detail": Recipe(query=("", "?part=row")),
    "studio:guideline-update": Recipe(
        get=EDITORS, query=("", "?in=row"), writes=(form(key="changed", condition="c", action="a", revision=1),)
    ),
    "studio:guideline-toggle": ACTION,
    "studio:guideline-delete": ACTION,
    "studio:relationship-create": Recipe(
        get=NONE,
        writes=(
            form(
                body_ids=("guideline_id",),
                guideline=lambda ids: ids["guideline_id"],
                direction="outgoing",
                kind="overrides",
                other_type="guideline",
                other=lambda ids: ids["guideline_key_2"],
            ),
            form(
                kind="overrides",
                source_type="guideline",
                source=lambda ids: ids["guideline_key_2"],
                target_type="guideline",
                target="lost-bag",
            ),
        ),
    ),
    "studio:relationship-delete": Recipe(
        get=NONE, writes=(form(body_ids=("guideline_id",), guideline=lambda ids: ids["guideline_id"]), FORM)
    ),
    "studio:relationship-list": Recipe(query=("", "?q=refund&kind=overrides", "?tool={tool_id}")),
    "studio:relationship-targets": Recipe(query=("", "?q=a&type=guideline", "?type=tag")),
    # journeys and the graph editor
    "studio:journey-list": READ,
    "studio:journey-create": Recipe(get=EDITORS, writes=(form(key="new-journey", title="New"),)),
    "studio:journey-detail": Recipe(query=("", "?view=forms")),
    "studio:journey-update": Recipe(get=EDITORS, writes=(form(key="changed", title="Changed", revision=1),)),
    "studio:journey-delete": ACTION,
    "studio:journey-graph": Recipe(json_get=True),
    "studio:journey-layout": Recipe(
        get=NONE, writes=(json_write("POST", positions=lambda ids: [{"id": ids["state_id"], "x": 5, "y": 5}]),)
    ),
    "studio:journey-state-create": Recipe(
        get=NONE,
        writes=(
            form(**{"new-state-key": "another", "new-state-kind": "chat", "new-state-action": "Do it"}),
            json_write("POST", key="another", kind="chat", action="Do it"),
        ),
    ),
    "studio:journey-state-update": Recipe(
        get=NONE,
        writes=(
            form(**{"state-key": "changed", "state-kind": "chat", "state-action": "Changed"}),
            json_write("PATCH", action="Changed"),
        ),
    ),
    "studio:journey-state-delete": Recipe(get=NONE, writes=(FORM, DELETE)),
    "studio:journey-transition-create": Recipe(
        get=NONE,
        writes=(
            form(
                **{
                    "new-transition-source": lambda ids: ids["state_id_2"],
                    "new-transition-target": lambda ids: ids["state_id"],
                }
            ),
            json_write("POST", source=lambda ids: ids["state_id_2"], target=lambda ids: ids["state_id"]),
        ),
    ),
    "studio:journey-transition-update": Recipe(
        get=NONE, writes=(form(condition="changed"), json_write("PATCH", condition="changed"))
    ),
    "studio:journey-transition-delete": Recipe(get=NONE, writes=(FORM, DELETE)),
    # glossary
    "studio:glossary-list": Recipe(query=("", "?q=bag")),
    "studio:glossary-create": Recipe(get=EDITORS, writes=(form(name="New term", description="Means"),)),
    "studio:glossary-detail": READ,
    "studio:glossary-update": Recipe(get=EDITORS, writes=(form(name="Changed", description="Means", revision=1),)),
    "studio:glossary-delete": ACTION,
    # canned responses
    "studio:canned-response-list": Recipe(query=("", "?q=hello")),
    "studio:canned-response-create": Recipe(get=EDITORS, writes=(form(key="new-response", template="Hi"),)),
    "studio:canned-response-preview": Recipe(writes=(Write(body=lambda ids: {"template": "Hi"}, harmless=True),)),
    "studio:canned-response-detail": READ,
    "studio:canned-response-update": Recipe(get=EDITORS, writes=(form(key="changed", template="Hi", revision=1),)),
    "studio:canned-response-delete": ACTION,
    # variables
    "studio:variable-list": Recipe(query=("", "?q=tier")),
    "studio:variable-create": Recipe(get=EDITORS, writes=(form(name="new_variable", description="d"),)),
    "studio:variable-detail": READ,
    "studio:variable-update": Recipe(get=EDITORS, writes=(form(name="changed", description="d", revision=1),)),
    "studio:variable-delete": ACTION,
    "studio:variable-value-create": Recipe(get=EDITORS, writes=(form(scope="default", value='"gold"'),)),
    "studio:variable-value-update": Recipe(get=EDITORS, writes=(form(value='"gold"', revision=1),)),
    "studio:variable-value-delete": ACTION,
    # tags (global: a tag has no agent)
    "studio:tag-list": Recipe(query=("", "?show=all")),
    "studio:tag-create": Recipe(get=EDITORS, writes=(form(name="new-tag"),)),
    "studio:tag-update": Recipe(get=EDITORS, writes=(form(name="renamed"),), global_ids=("tag_id",)),
    "studio:tag-delete": Recipe(get=NONE, writes=(FORM,), global_ids=("tag_id",)),
    # tools
    "studio:tool-list": Recipe(query=("", "?q=lookup")),
    "studio:tool-detail": READ,
    "studio:tool-update": Recipe(get=EDITORS, writes=(form(description="Changed", timeout_seconds="5", revision=1),)),
    "studio:tool-service-create": Recipe(get=EDITORS, writes=(form(name="billing", url="http://127.0.0.1:9/"),)),
    "studio:tool-service-detail": READ,
    "studio:tool-service-refresh": ACTION,
    "studio:tool-service-delete": ACTION,
    # versions
    "studio:agent-import-new": Recipe(get=EDITORS, writes=(FORM,)),
    "studio:agent-import": Recipe(get=EDITORS, writes=(FORM,)),
    "studio:version-list": READ,
    "studio:version-publish": Recipe(get=REDIRECT, writes=(form(note="Again"),)),
    "studio:version-diff": Recipe(query=("?base=1&other=draft", "?base=empty&other=1")),
    "studio:version-export": Recipe(query=("?format=yaml", "?format=json&number=1")),
    "studio:version-detail": READ,
    "studio:version-rollback": Recipe(get=EDITORS, writes=(form(note="Back"),)),
    # lint and history
    "studio:lint": READ,
    "studio:lint-run-create": ACTION,
    "studio:lint-run-detail": READ,
    "studio:audit-list": Recipe(query=("", "?entity_type=guideline")),
    "studio:audit-detail": READ,
    # the website widget (one key per agent: no object id in its URLs)
    "studio:widget-detail": READ,
    "studio:widget-create": ACTION,
    "studio:widget-update": Recipe(
        get=NONE, writes=(form(allowed_origins="https://shop.example.com", enforce_identity="on", enabled="on"),)
    ),
    "studio:widget-key-rotate": Recipe(get=EDITORS, writes=(FORM,)),
    "studio:widget-secret-rotate": Recipe(get=EDITORS, writes=(FORM,)),
    "studio:widget-secret-reveal": ACTION,
    # webhooks
    "studio:webhook-list": READ,
    "studio:webhook-create": Recipe(get=NONE, writes=(form(url="https://crm.example.test/hook", enabled="on"),)),
    "studio:webhook-detail": READ,
    "studio:webhook-update": Recipe(get=NONE, writes=(form(url="https://crm.example.test/changed", enabled="on"),)),
    "studio:webhook-delete": ACTION,
    "studio:webhook-redeliver": ACTION,
    # test cases (the evaluations area: testers write too, operators are refused)
    "studio:eval-case-list": Recipe(area="evaluations", query=("", "?q=refund&kind=scripted", "?tag=smoke&page=2")),
    "studio:eval-case-create": Recipe(
        area="evaluations",
        query=("", "?kind=simulated"),
        writes=(
            form(key="new-case", name="New case", kind="scripted", **{"turns.0.message": "Hello"}),
            form(op="add:turns", key="new-case", **{"turns.0.message": "Hello"}),
        ),
    ),
    "studio:eval-case-from-session": Recipe(area="evaluations", writes=(form(key="from-session", name="Saved"),)),
    "studio:eval-case-detail": Recipe(area="evaluations"),
    "studio:eval-case-update": Recipe(
        area="evaluations",
        writes=(form(key="changed-case", name="Changed", kind="scripted", revision=1, **{"turns.0.message": "Hi"}),),
    ),
    "studio:eval-case-delete": Recipe(area="evaluations", writes=(FORM,)),
    "studio:eval-suite-export": Recipe(area="evaluations", query=("?format=yaml", "?format=json")),
    "studio:eval-suite-import": Recipe(
        area="evaluations", writes=(form(text="format: decorum-test-suite\nversion: 1\ncases: []\n"),)
    ),
    # evaluation runs (the evaluations area too)
    "studio:eval-run-list": Recipe(area="evaluations", query=("", "?page=2")),
    "studio:eval-run-create": Recipe(
        get=NONE,
        area="evaluations",
        writes=(form(version="draft", tags="smoke", repeats=1, concurrency=1, min_pass_rate=90),),
    ),
    "studio:eval-publish-check-create": Recipe(get=NONE, area="evaluations", writes=(FORM,)),
    "studio:eval-run-detail": Recipe(area="evaluations", query=("", "?page=2")),
    "studio:eval-run-progress": Recipe(area="evaluations"),
    "studio:eval-run-cancel": Recipe(get=NONE, area="evaluations", writes=(FORM,)),
    "studio:eval-run-compare": Recipe(area="evaluations", query=("", "?baseline={baseline_run_id}")),
    "studio:eval-publish-check": Recipe(area="evaluations"),
    "studio:eval-result-detail": Recipe(area="evaluations"),
    # the admin area
    "studio:admin-home": Recipe(area="admin"),
    "studio:admin-user-list": Recipe(area="admin", query=("", "?q=subject")),
    "studio:admin-user-create": Recipe(
        get=EDITORS, area="admin", writes=(form(username="newbie", password="a-long-password-1", roles="tester"),)
    ),
    "studio:admin-user-update": Recipe(get=EDITORS, area="admin", writes=(form(roles="editor", is_active="on"),)),
    "studio:admin-key-list": Recipe(area="admin", query=("", "?state=active")),
    "studio:admin-key-create": Recipe(
        get=EDITORS, area="admin", writes=(form(user=lambda ids: ids["user_id"], name="ci", role="tester"),)
    ),
    "studio:admin-key-revoke": Recipe(get=NONE, area="admin", writes=(FORM,)),
}

# Outside the studio namespace, swept as well: "Try in sandbox" on every studio page.
EXTRA_PATTERNS = {"sandbox:try": ["agent_id"]}
RECIPES["sandbox:try"] = Recipe(get=NONE, area="sandbox", writes=(FORM,))


def swept_patterns() -> dict[str, list[str]]:
    return {**studio_patterns(), **EXTRA_PATTERNS}


# URL keyword arguments that name an object of one agent (an id of another agent must be a 404).
AGENT_OBJECT_IDS = (
    "guideline_id",
    "relationship_id",
    "journey_id",
    "state_id",
    "transition_id",
    "term_id",
    "canned_response_id",
    "variable_id",
    "value_id",
    "tool_id",
    "service_id",
    "number",
    "run_id",
    "entry_id",
    "case_id",
    "eval_run_id",
    "result_id",
)


def url_of(name: str, kwargs: list[str], ids: dict[str, Any]) -> str:
    return reverse(name, kwargs={kwarg: ids[kwarg] for kwarg in kwargs})


# ---------------------------------------------------------------------------------------------- the world


@dataclass
class World:
    agent: Agent
    other_agent: Agent
    users: dict[str, Any]
    ids: dict[str, Any] = field(default_factory=dict)  # agent's objects, by URL keyword
    other_ids: dict[str, Any] = field(default_factory=dict)  # other_agent's objects, by URL keyword


def _agent_objects(agent: Agent, text: Callable[[str], str], editor: Any, *, versions: int) -> dict[str, Any]:
    """One of every entity for `agent`, through the services (each write leaves its audit entry)."""
    actor = studio_actor(editor)
    tag = make_tag("vip")
    service = ToolService.objects.create(
        agent=agent, name="crm", url="http://127.0.0.1:9/openapi.json", timeout_seconds=1
    )
    tool = Tool.objects.create(
        agent=agent, name="lookup_order", description="Looks up", implementation="remote", service=service
    )
    tool = tool_update(tool, data={"description": text("Looks up an order")}, actor=actor)
    guideline = guideline_create(
        agent=agent,
        data={"key": "lost-bag", "condition": "The bag is lost", "action": "Apologise", "tags": [tag.name]},
        actor=actor,
    )
    guideline = guideline_update(
        guideline,
        data={
            "title": text("Lost bag"),
            "condition": text("The customer lost a bag"),
            "action": text("Apologise and help"),
            "description": text("Why we apologise"),
            "labels": [text("label")],
            "metadata": {"note": text("meta")},
        },
        actor=actor,
    )
    second = guideline_create(
        agent=agent, data={"key": "refund", "condition": text("Refund asked"), "action": text("Refund")}, actor=actor
    )
    relationship = relationship_create(
        agent=agent,
        data={
            "kind": "overrides",
            "source": {"type": "guideline", "id": guideline.pk},
            "target": {"type": "guideline", "id": second.pk},
        },
        actor=actor,
    )
    journey = journey_create(
        agent=agent,
        data={
            "key": "rebooking",
            "title": text("Rebooking"),
            "description": text("Rebook a flight"),
            "conditions": [text("The customer wants another flight")],
        },
        actor=actor,
    )
    start = journey_state_create(
        journey,
        data={"key": "start", "kind": "chat", "action": text("Ask for the booking"), "initial": True},
        actor=actor,
    )
    end = journey_state_create(journey, data={"key": "confirm", "kind": "chat", "action": text("Confirm")}, actor=actor)
    transition = journey_transition_create(
        journey, data={"source": start.pk, "target": end.pk, "condition": text("The booking is found")}, actor=actor
    )
    term = glossary_term_create(
        agent=agent,
        data={"name": text("Bag"), "description": text("A suitcase"), "synonyms": [text("luggage")]},
        actor=actor,
    )
    canned = canned_response_create(
        agent=agent, data={"key": "hello", "template": text("Hello there"), "signals": [text("hi")]}, actor=actor
    )
    variable = context_variable_create(
        agent=agent, data={"name": "loyalty_tier", "description": text("The tier")}, actor=actor
    )
    value = context_value_create(variable, data={"scope": "default", "value": text("gold")}, actor=actor)
    for number in range(versions):
        version = version_publish(agent, actor=actor, note=text(f"Version {number + 1}"))
    run = LintRun.objects.create(
        agent=agent,
        status=LintRunStatus.DONE,
        progress_done=1,
        progress_total=1,
        findings=[
            {
                "severity": "warning",
                "code": "contradiction",
                "message": text("These two contradict"),
                "entity": "guideline",
                "ref": guideline.key,
                "path": "",
                "related": [["guideline", second.key]],
            }
        ],
    )
    widget_key_create(agent=agent, actor=actor)
    endpoint = endpoint_create(agent=agent, url="https://crm.example.test/hook", description=text("Our CRM"))
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="handoff.taken", payload={"x": 1}, status="failed", last_error=text("Boom")
    )
    case = case_create(
        agent=agent,
        data={
            "key": "refund-late",
            "name": text("Refund of a late flight"),
            "description": text("Why it matters"),
            "tags": ["smoke"],
            "turns": [{"message": text("My flight was late"), "assertions": [{"type": "no_handoff"}]}],
        },
        actor=actor,
    )
    agent = agent_update(agent, data={"description": text("You help travellers")}, actor=actor)
    entry = AuditEntry.objects.filter(agent=agent).order_by("-pk").first()
    assert entry is not None
    runs = _evaluation_runs(agent, case, version, text, editor)
    return {
        "agent_id": agent.pk,
        "guideline_id": guideline.pk,
        "guideline_key_2": second.key,
        "relationship_id": relationship.pk,
        "journey_id": journey.pk,
        "state_id": start.pk,
        "state_id_2": end.pk,
        "transition_id": transition.pk,
        "term_id": term.pk,
        "canned_response_id": canned.pk,
        "variable_id": variable.pk,
        "value_id": value.pk,
        "tool_id": tool.pk,
        "service_id": service.pk,
        "tag_id": tag.pk,
        "number": version.number,
        "run_id": run.pk,
        "endpoint_id": endpoint.pk,
        "delivery_id": delivery.pk,
        "entry_id": entry.pk,
        "case_id": case.pk,
        **runs,
    }


def _evaluation_runs(agent: Agent, case: Any, version: Any, text: Callable[[str], str], editor: Any) -> dict[str, Any]:
    """A finished check before publishing: the published version's run (passed) as the baseline of the draft's
    (failed: the model's text and the cause quote `text`), each with one attempt; written directly, no turn runs."""
    inventory = document_inventory(agent_export_document(agent))
    now = timezone.now()

    def finished_run(*, on: Any, passed: bool, baseline: Any = None) -> tuple[EvalRun, EvalResult]:
        run = EvalRun.objects.create(
            agent=agent,
            version=on,
            draft_revision=None if on else agent.draft_revision,
            purpose=RunPurpose.PUBLISH_CHECK,
            baseline=baseline,
            progress_total=1,
            progress_done=1,
            inventory=inventory,
            created_by=editor,
            started_at=now,
            finished_at=now,
        )
        turn = turn_observation(
            index=0,
            customer_text=text("My flight was late"),
            customer_offset=1,
            turn_id=None,
            status="done",
            trace={"resolution": {"active": ["lost-bag"] if passed else []}},
            events=[{"kind": "message", "source": "agent", "data": {"text": text("Sorry about that")}, "offset": 2}],
        )
        cause = "guideline lost-bag matched" if passed else text("guideline lost-bag not matched: rationale")
        result = EvalResult.objects.create(
            run=run,
            case=case,
            case_key=case.key,
            definition=case.definition,
            status="passed" if passed else "failed",
            turns=[turn],
            assertions=[
                {
                    "type": "guideline_matched",
                    "label": "guideline matched: lost-bag",
                    "note": text("Why"),
                    "scope": 0,
                    "passed": passed,
                    "cause": cause,
                    "turn": 0,
                    "rationale": None,
                }
            ],
            metrics={"simulated": False, "turns": 1},
            started_at=now,
            finished_at=now,
        )
        attempts = [result_attempt(result)]
        summary = run_summary(attempts, k=1, prices={}, min_pass_rate=1.0)
        EvalRun.objects.filter(pk=run.pk).update(
            status="passed" if passed else "failed", summary=summary, coverage=run_coverage(inventory, attempts)
        )
        run.refresh_from_db()
        return run, result

    baseline, _ = finished_run(on=version, passed=True)
    run, result = finished_run(on=None, passed=False, baseline=baseline)
    return {"eval_run_id": run.pk, "result_id": result.pk, "baseline_run_id": baseline.pk}


def build_world(text: Callable[[str], str] = lambda plain: plain) -> World:
    """`agent` (named "Skyway Support", as in tests/conftest.py) and `other_agent`, each with one of every
    entity whose free text is `text(...)`; a user per role, an outsider, an admin, and for the admin area a
    user with an API key. `other_agent` has one version more, so `agent`'s URL with its number is a 404."""
    users = {
        "admin": make_user("admin", "admin", superuser=True),
        "editor": make_user("editor", "editor"),
        "tester": make_user("tester", "tester"),
        "operator": make_user("operator", "operator"),
        "outsider": make_user("outsider"),
    }
    agent = make_agent(text("Skyway Support"))
    other_agent = make_agent("Other Agent")
    world = World(agent=agent, other_agent=other_agent, users=users)
    world.ids = _agent_objects(agent, text, users["editor"], versions=1)
    world.other_ids = _agent_objects(other_agent, text, users["editor"], versions=2)
    subject = make_user("subject", "tester", first_name=text("Sam"), last_name=text("Subject"))
    key, _raw = api_key_create(user=subject, name=text("CI key")[:100], role="tester", created_by=users["admin"])
    world.ids.update(user_id=subject.pk, key_id=key.pk)
    world.other_ids.update(user_id=subject.pk, key_id=key.pk)
    agent.refresh_from_db()
    return world


# ---------------------------------------------------------------------------------------------- fingerprint

_IGNORED_MODELS = {"sessions.session", "contenttypes.contenttype", "auth.permission", "admin.logentry"}


def database_fingerprint() -> str:
    """A digest of every row of every model (but login sessions and last logins): equal before and after means
    nothing changed."""
    digest = hashlib.sha256()
    for model in sorted(apps.get_models(), key=lambda model: model._meta.label_lower):
        if model._meta.label_lower in _IGNORED_MODELS or model._meta.db_table == "django_session":
            continue
        columns = [f.attname for f in model._meta.concrete_fields if f.attname != "last_login"]  # set by logging in
        rows = list(model._base_manager.order_by("pk").values_list(*columns))
        digest.update(model._meta.label_lower.encode())
        digest.update(json.dumps(rows, default=str).encode())
    return digest.hexdigest()
