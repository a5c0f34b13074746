"""API schemas of customers, sessions and events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import JsonValue, StringConstraints

from behavior.documents.schema import MAX_SMALL_LIST, TagName
from config.api_schemas import JSON_OBJECT_MAX_KEYS, InputSchema, ObjectId, QuerySchema, patch_schema
from sessions.models import Customer, Event, Session
from sessions.selectors import EVENTS_PAGE_MAX

LONG_POLL_MAX_SECONDS = 30


class CustomerIn(InputSchema):
    name: Annotated[str, StringConstraints(max_length=200)] = ""
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, description="Your system's id for this customer (unique)."
    )
    metadata: Annotated[dict[str, JsonValue], Field(max_length=JSON_OBJECT_MAX_KEYS)] = {}
    tags: Annotated[list[TagName], Field(max_length=MAX_SMALL_LIST)] = []


class CustomerOut(Schema):
    id: int
    name: str
    external_id: str | None
    metadata: dict[str, Any]
    tags: list[str]
    created_at: datetime

    @staticmethod
    def resolve_tags(customer: Customer) -> list[str]:
        return [tag.name for tag in customer.tags.all()]


CustomerPatch = patch_schema(CustomerIn)


class CustomerFilter(QuerySchema):
    tag: TagName | None = None
    external_id: Annotated[str, StringConstraints(max_length=200)] | None = None
    q: Annotated[str, StringConstraints(max_length=200)] | None = Field(None, description="Name contains.")


class SessionIn(InputSchema):
    agent: ObjectId
    customer: ObjectId
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    version: int | Literal["draft"] | None = Field(
        None, description='A version number, "draft", or absent for the agent\'s published version.'
    )


class SessionPatch(InputSchema):
    title: Annotated[str, StringConstraints(max_length=200)] | None = None
    mode: Literal["auto", "human"] | None = Field(
        None, description="human: a human operator takes the session over; auto: hand it back to the agent."
    )


class SessionOut(Schema):
    uid: str
    agent: int = Field(alias="agent_id")
    customer: int = Field(alias="customer_id")
    title: str
    source: str
    mode: str
    version: int | None = Field(description="The version number it runs; null runs the draft.")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_uid(session: Session) -> str:
        return str(session.uid)

    @staticmethod
    def resolve_version(session: Session) -> int | None:
        version = session.version if session.version_id else None
        return version.number if version is not None else None


class SessionFilter(QuerySchema):
    agent: ObjectId | None = None
    customer: ObjectId | None = None
    mode: Literal["auto", "human"] | None = None
    source: Literal["sandbox", "api", "widget"] | None = None


class MessageIn(InputSchema):
    text: str = Field(description="The message; at most MAX_CUSTOMER_MESSAGE_CHARS characters (413 above).")
    metadata: Annotated[dict[str, JsonValue], Field(max_length=JSON_OBJECT_MAX_KEYS)] | None = None


class OperatorMessageIn(InputSchema):
    text: str


class EventOut(Schema):
    id: int
    session: str
    offset: int
    kind: str
    source: str
    data: dict[str, Any]
    turn: int | None = Field(alias="turn_id")
    created_at: datetime

    @staticmethod
    def resolve_session(event: Event) -> str:
        return str(event.session.uid)


class EventsQuery(QuerySchema):
    after: int = Field(0, ge=0, le=2**31 - 1, description="Return events with an offset greater than this.")
    limit: int = Field(200, ge=1, le=EVENTS_PAGE_MAX)
    wait: float = Field(
        0,
        ge=0,
        le=LONG_POLL_MAX_SECONDS,
        description=f"Long poll: when nothing is newer than `after`, wait up to this many seconds (max {LONG_POLL_MAX_SECONDS}).",
    )


class EventsOut(Schema):
    events: list[EventOut]
    last_offset: int = Field(description="The highest offset returned, or `after` when none was.")


class EventsDeleteQuery(QuerySchema):
    from_: int = Field(alias="from", ge=1, le=2**31 - 1, description="Delete events with an offset ≥ this.")


class EventsDeletedOut(Schema):
    deleted: int
