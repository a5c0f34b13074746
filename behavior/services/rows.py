"""Helpers the CRUD services share: validate a row and map Django's errors to domain errors, find the rows
an input refers to, and resolve tag names."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction

from behavior.models import Tag
from behavior.validation.rules import NAME_MAX_LENGTH
from config.errors import Conflict, NotFound, ValidationFailed

RowT = TypeVar("RowT", bound=models.Model)


def validation_details(error: DjangoValidationError, *, prefix: str = "") -> list[dict[str, str]]:
    """Django's ValidationError as [{path, message}], paths prefixed (e.g. `parameters[0].`)."""
    base = prefix.rstrip(".")
    if hasattr(error, "error_dict"):
        details: list[dict[str, str]] = []
        for field, errors in error.message_dict.items():
            path = base if field == NON_FIELD_ERRORS else f"{prefix}{field}"
            details.extend({"path": path, "message": message} for message in errors)
        return details
    return [{"path": base, "message": message} for message in error.messages]


def validation_failed(details: list[dict[str, str]]) -> ValidationFailed:
    first = details[0] if details else {"path": "", "message": "The input is not valid."}
    where = f"{first['path']}: " if first["path"] else ""
    return ValidationFailed(f"{where}{first['message']}", details=details)


def invalid(path: str, message: str) -> ValidationFailed:
    """A one-field validation error."""
    return validation_failed([{"path": path, "message": message}])


def row_clean(row: models.Model, *, prefix: str = "", exclude: Iterable[str] | None = None) -> None:
    """Run the model's validation (fields, clean(), constraints); ValidationFailed with field paths on error."""
    try:
        row.full_clean(exclude=list(exclude) if exclude is not None else None, validate_unique=False)
    except DjangoValidationError as error:
        raise validation_failed(validation_details(error, prefix=prefix)) from None


def unique_or_conflict(
    queryset: models.QuerySet[Any], *, field: str, value: Any, what: str, exclude: Any = None, lookup: str = "exact"
) -> None:
    """Raise Conflict (409) naming the field when another row in `queryset` already has this value."""
    clash = queryset.filter(**{f"{field}__{lookup}": value})
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise Conflict(
            f"{what} with {field} {value!r} already exists.",
            details=[{"path": field, "message": f"{value!r} is already taken"}],
        )


@contextmanager
def conflict_on_integrity_error(message: str) -> Iterator[None]:
    """Run a write atomically; a unique constraint hit by a concurrent request becomes a Conflict."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as error:
        raise Conflict(message, details=[{"path": "", "message": str(error).splitlines()[0][:300]}]) from None


def row_get(queryset: models.QuerySet[RowT], pk: int, *, what: str) -> RowT:
    """The row with this id, or NotFound (404)."""
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise NotFound(f"No {what} with id {pk}.")
    return row


def rows_referenced(queryset: models.QuerySet[RowT], ids: Sequence[int], *, path: str, what: str) -> list[RowT]:
    """The rows for `ids`, in order, from `queryset` (already narrowed to what may be referenced, e.g. one
    agent's tools); ValidationFailed naming each unknown or duplicate id."""
    found = {row.pk: row for row in queryset.filter(pk__in=set(ids))}
    details = []
    seen: set[int] = set()
    for index, pk in enumerate(ids):
        if pk not in found:
            details.append({"path": f"{path}[{index}]", "message": f"no {what} with id {pk}"})
        elif pk in seen:
            details.append({"path": f"{path}[{index}]", "message": f"{what} {pk} is listed twice"})
        seen.add(pk)
    if details:
        raise validation_failed(details)
    return [found[pk] for pk in ids]


def row_referenced(queryset: models.QuerySet[RowT], pk: int | None, *, path: str, what: str) -> RowT | None:
    """The row for one optional id reference, or ValidationFailed when it is not in `queryset`."""
    if pk is None:
        return None
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise invalid(path, f"no {what} with id {pk}")
    return row


def tags_resolve(names: Sequence[str], *, path: str = "tags") -> list[Tag]:
    """Tag rows for `names`, creating missing tags (tags are global labels, named by their users)."""
    details = []
    for index, name in enumerate(names):
        if names.index(name) != index:
            details.append({"path": f"{path}[{index}]", "message": f"tag {name!r} is listed twice"})
        elif not isinstance(name, str) or not name or len(name) > NAME_MAX_LENGTH:
            details.append({"path": f"{path}[{index}]", "message": "a tag name has 1 to 100 characters"})
    if details:
        raise validation_failed(details)
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    tags = []
    for index, name in enumerate(names):
        tag = existing.get(name)
        if tag is None:
            tag = Tag(name=name)
            row_clean(tag, prefix=f"{path}[{index}].")
            tag, _created = Tag.objects.get_or_create(name=name)
            existing[name] = tag
        tags.append(tag)
    return tags


def fields_apply(row: models.Model, values: Mapping[str, Any], fields: Iterable[str]) -> None:
    """Copy the given plain fields from `values` onto `row` (only those present)."""
    for field in fields:
        if field in values:
            setattr(row, field, values[field])
