"""Reads of tags (global labels)."""

from __future__ import annotations

from django.db.models import QuerySet

from behavior.models import Tag
from behavior.services.rows import row_get


def tag_list(*, q: str | None = None) -> QuerySet[Tag]:
    tags = Tag.objects.all()
    if q:
        tags = tags.filter(name__icontains=q)
    return tags.order_by("name")


def tag_get(tag_id: int) -> Tag:
    return row_get(Tag.objects.all(), tag_id, what="tag")
