"""Reads of canned responses."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from behavior.models import CannedResponse
from behavior.services.rows import row_get


def canned_response_list(
    *, agent_id: int | None = None, tag: str | None = None, q: str | None = None
) -> QuerySet[CannedResponse]:
    responses = CannedResponse.objects.prefetch_related("tags", "guidelines", "journey_states")
    if agent_id is not None:
        responses = responses.filter(agent_id=agent_id)
    if tag:
        responses = responses.filter(tags__name=tag)
    if q:
        responses = responses.filter(Q(key__icontains=q) | Q(template__icontains=q))
    return responses.order_by("agent_id", "key", "id")


def canned_response_get(response_id: int, *, agent_id: int | None = None) -> CannedResponse:
    return row_get(canned_response_list(agent_id=agent_id), response_id, what="canned response")
