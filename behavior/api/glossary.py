"""Glossary terms of an agent."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from behavior.api.common import Id, agent_get
from behavior.schemas import GlossaryTermIn, GlossaryTermOut, GlossaryTermPatch, TaggedFilter
from behavior.selectors import glossary_term_get, glossary_term_list
from behavior.services.glossary import glossary_term_create, glossary_term_delete, glossary_term_update
from config.api_auth import BEHAVIOR_READ, BEHAVIOR_WRITE, api_actor, api_require_role
from config.api_schemas import Page, page_of, patch_of, responses

router = Router(tags=["glossary"])


@router.get("/glossary", response=responses({200: Page[GlossaryTermOut]}))
def glossary_list(request: HttpRequest, filters: Query[TaggedFilter]) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return page_of(glossary_term_list(agent_id=filters.agent, tag=filters.tag, q=filters.q), filters)


@router.post("/glossary", response=responses({201: GlossaryTermOut}))
def glossary_create(request: HttpRequest, payload: GlossaryTermIn) -> Any:
    """Create a term; names are unique per agent regardless of case."""
    api_require_role(request, BEHAVIOR_WRITE)
    term = glossary_term_create(
        agent=agent_get(payload.agent), data=payload.model_dump(exclude={"agent"}), actor=api_actor(request)
    )
    return Status(201, glossary_term_get(term.pk))


@router.get("/glossary/{int:term_id}", response=responses({200: GlossaryTermOut}))
def glossary_get(request: HttpRequest, term_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_READ)
    return glossary_term_get(term_id)


@router.patch("/glossary/{int:term_id}", response=responses({200: GlossaryTermOut}))
def glossary_update(request: HttpRequest, term_id: Id, payload: GlossaryTermPatch) -> Any:  # type: ignore[valid-type]
    api_require_role(request, BEHAVIOR_WRITE)
    term = glossary_term_update(
        glossary_term_get(term_id),
        data=patch_of(payload).changes(),
        actor=api_actor(request),
        revision=patch_of(payload).expected_revision(),
    )
    return glossary_term_get(term.pk)


@router.delete("/glossary/{int:term_id}", response=responses({204: None}))
def glossary_delete(request: HttpRequest, term_id: Id) -> Any:
    api_require_role(request, BEHAVIOR_WRITE)
    glossary_term_delete(glossary_term_get(term_id), actor=api_actor(request))
    return Status(204, None)
