"""Canned responses of an agent."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Status

from behavior.api.common import Id, agent_get
from behavior.models import CannedResponse
from behavior.schemas import CannedResponseIn, CannedResponseOut, CannedResponsePatch, TaggedFilter
from behavior.services.canned_responses import canned_response_create, canned_response_delete, canned_response_update
from behavior.services.rows import row_get
from config.api_auth import BEHAVIOR_READ, BEHAVIOR_WRITE, api_require_role
from config.api_schemas import Page, page_of, responses

router = Router(tags=["canned responses"])


def responses_queryset() -> QuerySet[CannedResponse]:
    return CannedResponse.objects.prefetch_related("tags", "guidelines", "journey_states").order_by(
        "agent_id", "key", "id"
    )


def response_get(response_id: int) -> CannedResponse:
    return row_get(responses_queryset(), response_id, what="canned response")


@router.get("/canned-responses", response=responses({200: Page[CannedResponseOut]}))
def canned_list(request: HttpRequest, filters: Query[TaggedFilter]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    canned = responses_queryset()
    if filters.agent:
        canned = canned.filter(agent_id=filters.agent)
    if filters.tag:
        canned = canned.filter(tags__name=filters.tag)
    if filters.q:
        canned = canned.filter(Q(key__icontains=filters.q) | Q(template__icontains=filters.q))
    return page_of(canned, filters)


@router.post("/canned-responses", response=responses({201: CannedResponseOut}))
def canned_create(request: HttpRequest, payload: CannedResponseIn) -> Any:
    """Create a canned response; every template field must be built in or declared (an unknown one is named)."""
    api_require_role(request, BEHAVIOR_WRITE)
    canned = canned_response_create(agent=agent_get(payload.agent), data=payload.model_dump(exclude={"agent"}))
    return Status(201, response_get(canned.pk))


@router.get("/canned-responses/{int:response_id}", response=responses({200: CannedResponseOut}))
def canned_get(request: HttpRequest, response_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return response_get(response_id)


@router.patch("/canned-responses/{int:response_id}", response=responses({200: CannedResponseOut}))
def canned_update(request: HttpRequest, response_id: Id, payload: CannedResponsePatch) -> Any:  # type: ignore[valid-type]
    api_require_role(request, BEHAVIOR_WRITE)
    canned = canned_response_update(response_get(response_id), data=payload.changes())  # type: ignore[attr-defined]
    return response_get(canned.pk)


@router.delete("/canned-responses/{int:response_id}", response=responses({204: None}))
def canned_delete(request: HttpRequest, response_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    canned_response_delete(response_get(response_id))
    return Status(204, None)
