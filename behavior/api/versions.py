"""Publishing versions, listing and diffing them, and exporting/importing behavior documents."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.text import slugify
from ninja import Path, Query, Router, Status
from pydantic import Field

from agents.models import Agent
from agents.schemas import AgentOut
from behavior.api.common import Id, agent_get
from behavior.models import BehaviorVersion
from behavior.schemas import DiffOut, PublishIn, VersionDetailOut, VersionOut
from behavior.selectors import version_get, version_list
from behavior.services import (
    MAX_DOCUMENT_BYTES,
    agent_export_document,
    agent_import_document,
    document_dump,
    document_load,
    version_diff,
    version_publish,
)
from config.api_auth import BEHAVIOR_READ, BEHAVIOR_WRITE, api_actor, api_require_role
from config.api_schemas import MAX_ID, Page, QuerySchema, page_of, responses, text_problem
from config.errors import DomainError, ValidationFailed

router = Router(tags=["versions, export and import"])

DRAFT = "draft"
YAML_CONTENT_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"})
VersionRef = Annotated[str, Path(pattern=r"^(draft|[1-9][0-9]{0,8})$", description="A version number or draft.")]


def _document_for(agent: Agent, ref: str) -> dict[str, Any]:
    """The document of version `ref` ("draft" for the agent's current draft)."""
    if ref == DRAFT:
        return agent_export_document(agent)
    return version_get(agent, int(ref)).document


@router.post("/agents/{int:agent_id}/publish", response=responses({201: VersionOut}))
def versions_publish(request: HttpRequest, agent_id: Id, payload: PublishIn | None = None) -> Any:
    """Freeze the agent's draft into the next numbered version and make it the published one. A draft
    with validation errors is refused (422, every error with its path)."""
    api_require_role(request, BEHAVIOR_WRITE)
    note = payload.note if payload is not None else ""
    version = version_publish(agent_get(agent_id), actor=api_actor(request), note=note)
    return Status(201, BehaviorVersion.objects.select_related("agent", "author").get(pk=version.pk))


@router.get("/agents/{int:agent_id}/versions", response=responses({200: Page[VersionOut]}))
def versions_list(request: HttpRequest, agent_id: Id, filters: Query[QuerySchema]) -> Any:
    """The agent's versions, newest first (without their documents)."""
    api_require_role(request, BEHAVIOR_READ)
    versions = version_list(agent_get(agent_id)).defer("document")
    return page_of(versions, filters)


@router.get("/agents/{int:agent_id}/versions/{int:number}", response=responses({200: VersionDetailOut}))
def versions_get(request: HttpRequest, agent_id: Id, number: Annotated[int, Path(ge=1, le=MAX_ID)]) -> Any:
    """One version with its frozen document."""
    api_require_role(request, BEHAVIOR_READ)
    version = version_get(agent_get(agent_id), number)
    return BehaviorVersion.objects.select_related("agent", "author").get(pk=version.pk)


@router.get("/agents/{int:agent_id}/versions/{base}/diff/{other}", response=responses({200: DiffOut}))
def versions_diff(request: HttpRequest, agent_id: Id, base: VersionRef, other: VersionRef) -> Any:
    """What changed from version `base` to version `other`; either may be `draft` (the current draft)."""
    api_require_role(request, BEHAVIOR_READ)
    agent = agent_get(agent_id)
    changes = version_diff(_document_for(agent, base), _document_for(agent, other))
    return {"base": base, "other": other, "changes": changes}


class ExportQuery(QuerySchema):
    format: Literal["json", "yaml"] = "json"
    version: Annotated[str, Field(pattern=r"^(draft|[1-9][0-9]{0,8})$")] = Field(
        DRAFT, description="draft (default) or a version number."
    )


@router.get(
    "/agents/{int:agent_id}/export",
    response=responses({200: dict[str, Any]}),
    openapi_extra={
        "responses": {
            200: {
                "description": "The behavior document",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "text/yaml": {"schema": {"type": "string"}},
                },
            }
        }
    },
)
def agents_export(request: HttpRequest, agent_id: Id, query: Query[ExportQuery]) -> HttpResponse:
    """The agent's behavior document (the draft, or a version) as JSON or YAML (text/yaml)."""
    api_require_role(request, BEHAVIOR_READ)
    agent = agent_get(agent_id)
    document = _document_for(agent, query.version)
    content_type = "application/json" if query.format == "json" else "text/yaml"
    response = HttpResponse(document_dump(document, query.format), content_type=f"{content_type}; charset=utf-8")
    filename = f"{slugify(agent.name) or 'agent'}-{query.version}.{query.format}"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class ImportQuery(QuerySchema):
    replace: int | None = Field(None, ge=1, le=MAX_ID, description="Replace the draft of this agent instead.")
    format: Literal["json", "yaml"] | None = Field(None, description="Overrides the Content-Type.")


@router.post(
    "/agents/import",
    response=responses({200: AgentOut, 201: AgentOut}),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": f"A behavior document (docs/behavior-format.md), at most {MAX_DOCUMENT_BYTES} bytes.",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/yaml": {"schema": {"type": "string"}},
            },
        }
    },
)
def agents_import(request: HttpRequest, query: Query[ImportQuery]) -> Any:
    """Import a behavior document: JSON, or YAML with Content-Type application/yaml. Creates a new agent
    (201), or with `?replace=<agent id>` replaces that agent's draft (200). Everything is validated first;
    on any error nothing changes and every problem is listed with its path."""
    api_require_role(request, BEHAVIOR_WRITE)
    replace_agent = agent_get(query.replace) if query.replace is not None else None
    fmt = query.format or ("yaml" if request.content_type in YAML_CONTENT_TYPES else "json")
    try:
        document = document_load(request.body, fmt)
    except ValidationFailed as error:
        # A body that does not even parse is a malformed request, not an invalid document.
        raise DomainError(error.message, details=error.details, code=f"invalid_{fmt}") from None
    problem = text_problem(document)
    if problem is not None:
        raise ValidationFailed(f"{problem[0]}: {problem[1]}", details=[{"path": problem[0], "message": problem[1]}])
    agent = agent_import_document(document, replace_agent=replace_agent, actor=api_actor(request))
    status = 200 if replace_agent is not None else 201
    return Status(status, agent_get(agent.pk))
