"""Glossary terms: the domain vocabulary an agent must use correctly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from agents.models import Agent
from behavior.models import GlossaryTerm
from behavior.services.audit import Actor, delete_record, write_begin, write_finish
from behavior.services.rows import (
    conflict_on_integrity_error,
    fields_apply,
    invalid,
    row_clean,
    tags_resolve,
    unique_or_conflict,
)

GLOSSARY_FIELDS = ("name", "synonyms", "description")


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def _glossary_term_write(
    term: GlossaryTerm, data: Mapping[str, Any], *, actor: Actor, revision: int | None = None
) -> GlossaryTerm:
    before = write_begin(term, revision=revision)
    fields_apply(term, data, GLOSSARY_FIELDS)
    # Names are unique regardless of case, as in the behavior document ("PNR" and "pnr" are one term).
    unique_or_conflict(
        GlossaryTerm.objects.filter(agent_id=term.agent_id),
        field="name",
        lookup="iexact",
        value=term.name,
        what="A glossary term of this agent",
        exclude=term.pk,
    )
    folded = [synonym.casefold() for synonym in term.synonyms or [] if isinstance(synonym, str)]
    for index, synonym in enumerate(folded):
        if folded.index(synonym) != index:
            raise invalid(f"synonyms[{index}]", f"synonym {term.synonyms[index]!r} is listed twice")
    tags = tags_resolve(data["tags"]) if data.get("tags") is not None else None
    row_clean(term)
    with conflict_on_integrity_error(f"This agent already has a glossary term named {term.name!r}."):
        term.save()
        if tags is not None:
            term.tags.set(tags)
        write_finish(term, before, actor=actor)
    return term


def glossary_term_create(*, agent: Agent, data: Mapping[str, Any], actor: Actor) -> GlossaryTerm:
    """Create a glossary term from GLOSSARY_FIELDS and `tags` (names)."""
    return _glossary_term_write(GlossaryTerm(agent=agent), data, actor=actor)


def glossary_term_update(
    term: GlossaryTerm, *, data: Mapping[str, Any], actor: Actor, revision: int | None = None
) -> GlossaryTerm:
    return _glossary_term_write(term, data, actor=actor, revision=revision)


@transaction.atomic
def glossary_term_delete(term: GlossaryTerm, *, actor: Actor) -> None:
    delete_record(term, actor=actor)
    term.delete()
