"""REST API of the behavior model: one router for the app, assembled from one module per resource."""

from __future__ import annotations

from ninja import Router

from behavior.api import (
    canned_responses,
    evaluations,
    glossary,
    guidelines,
    journeys,
    relationships,
    tags,
    variables,
    versions,
)

router = Router()
for module in (tags, guidelines, relationships, journeys, glossary, variables, canned_responses, versions, evaluations):
    router.add_router("", module.router)

__all__ = ["router"]
