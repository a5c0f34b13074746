"""Reads of glossary terms."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from behavior.models import GlossaryTerm
from behavior.services.rows import row_get


def glossary_term_list(
    *, agent_id: int | None = None, tag: str | None = None, q: str | None = None
) -> QuerySet[GlossaryTerm]:
    """Terms by name; `q` searches the name, the description and the synonyms."""
    terms = GlossaryTerm.objects.prefetch_related("tags")
    if agent_id is not None:
        terms = terms.filter(agent_id=agent_id)
    if tag:
        terms = terms.filter(tags__name=tag)
    if q:
        terms = terms.filter(Q(name__icontains=q) | Q(description__icontains=q) | Q(synonyms__icontains=q))
    return terms.order_by("agent_id", "name", "id")


def glossary_term_get(term_id: int, *, agent_id: int | None = None) -> GlossaryTerm:
    return row_get(glossary_term_list(agent_id=agent_id), term_id, what="glossary term")
