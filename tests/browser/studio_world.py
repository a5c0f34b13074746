"""Agents the studio's browser tests look at besides the demo: an empty one, one with 1,000 guidelines and one
whose texts are very long or hostile. Run inside the live app's database:
`manage.py shell -c "from tests.browser.studio_world import studio_world_seed; studio_world_seed()"`."""

from __future__ import annotations

import itertools
from typing import Any

from agents.models import Agent
from behavior.models import (
    CannedResponse,
    ContextVariable,
    GlossaryTerm,
    Guideline,
    Journey,
    JourneyState,
    JourneyTransition,
    Tag,
)

EMPTY_AGENT = "Empty Agent"
MANY_AGENT = "Thousand Guidelines"
LONG_AGENT = "Long Texts " + "W" * 60
HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(1)>"
LONG_WORD = "Supercalifragilisticexpialidocious" * 6
LONG_TEXT = ("The customer explains at great length, " * 80).strip()


def _many(agent: Agent, count: int) -> None:
    billing, _ = Tag.objects.get_or_create(name="billing")
    guidelines = [
        Guideline(
            agent=agent,
            key=f"rule-{index:04d}",
            title=f"Rule {index}",
            condition=f"The customer asks about topic number {index} and wants a clear answer",
            action=None if index % 7 == 0 else f"Answer question {index} briefly and offer more help",
            priority=index % 5,
            enabled=index % 11 != 0,
        )
        for index in range(count)
    ]
    Guideline.objects.bulk_create(guidelines)
    through = Guideline.tags.through
    through.objects.bulk_create(
        [through(guideline_id=row.pk, tag_id=billing.pk) for row in Guideline.objects.filter(agent=agent)[::3]]
    )


def _long(agent: Agent) -> None:
    Guideline.objects.create(
        agent=agent, key="long-" + "k" * 80, title=LONG_WORD[:200], condition=LONG_TEXT, action=LONG_TEXT
    )
    Guideline.objects.create(agent=agent, key="hostile", title=HOSTILE, condition=HOSTILE, action=HOSTILE)
    GlossaryTerm.objects.create(
        agent=agent, name=LONG_WORD[:100], description=LONG_TEXT, synonyms=[LONG_WORD[:90], HOSTILE]
    )
    CannedResponse.objects.create(agent=agent, key="hostile-reply", template=f"{HOSTILE} {LONG_TEXT}")
    ContextVariable.objects.create(agent=agent, name="very_long_variable_name_" + "x" * 40, description=LONG_TEXT)
    journey = Journey.objects.create(agent=agent, key="long-journey", title=LONG_WORD[:200], description=HOSTILE)
    states = [
        JourneyState.objects.create(
            journey=journey,
            key=f"step-{index}",
            action=f"{HOSTILE} {LONG_TEXT[:300]}",
            initial=index == 0,
            position=index,
        )
        for index in range(5)
    ]
    for source, target in itertools.pairwise(states):
        JourneyTransition.objects.create(journey=journey, source=source, target=target, condition=LONG_TEXT[:400])


def studio_world_seed(*, many: int = 1000) -> dict[str, Any]:
    """Create the three agents (once); their ids by name."""
    created = {}
    for name, fill in ((EMPTY_AGENT, None), (MANY_AGENT, lambda agent: _many(agent, many)), (LONG_AGENT, _long)):
        agent, fresh = Agent.objects.get_or_create(
            name=name, defaults={"description": LONG_TEXT if fill is _long else ""}
        )
        if fresh and fill is not None:
            fill(agent)
        created[name] = agent.pk
    return created
