"""A small world with one of every entity, and the table of every API operation, for the tests that must
cover each endpoint (auth, roles, success, unknown ids, malformed bodies)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.services import api_key_create
from behavior.services.audit import SYSTEM
from tests.api_helpers import ApiClient, api_user_for

# cover each endpoint (auth, roles, 404, malformed bodies).

ALL_ROLES = ("admin", "editor", "tester", "operator")
BEHAVIOR_READ = ALL_ROLES
BEHAVIOR_WRITE = ("admin", "editor")
CONVERSATION_READ = ("admin", "tester", "operator")
CONVERSATION_WRITE = ("admin", "tester")
CONVERSATION_OPERATE = ("admin", "tester", "operator")
ADMIN = ("admin",)
EVALUATION = ("admin", "tester", "editor")  # tester first: the world's session is a tester's
MISSING_ID = 987_654_321


@dataclass
class World:
    agent: Any
    other_agent: Any
    tag: Any
    tool_service: Any
    tool: Any
    guideline: Any
    observation: Any
    relationship: Any
    journey: Any
    start: Any
    finish: Any
    transition: Any
    term: Any
    variable: Any
    value: Any
    canned: Any
    customer: Any
    session: Any
    version: Any
    api_key: Any
    case: Any
    run: Any


def make_world() -> World:
    """One agent with one of everything (and a published version 1), another agent, a customer and an API
    session (running the draft) with one customer message."""
    from agents.models import ToolService
    from behavior.evaluations.cases import case_create
    from behavior.evaluations.runs import run_create
    from behavior.models import CannedResponse, ContextVariable, ContextVariableValue, GlossaryTerm, Relationship
    from behavior.services import version_publish
    from sessions.services import event_append
    from tests.factories import (
        make_agent,
        make_customer,
        make_guideline,
        make_journey,
        make_session,
        make_tag,
        make_tool,
    )

    agent = make_agent("World Agent")
    other_agent = make_agent("Other World Agent")
    tag = make_tag("vip")
    tool_service = ToolService.objects.create(agent=agent, name="crm", url="http://127.0.0.1:9/openapi.json")
    tool = make_tool(agent, "lookup_booking", parameters=[{"name": "reference", "type": "str"}])
    guideline = make_guideline(agent, "greet", condition="The customer says hello", action="Greet them back")
    observation = make_guideline(agent, "wants-refund", condition="The customer wants a refund", action=None)
    relationship = Relationship.objects.create(
        agent=agent,
        kind="entails",
        source_type="guideline",
        source_guideline=guideline,
        target_type="guideline",
        target_guideline=observation,
    )
    journey = make_journey(agent, "refund", states=("start", "finish"))
    start, finish = list(journey.states.order_by("position"))
    transition = journey.transitions.get()
    term = GlossaryTerm.objects.create(agent=agent, name="PNR", description="A booking reference")
    variable = ContextVariable.objects.create(agent=agent, name="tier", description="Loyalty tier")
    value = ContextVariableValue.objects.create(variable=variable, scope="default", value="standard")
    canned = CannedResponse.objects.create(agent=agent, key="hello", template="Hello {{ customer.name }}!")
    version = version_publish(agent, actor=SYSTEM, note="first")
    customer = make_customer("World Customer", external_id="world-1")
    # Made by the user behind tester keys: a tester key sees only the sessions its user created.
    session = make_session(agent, customer, source="api", created_by=api_user_for("tester"))
    event_append(session, kind="message", source="customer", data={"text": "hi"})
    key, _raw = api_key_create(user=api_user_for("tester"), name="to revoke", role="tester")
    case = case_create(agent=agent, data=_test_case("greeting"), actor=SYSTEM)
    run = run_create(agent=agent, version=version, actor=SYSTEM, start=False)
    return World(
        agent=agent,
        other_agent=other_agent,
        tag=tag,
        tool_service=tool_service,
        tool=tool,
        guideline=guideline,
        observation=observation,
        relationship=relationship,
        journey=journey,
        start=start,
        finish=finish,
        transition=transition,
        term=term,
        variable=variable,
        value=value,
        canned=canned,
        customer=customer,
        session=session,
        version=version,
        api_key=key,
        case=case,
        run=run,
    )


@dataclass(frozen=True)
class Endpoint:
    """One API operation: how to call it in the world, who may, and what success answers."""

    name: str
    method: str
    path: Callable[[World], str]
    roles: tuple[str, ...]
    status: int
    body: Callable[[World], Any] | None = None
    missing: Callable[[World], str] | None = None  # the same path with an unknown id, for the 404 test
    prepare: Callable[[World], None] | None = None
    content_type: str = "application/json"

    def __str__(self) -> str:
        return self.name


def _human_mode(world: World) -> None:
    from sessions.services.messages import session_mode_set

    session_mode_set(world.session, mode="human", user=None)


def _document(name: str) -> dict[str, Any]:
    return {"format": "decorum.behavior", "schema_version": 1, "agent": {"name": name}}


def _test_case(key: str) -> dict[str, Any]:
    return {
        "key": key,
        "name": "Says hello",
        "tags": ["smoke"],
        "turns": [{"message": "Hello!", "assertions": [{"type": "guideline_matched", "guideline": "greet"}]}],
    }


def _crud(
    name: str,
    collection: str,
    *,
    row: Callable[[World], Any],
    create: Callable[[World], Any],
    patch: Callable[[World], Any],
    read: tuple[str, ...],
    write: tuple[str, ...],
    delete: tuple[str, ...] | None = None,
    parent: str = "",
) -> list[Endpoint]:
    """The five operations of a resource at /api/<collection> (optionally under a parent path)."""

    def base(world: World) -> str:
        return f"/api{parent.format(w=world)}/{collection}"

    def item(world: World) -> str:
        return f"{base(world)}/{row(world).pk}"

    def missing(world: World) -> str:
        return f"{base(world)}/{MISSING_ID}"

    return [
        Endpoint(f"{name} list", "GET", base, read, 200),
        Endpoint(f"{name} create", "POST", base, write, 201, body=create),
        Endpoint(f"{name} get", "GET", item, read, 200, missing=missing),
        Endpoint(f"{name} update", "PATCH", item, write, 200, body=patch, missing=missing),
        Endpoint(f"{name} delete", "DELETE", item, delete or write, 204, missing=missing),
    ]


def _session_path(suffix: str = "") -> Callable[[World], str]:
    return lambda world: f"/api/sessions/{world.session.uid}{suffix}"


def _missing_session_path(suffix: str = "") -> Callable[[World], str]:
    return lambda world: f"/api/sessions/{uuid.UUID(int=7)}{suffix}"


def _agent_path(suffix: str) -> Callable[[World], str]:
    return lambda world: f"/api/agents/{world.agent.pk}{suffix}"


def _missing_agent_path(suffix: str) -> Callable[[World], str]:
    return lambda world: f"/api/agents/{MISSING_ID}{suffix}"


ENDPOINTS: list[Endpoint] = [
    *_crud(
        "agent",
        "agents",
        row=lambda w: w.agent,
        create=lambda w: {"name": "New Agent", "tags": ["vip"]},
        patch=lambda w: {"description": "Friendlier"},
        read=BEHAVIOR_READ,
        write=BEHAVIOR_WRITE,
        delete=ADMIN,
    ),
    *_crud(
        "tool service",
        "tool-services",
        row=lambda w: w.tool_service,
        create=lambda w: {"agent": w.agent.pk, "name": "billing", "url": "https://billing.example/openapi.json"},
        patch=lambda w: {"timeout_seconds": 9},
        read=BEHAVIOR_READ,
        write=BEHAVIOR_WRITE,
    ),
    *_crud(
        "tool",
        "tools",
        row=lambda w: w.tool,
        create=lambda w: {
            "agent": w.agent.pk,
            "name": "cancel_booking",
            "consequential": True,
            "parameters": [
                {"name": "reference", "type": "str"},
                {"name": "reason", "type": "enum", "enum": ["a", "b"]},
            ],
        },
        patch=lambda w: {"description": "Finds a booking"},
        read=BEHAVIOR_READ,
        write=BEHAVIOR_WRITE,
    ),
    Endpoint("api key list", "GET", lambda w: "/api/api-keys", ADMIN, 200),
    Endpoint(
        "api key create", "POST", lambda w: "/api/api-keys", ADMIN, 201, body=lambda w: {"name": "CI", "role": "editor"}
    ),
    Endpoint(
        "api key get",
        "GET",
        lambda w: f"/api/api-keys/{w.api_key.pk}",
        ADMIN,
        200,
        missing=lambda w: f"/api/api-keys/{MISSING_ID}",
    ),
    Endpoint(
        "api key revoke",
        "DELETE",
        lambda w: f"/api/api-keys/{w.api_key.pk}",
        ADMIN,
        200,
        missing=lambda w: f"/api/api-keys/{MISSING_ID}",
    ),
    *_crud(
        "tag",
        "tags",
        row=lambda w: w.tag,
        create=lambda w: {"name": "frequent-flyer"},
        patch=lambda w: {"name": "very-important"},
        read=BEHAVIOR_READ,
        write=BEHAVIOR_WRITE,
    ),
    *_crud(
        "guideline",
        "guidelines",
        row=lambda w: w.guideline,
        create=lambda w: {
            "agent": w.agent.pk,
            "key": "refund-policy",
            "condition": "The customer asks for a refund",
            "action": "Explain the refund policy",
            "tools": [w.tool.pk],
            "tags": ["vip"],
        },
        patch=lambda w: {"priority": 3},
        read=BEHAVIOR_READ,
        write=BEHAVIOR_WRITE,
    ),
    *_crud(
        "relationship",
        "relationships",
        row=lambda w: w.relationship,
        create=lambda w: {
            "agent": w.agent.pk,
            "kind": "depends_on",
            "source": {"type": "guideline", "id": w.guideline.pk},
            "target": {"type": "guideline", "id": w.observation.pk},
        },
        patch=lambda w: {"kind": "overrides"},
        read=BEHAVIOR_READ,
        write=BEHAVIOR_WRITE,
    ),
    *_crud(
        "journey",
        "journeys",
        row=lambda w: w.journey,
        create=lambda w: {"agent": w.agent.pk, "key": "rebooking", "title": "Rebook", "triggers": [w.observation.pk]},
        patch=lambda w: {"title": "Refund a ticket"},
        read=BEHAVIOR_READ,
        write=BEHAVIOR_WRITE,
    ),
    Endpoint(
        "journey validate",
        "GET",
        lambda w: f"/api/journeys/{w.journey.pk}/validate",
        BEHAVIOR_READ,
        200,
        missing=lambda w: f"/api/journeys/{MISSING_ID}/validate",
    ),
    *_crud(
        "journey state",
        "states",
        parent="/journeys/{w.journey.pk}",
        row=lambda w: w.finish,
        create=lambda w: {"key": "confirm", "action": "Confirm the refund"},
        patch=lambda w: {"action": "Say goodbye"},
        read=BEHAVIOR_READ,
        write=BEHAVIOR_WRITE,
    ),
    *_crud(
        "journey transition",
        "transitions",
        parent="/journeys/{w.journey.pk}",
        row=lambda w: w.transition,
        create=lambda w: {"source": w.finish.pk, "target": w.start.pk, "condition": "The customer starts over"},
        patch=lambda w: {"condition": "The customer is done"},
        read=BEHAVIOR_READ,
        write=BEHAVIOR_WRITE,
    ),
    *_crud(
        "glossary term",
        "glossary",
        row=lambda w: w.term,
        create=lambda w: {"agent": w.agent.pk, "name": "Layover", "description": "A stop between flights"},
        patch=lambda w: {"synonyms": ["booking code"]},
        read=BEHAVIOR_READ,
        write=BEHAVIOR_WRITE,
    ),
    *_crud(
        "context variable",
        "context-variables",
        row=lambda w: w.variable,
        create=lambda w: {"agent": w.agent.pk, "name": "home_airport", "tool": w.tool.pk, "freshness_seconds": 60},
        patch=lambda w: {"description": "The tier"},
        read=BEHAVIOR_READ,
        write=BEHAVIOR_WRITE,
    ),
    *_crud(
        "context value",
        "values",
        parent="/context-variables/{w.variable.pk}",
        row=lambda w: w.value,
        create=lambda w: {"scope": "customer_tag", "tag": "vip", "value": "gold"},
        patch=lambda w: {"value": {"level": 2}},
        read=BEHAVIOR_READ,
        write=BEHAVIOR_WRITE,
    ),
    *_crud(
        "canned response",
        "canned-responses",
        row=lambda w: w.canned,
        create=lambda w: {
            "agent": w.agent.pk,
            "key": "booking-status",
            "template": "Your booking is {{ status }}.",
            "fields": [{"name": "status", "kind": "tool", "description": "from lookup_booking"}],
            "guidelines": [w.guideline.pk],
            "journey_states": [w.start.pk],
        },
        patch=lambda w: {"signals": ["hi there"]},
        read=BEHAVIOR_READ,
        write=BEHAVIOR_WRITE,
    ),
    Endpoint(
        "publish",
        "POST",
        _agent_path("/publish"),
        BEHAVIOR_WRITE,
        201,
        body=lambda w: {"note": "second"},
        missing=_missing_agent_path("/publish"),
    ),
    Endpoint(
        "versions list", "GET", _agent_path("/versions"), BEHAVIOR_READ, 200, missing=_missing_agent_path("/versions")
    ),
    Endpoint(
        "version get",
        "GET",
        _agent_path("/versions/1"),
        BEHAVIOR_READ,
        200,
        missing=_agent_path("/versions/99"),
    ),
    Endpoint(
        "version diff",
        "GET",
        _agent_path("/versions/1/diff/draft"),
        BEHAVIOR_READ,
        200,
        missing=_agent_path("/versions/1/diff/42"),
    ),
    Endpoint("export", "GET", _agent_path("/export"), BEHAVIOR_READ, 200, missing=_missing_agent_path("/export")),
    Endpoint(
        "import",
        "POST",
        lambda w: "/api/agents/import",
        BEHAVIOR_WRITE,
        201,
        body=lambda w: _document("Imported Agent"),
    ),
    *_crud(
        "customer",
        "customers",
        row=lambda w: w.customer,
        create=lambda w: {
            "name": "Grace Hopper",
            "external_id": "grace",
            "tags": ["vip"],
            "metadata": {"plan": "gold"},
        },
        patch=lambda w: {"name": "Ada King"},
        read=CONVERSATION_READ,
        write=CONVERSATION_WRITE,
    ),
    Endpoint("session list", "GET", lambda w: "/api/sessions", CONVERSATION_READ, 200),
    Endpoint(
        "session create",
        "POST",
        lambda w: "/api/sessions",
        CONVERSATION_WRITE,
        201,
        body=lambda w: {"agent": w.agent.pk, "customer": w.customer.pk, "title": "Refund"},
    ),
    Endpoint("session get", "GET", _session_path(), CONVERSATION_READ, 200, missing=_missing_session_path()),
    Endpoint(
        "session update",
        "PATCH",
        _session_path(),
        CONVERSATION_WRITE,
        200,
        body=lambda w: {"title": "Renamed"},
        missing=_missing_session_path(),
    ),
    Endpoint(
        "session take over",
        "PATCH",
        _session_path(),
        CONVERSATION_OPERATE,
        200,
        body=lambda w: {"mode": "human"},
        missing=_missing_session_path(),
    ),
    Endpoint("session delete", "DELETE", _session_path(), CONVERSATION_WRITE, 204, missing=_missing_session_path()),
    Endpoint(
        "customer message",
        "POST",
        _session_path("/messages"),
        CONVERSATION_WRITE,
        202,
        body=lambda w: {"text": "I want a refund"},
        missing=_missing_session_path("/messages"),
    ),
    Endpoint(
        "operator message",
        "POST",
        _session_path("/operator-messages"),
        CONVERSATION_OPERATE,
        201,
        body=lambda w: {"text": "Hi, a human here"},
        missing=_missing_session_path("/operator-messages"),
        prepare=_human_mode,
    ),
    Endpoint(
        "events list", "GET", _session_path("/events"), CONVERSATION_READ, 200, missing=_missing_session_path("/events")
    ),
    Endpoint(
        "events rewind",
        "DELETE",
        lambda w: f"/api/sessions/{w.session.uid}/events?from=1",
        CONVERSATION_WRITE,
        200,
        missing=lambda w: f"/api/sessions/{uuid.UUID(int=7)}/events?from=1",
    ),
    *_crud(
        "test case",
        "test-cases",
        parent="/agents/{w.agent.pk}",
        row=lambda w: w.case,
        create=lambda w: _test_case("greeting-again"),
        patch=lambda w: {"tags": ["smoke", "greetings"]},
        read=EVALUATION,
        write=EVALUATION,
    ),
    Endpoint(
        "test suite export",
        "GET",
        _agent_path("/test-cases/export"),
        EVALUATION,
        200,
        missing=_missing_agent_path("/test-cases/export"),
    ),
    Endpoint(
        "test suite import",
        "POST",
        _agent_path("/test-cases/import"),
        EVALUATION,
        200,
        body=lambda w: {"format": "decorum-test-suite", "version": 1, "cases": [_test_case("imported")]},
        missing=_missing_agent_path("/test-cases/import"),
    ),
    Endpoint(
        "test case from session",
        "POST",
        _agent_path("/test-cases/from-session"),
        EVALUATION,
        200,
        body=lambda w: {"session": str(w.session.uid)},
        missing=_missing_agent_path("/test-cases/from-session"),
    ),
    Endpoint(
        "test run create",
        "POST",
        _agent_path("/test-runs"),
        EVALUATION,
        201,
        body=lambda w: {"version": "draft", "tags": ["smoke"], "repeats": 2},
        missing=_missing_agent_path("/test-runs"),
    ),
    Endpoint(
        "test run list", "GET", _agent_path("/test-runs"), EVALUATION, 200, missing=_missing_agent_path("/test-runs")
    ),
    Endpoint(
        "test run get",
        "GET",
        lambda w: f"/api/agents/{w.agent.pk}/test-runs/{w.run.pk}",
        EVALUATION,
        200,
        missing=_agent_path(f"/test-runs/{MISSING_ID}"),
    ),
    Endpoint(
        "test run results list",
        "GET",
        lambda w: f"/api/agents/{w.agent.pk}/test-runs/{w.run.pk}/results",
        EVALUATION,
        200,
        missing=_agent_path(f"/test-runs/{MISSING_ID}/results"),
    ),
    Endpoint(
        "test run cancel",
        "POST",
        lambda w: f"/api/agents/{w.agent.pk}/test-runs/{w.run.pk}/cancel",
        EVALUATION,
        200,
        missing=_agent_path(f"/test-runs/{MISSING_ID}/cancel"),
    ),
    Endpoint(
        "test run compare",
        "GET",
        lambda w: f"/api/agents/{w.agent.pk}/test-runs/{w.run.pk}/compare?baseline={w.run.pk}",
        EVALUATION,
        200,
        missing=lambda w: f"/api/agents/{w.agent.pk}/test-runs/{MISSING_ID}/compare?baseline={w.run.pk}",
    ),
]


def call(client: ApiClient, endpoint: Endpoint, world: World, *, path: str | None = None, body: Any = None) -> Any:
    """Call `endpoint` in `world` (its own body unless `body` is given)."""
    payload = body if body is not None else (endpoint.body(world) if endpoint.body else None)
    return client.request(endpoint.method, path or endpoint.path(world), payload, content_type=endpoint.content_type)
