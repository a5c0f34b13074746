"""Tags: global labels that scope behavior entities (agent-, group- and journey-scoped)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from behavior.models import Tag
from behavior.services.audit import Actor, delete_record, write_begin, write_finish
from behavior.services.rows import conflict_on_integrity_error, row_clean, unique_or_conflict


@transaction.atomic  # all or nothing: a refused write leaves no tag or link behind
def _tag_write(tag: Tag, data: Mapping[str, Any], *, actor: Actor) -> Tag:
    before = write_begin(tag)
    if "name" in data:
        tag.name = data["name"]
    unique_or_conflict(Tag.objects.all(), field="name", value=tag.name, what="A tag", exclude=tag.pk)
    row_clean(tag)
    with conflict_on_integrity_error(f"A tag named {tag.name!r} already exists."):
        tag.save()
        write_finish(tag, before, actor=actor)
    return tag


def tag_create(*, data: Mapping[str, Any], actor: Actor) -> Tag:
    return _tag_write(Tag(), data, actor=actor)


def tag_update(tag: Tag, *, data: Mapping[str, Any], actor: Actor) -> Tag:
    """Rename a tag; every entity tagged with it keeps the tag."""
    return _tag_write(tag, data, actor=actor)


@transaction.atomic
def tag_delete(tag: Tag, *, actor: Actor) -> None:
    """Delete a tag: it is removed from every entity and the relationships and values keyed by it go too."""
    delete_record(tag, actor=actor)
    tag.delete()
