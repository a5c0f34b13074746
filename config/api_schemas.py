"""Building blocks shared by every API router: input base classes, the error body, pages and PATCH schemas."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, ClassVar, Generic, Protocol, TypeVar, cast

from django.db.models import QuerySet
from ninja import Field, Schema
from pydantic import ConfigDict, ValidationInfo, create_model, field_validator

# Database ids are 64-bit; anything larger would overflow the query instead of simply not matching.
MAX_ID = 2**63 - 1
ObjectId = Annotated[int, Field(ge=1, le=MAX_ID)]
PAGE_DEFAULT_LIMIT = 50
PAGE_MAX_LIMIT = 200
PAGE_MAX_OFFSET = 1_000_000
JSON_OBJECT_MAX_KEYS = 200

ItemT = TypeVar("ItemT")


def text_problem(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first string (or key) that a database cannot store: NUL characters (PostgreSQL refuses them in
    text and jsonb) and lone surrogates (not encodable as UTF-8). Returns (path, message) or None."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where, "Text must not contain NUL characters."
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return where, "Text must be valid Unicode (no lone surrogates)."
        elif isinstance(item, Mapping):
            for key, child in item.items():
                child_path = f"{where}.{key}" if where else str(key)
                if isinstance(key, str):
                    stack.append((child_path, key))
                stack.append((child_path, child))
        elif isinstance(item, list | tuple):
            stack.extend((f"{where}[{index}]", child) for index, child in enumerate(item))
    return None


class CleanSchema(Schema):
    """Refuses text a database cannot store, in any field (nested values included)."""

    model_config = ConfigDict(allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        problem = text_problem(value)
        if problem is not None:
            where, message = problem
            raise ValueError(f"{where}: {message}" if where else message)
        return value


class InputSchema(CleanSchema):
    """A request body: unknown fields are errors, so a typo is reported instead of silently ignored."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class PatchSchema(InputSchema):
    """A partial update: only the fields sent are changed; null is refused for fields that cannot be null."""

    nullable_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _no_null_for_required(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable_fields:
            raise ValueError("must not be null (leave the field out to keep its value)")
        return value

    def changes(self) -> dict[str, Any]:
        """The fields present in the request body, as plain Python data (without `revision`)."""
        return self.model_dump(include=set(self.model_fields_set) - {"revision"})

    def expected_revision(self) -> int | None:
        """The `revision` the client last saw (the update is refused with 409 when it is stale), or None."""
        value = getattr(self, "revision", None)
        return int(value) if value is not None else None


def patch_schema(source: type[Schema], *, exclude: Iterable[str] = (), name: str | None = None) -> type[PatchSchema]:
    """A PATCH schema with the fields (and constraints) of `source`, every field optional.

    Fields whose default in `source` is None stay nullable; the others refuse an explicit null.
    """
    excluded = set(exclude)
    fields: dict[str, Any] = {}
    nullable: set[str] = set()
    for field_name, info in source.model_fields.items():
        if field_name in excluded:
            continue
        if info.default is None:
            nullable.add(field_name)
        fields[field_name] = (info.rebuild_annotation() | None, Field(None, description=info.description))
    nullable.add("revision")
    fields["revision"] = (
        int | None,
        Field(
            None,
            ge=1,
            le=2**31 - 1,
            description="The revision you last read; when someone changed the entity since, the update is refused "
            "(409 stale_revision) instead of overwriting their change.",
        ),
    )
    model_name = name or f"{source.__name__.removesuffix('In')}Patch"
    model = create_model(model_name, __base__=PatchSchema, **fields)
    model.nullable_fields = frozenset(nullable)
    return model


class QuerySchema(CleanSchema):
    """Query parameters: pagination for list endpoints (extra parameters are ignored, as browsers add some)."""

    limit: int = Field(PAGE_DEFAULT_LIMIT, ge=1, le=PAGE_MAX_LIMIT, description=f"At most {PAGE_MAX_LIMIT}.")
    offset: int = Field(0, ge=0, le=PAGE_MAX_OFFSET)


class Page(Schema, Generic[ItemT]):
    items: list[ItemT]
    count: int = Field(description="Total number of matching items.")
    limit: int
    offset: int


def page_of(queryset: QuerySet[Any], query: QuerySchema) -> dict[str, Any]:
    """One page of a queryset with the total count, as the fields of `Page`."""
    return {
        "items": list(queryset[query.offset : query.offset + query.limit]),
        "count": queryset.count(),
        "limit": query.limit,
        "offset": query.offset,
    }


class ErrorDetail(Schema):
    path: str
    message: str


class ErrorOut(Schema):
    code: str = Field(description="Stable machine-readable error code.")
    message: str
    details: Any = Field(None, description="For validation errors, a list of {path, message}.")


ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422)
ERRORS: dict[int, type[Schema]] = dict.fromkeys(ERROR_STATUSES, ErrorOut)


def responses(ok: dict[int, Any]) -> dict[int, Any]:
    """An operation's response map: its success schemas plus the JSON error body for every error status."""
    return {**ok, **ERRORS}


class Patch(Protocol):
    """What every PATCH payload offers the route (ninja builds the schema classes at import time, so the routes'
    annotations cannot name them as types)."""

    def changes(self) -> dict[str, Any]: ...

    def expected_revision(self) -> int | None: ...


def patch_of(payload: object) -> Patch:
    return cast(Patch, payload)
