"""Tags: global labels that scope behavior entities."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from behavior.api.common import Id
from behavior.schemas import TagFilter, TagIn, TagOut, TagPatch
from behavior.selectors import tag_get, tag_list
from behavior.services.tags import tag_create, tag_delete, tag_update
from config.api_auth import BEHAVIOR_READ, BEHAVIOR_WRITE, api_actor, api_require_role
from config.api_schemas import Page, page_of, patch_of, responses

router = Router(tags=["tags"])


@router.get("/tags", response=responses({200: Page[TagOut]}))
def tags_list(request: HttpRequest, filters: Query[TagFilter]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return page_of(tag_list(q=filters.q), filters)


@router.post("/tags", response=responses({201: TagOut}))
def tags_create(request: HttpRequest, payload: TagIn) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    return Status(201, tag_create(data=payload.model_dump(), actor=api_actor(request)))


@router.get("/tags/{int:tag_id}", response=responses({200: TagOut}))
def tags_get(request: HttpRequest, tag_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return tag_get(tag_id)


@router.patch("/tags/{int:tag_id}", response=responses({200: TagOut}))
def tags_update(request: HttpRequest, tag_id: Id, payload: TagPatch) -> Any:  # type: ignore[valid-type]
    """Rename a tag (tags are shared by every agent)."""
    api_require_role(request, BEHAVIOR_WRITE)
    return tag_update(tag_get(tag_id), data=patch_of(payload).changes(), actor=api_actor(request))


@router.delete("/tags/{int:tag_id}", response=responses({204: None}))
def tags_delete(request: HttpRequest, tag_id: Id) -> Any:
    """Delete a tag: every entity loses it, and relationships and values keyed by it are deleted."""
    api_require_role(request, BEHAVIOR_WRITE)
    tag_delete(tag_get(tag_id), actor=api_actor(request))
    return Status(204, None)
