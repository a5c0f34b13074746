"""Guidelines and observations of an agent's draft."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from behavior.api.common import Id, agent_get
from behavior.schemas import GuidelineFilter, GuidelineIn, GuidelineOut, GuidelinePatch
from behavior.selectors import guideline_get, guideline_list
from behavior.services.guidelines import guideline_create, guideline_delete, guideline_update
from config.api_auth import BEHAVIOR_READ, BEHAVIOR_WRITE, api_actor, api_require_role
from config.api_schemas import Page, page_of, patch_of, responses

router = Router(tags=["guidelines"])


@router.get("/guidelines", response=responses({200: Page[GuidelineOut]}))
def guidelines_list(request: HttpRequest, filters: Query[GuidelineFilter]) -> Any:
    """Guidelines, filterable by agent, tag, enabled, observation and text (key, title, condition, action)."""
    api_require_role(request, BEHAVIOR_READ)
    guidelines = guideline_list(
        agent_id=filters.agent,
        q=filters.q,
        tag=filters.tag,
        enabled=filters.enabled,
        observation=filters.observation,
    )
    return page_of(guidelines, filters)


@router.post("/guidelines", response=responses({201: GuidelineOut}))
def guidelines_create(request: HttpRequest, payload: GuidelineIn) -> Any:
    """Create a guideline ("when condition, then action"); without an action it is an observation."""
    api_require_role(request, BEHAVIOR_WRITE)
    guideline = guideline_create(
        agent=agent_get(payload.agent), data=payload.model_dump(exclude={"agent"}), actor=api_actor(request)
    )
    return Status(201, guideline_get(guideline.pk))


@router.get("/guidelines/{int:guideline_id}", response=responses({200: GuidelineOut}))
def guidelines_get(request: HttpRequest, guideline_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return guideline_get(guideline_id)


@router.patch("/guidelines/{int:guideline_id}", response=responses({200: GuidelineOut}))
def guidelines_update(request: HttpRequest, guideline_id: Id, payload: GuidelinePatch) -> Any:  # type: ignore[valid-type]
    api_require_role(request, BEHAVIOR_WRITE)
    guideline = guideline_update(
        guideline_get(guideline_id),
        data=patch_of(payload).changes(),
        actor=api_actor(request),
        revision=patch_of(payload).expected_revision(),
    )
    return guideline_get(guideline.pk)


@router.delete("/guidelines/{int:guideline_id}", response=responses({204: None}))
def guidelines_delete(request: HttpRequest, guideline_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    guideline_delete(guideline_get(guideline_id), actor=api_actor(request))
    return Status(204, None)
