"""Plain factory functions for the shared test world: sensible defaults, keyword overrides."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from agents.models import Agent, Tool, ToolParameter
from behavior.models import Guideline, Journey, JourneyState, JourneyTransition, Tag
from sessions.models import Customer, Session
from sessions.services import customer_create, session_create

PASSWORD = "correct-horse-battery-staple"
_sequence = itertools.count(1)


def _next() -> int:
    return next(_sequence)


def make_user(username: str | None = None, *roles: str, superuser: bool = False, **fields: Any) -> Any:
    """A user with a known password (PASSWORD) who is a member of the given role groups."""
    is_staff = fields.pop("is_staff", False) or superuser
    user = get_user_model().objects.create_user(
        username=username or f"user{_next()}", password=PASSWORD, is_superuser=superuser, is_staff=is_staff, **fields
    )
    for role in roles:
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
    return user


def make_tag(name: str) -> Tag:
    tag, _ = Tag.objects.get_or_create(name=name)
    return tag


def make_agent(name: str | None = None, **fields: Any) -> Agent:
    fields.setdefault("description", "You are a helpful assistant.")
    return Agent.objects.create(name=name or f"Agent {_next()}", **fields)


def make_guideline(
    agent: Agent,
    key: str | None = None,
    *,
    condition: str = "The customer asks for help",
    action: str | None = "Offer help",
    tags: Iterable[Tag] = (),
    **fields: Any,
) -> Guideline:
    """A guideline (pass action=None for an observation)."""
    guideline = Guideline.objects.create(
        agent=agent, key=key or f"guideline-{_next()}", condition=condition, action=action, **fields
    )
    if tags:
        guideline.tags.add(*tags)
    return guideline


def make_tool(
    agent: Agent, name: str | None = None, *, parameters: Sequence[dict[str, Any]] = (), **fields: Any
) -> Tool:
    """A python tool; `parameters` are ToolParameter field dicts ({"name": ..., "type": ...})."""
    tool = Tool.objects.create(agent=agent, name=name or f"tool_{_next()}", description="Does a thing", **fields)
    for position, parameter in enumerate(parameters):
        ToolParameter.objects.create(tool=tool, position=position, **parameter)
    return tool


def make_journey(
    agent: Agent,
    key: str | None = None,
    *,
    states: Sequence[str | dict[str, Any]] = ("start", "end"),
    transitions: Sequence[tuple[str, str] | tuple[str, str, str | None]] | None = None,
    **fields: Any,
) -> Journey:
    """A journey with states (keys, or JourneyState field dicts with "key") and transitions (source, target[, condition]).

    The first state is initial unless a dict says otherwise; the default transitions chain the states in order.
    """
    journey_key = key or f"journey-{_next()}"
    journey = Journey.objects.create(agent=agent, key=journey_key, title=fields.pop("title", journey_key), **fields)
    by_key: dict[str, JourneyState] = {}
    for position, state in enumerate(states):
        spec: dict[str, Any] = {"key": state} if isinstance(state, str) else dict(state)
        spec.setdefault("initial", position == 0)
        spec.setdefault("action", f"Do {spec['key']}")
        by_key[spec["key"]] = JourneyState.objects.create(journey=journey, position=position, **spec)
    keys = list(by_key)
    pairs = transitions if transitions is not None else list(itertools.pairwise(keys))
    for pair in pairs:
        source, target, *rest = pair
        JourneyTransition.objects.create(
            journey=journey, source=by_key[source], target=by_key[target], condition=rest[0] if rest else None
        )
    return journey


def make_customer(name: str = "Ada Lovelace", **fields: Any) -> Customer:
    return customer_create(name=name, **fields)


def make_session(agent: Agent, customer: Customer | None = None, *, source: str = "sandbox", **fields: Any) -> Session:
    return session_create(agent=agent, customer=customer or make_customer(), source=source, **fields)
