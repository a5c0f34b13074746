"""Canned responses of an agent."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from behavior.api.common import Id, agent_get
from behavior.schemas import CannedResponseIn, CannedResponseOut, CannedResponsePatch, TaggedFilter
from behavior.selectors import canned_response_get, canned_response_list
from behavior.services.canned_responses import canned_response_create, canned_response_delete, canned_response_update
from config.api_auth import BEHAVIOR_READ, BEHAVIOR_WRITE, api_actor, api_require_role
from config.api_schemas import Page, page_of, patch_of, responses

router = Router(tags=["canned responses"])


@router.get("/canned-responses", response=responses({200: Page[CannedResponseOut]}))
def canned_list(request: HttpRequest, filters: Query[TaggedFilter]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return page_of(canned_response_list(agent_id=filters.agent, tag=filters.tag, q=filters.q), filters)


@router.post("/canned-responses", response=responses({201: CannedResponseOut}))
def canned_create(request: HttpRequest, payload: CannedResponseIn) -> Any:
    """Create a canned response; every template field must be built in or declared (an unknown one is named)."""
    api_require_role(request, BEHAVIOR_WRITE)
    canned = canned_response_create(
        agent=agent_get(payload.agent), data=payload.model_dump(exclude={"agent"}), actor=api_actor(request)
    )
    return Status(201, canned_response_get(canned.pk))


@router.get("/canned-responses/{int:response_id}", response=responses({200: CannedResponseOut}))
def canned_get(request: HttpRequest, response_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return canned_response_get(response_id)


@router.patch("/canned-responses/{int:response_id}", response=responses({200: CannedResponseOut}))
def canned_update(request: HttpRequest, response_id: Id, payload: CannedResponsePatch) -> Any:  # type: ignore[valid-type]
    api_require_role(request, BEHAVIOR_WRITE)
    canned = canned_response_update(
        canned_response_get(response_id),
        data=patch_of(payload).changes(),
        actor=api_actor(request),
        revision=patch_of(payload).expected_revision(),
    )
    return canned_response_get(canned.pk)


@router.delete("/canned-responses/{int:response_id}", response=responses({204: None}))
def canned_delete(request: HttpRequest, response_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    canned_response_delete(canned_response_get(response_id), actor=api_actor(request))
    return Status(204, None)
